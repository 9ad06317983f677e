package dev.proxyfilter.cache.proxy;

import static dev.proxyfilter.cache.proxy.CacheProxy.cacheStatus;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.cache.proxy.CacheProxy.Reply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** RFC 9111 §4.1 (calculating cache keys with {@code Vary}) through the real proxy. */
@Timeout(30)
class VaryThroughProxyIntegrationTest {
    private final CacheProxy cache = CacheProxy.start();

    @AfterEach
    void close() {
        cache.close();
    }

    @Test
    void section4_1_eachVariantIsStoredUnderItsSelectingHeader() throws Exception {
        cache.script(
                "/v",
                r -> Reply.ok(r.header("Accept-Language") + r.n())
                        .cc("max-age=60")
                        .header("Vary", "Accept-Language"));

        cache.get("/v", "Accept-Language", "en");
        var fr = cache.get("/v", "Accept-Language", "fr");
        var en = cache.get("/v", "Accept-Language", "en");
        var fr2 = cache.get("/v", "Accept-Language", "fr");

        assertThat(cacheStatus(fr)).contains("fwd=vary-miss");
        assertThat(en.body()).isEqualTo("en1");
        assertThat(fr2.body()).isEqualTo("fr2");
        assertThat(cache.count("/v")).isEqualTo(2);
    }

    @Test
    void section4_1_selectingValuesAreNormalisedForWhitespaceAndHeaderNameCase() throws Exception {
        cache.script("/n", r -> Reply.ok("n" + r.n()).cc("max-age=60").header("Vary", "accept-encoding"));

        cache.get("/n", "Accept-Encoding", "gzip,br");
        var spaced = cache.get("/n", "ACCEPT-ENCODING", "gzip, br");
        var other = cache.get("/n", "Accept-Encoding", "br");

        assertThat(spaced.body()).isEqualTo("n1");
        assertThat(other.body()).isEqualTo("n2");
    }

    @Test
    void section4_1_anAbsentHeaderSelectsOnlyRequestsWithoutIt() throws Exception {
        cache.script("/a", r -> Reply.ok("a" + r.n()).cc("max-age=60").header("Vary", "X-Tenant"));

        cache.get("/a");
        assertThat(cache.get("/a").body()).isEqualTo("a1");
        assertThat(cache.get("/a", "X-Tenant", "t").body()).isEqualTo("a2");
    }

    @Test
    void section4_1_varyStarIsNeverServedFromTheCache() throws Exception {
        cache.script("/star", r -> Reply.ok("s" + r.n()).cc("max-age=60").header("Vary", "*"));

        cache.get("/star");
        var second = cache.get("/star");

        assertThat(second.body()).isEqualTo("s2");
        assertThat(cacheStatus(second)).doesNotContain("hit").doesNotContain("stored");
    }
}
