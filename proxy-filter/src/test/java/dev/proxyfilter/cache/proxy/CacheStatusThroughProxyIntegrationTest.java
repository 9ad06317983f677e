package dev.proxyfilter.cache.proxy;

import static dev.proxyfilter.cache.proxy.CacheProxy.cacheStatus;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.cache.proxy.CacheProxy.Reply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * RFC 9211 (the {@code Cache-Status} response field) through the real proxy: {@code hit}, {@code fwd} with
 * {@code uri-miss}, {@code vary-miss}, {@code stale}, {@code request}, {@code fwd-status}, {@code stored},
 * {@code ttl} and {@code collapsed} (see {@link CoalescingThroughProxyIntegrationTest}). {@code stored} is only said
 * when the whole response is known to be going into the cache.
 */
@Timeout(30)
class CacheStatusThroughProxyIntegrationTest {
    private final CacheProxy cache = CacheProxy.start();

    @AfterEach
    void close() {
        cache.close();
    }

    @Test
    void rfc9211_section2_uriMissStoredThenHitWithTtl() throws Exception {
        cache.script("/a", r -> Reply.ok("a").cc("max-age=60"));

        assertThat(cacheStatus(cache.get("/a"))).isEqualTo("proxy-filter; fwd=uri-miss; fwd-status=200; stored");
        cache.advanceSeconds(20);
        assertThat(cacheStatus(cache.get("/a"))).isEqualTo("proxy-filter; hit; ttl=40");
    }

    @Test
    void rfc9211_section2_2_varyMissStaleAndRequest() throws Exception {
        cache.script("/v", r -> Reply.ok("v").cc("max-age=10").header("Vary", "Accept-Language"));

        cache.get("/v", "Accept-Language", "en");
        assertThat(cacheStatus(cache.get("/v", "Accept-Language", "de"))).contains("fwd=vary-miss");
        assertThat(cacheStatus(cache.get("/v", "Accept-Language", "en", "Cache-Control", "no-cache")))
                .contains("fwd=request");
        cache.advanceSeconds(11);
        assertThat(cacheStatus(cache.get("/v", "Accept-Language", "en")))
                .contains("fwd=stale")
                .contains("ttl=-1");
    }

    @Test
    void rfc9211_section2_5_storedIsNotSaidForAResponseThatIsNotStored() throws Exception {
        cache.script("/ns", r -> Reply.ok("ns").cc("no-store"));
        cache.script("/big", r -> Reply.ok("x".repeat(5000)).cc("max-age=60"));

        assertThat(cacheStatus(cache.get("/ns"))).doesNotContain("stored").contains("detail=no-store");
        assertThat(cacheStatus(cache.get("/big"))).doesNotContain("stored").contains("detail=too-large");
    }

    @Test
    void rfc9211_section2_5_aBodyOfUnknownLengthIsNotAnnouncedAsStoredButIsStoredWhenItFits() throws Exception {
        cache.script(
                "/chunked", r -> Reply.ok("chunk " + r.n()).cc("max-age=60").chunked());
        cache.script(
                "/chunkedbig", r -> Reply.ok("y".repeat(5000)).cc("max-age=60").chunked());

        var first = cache.get("/chunked");
        var second = cache.get("/chunked");
        var big = cache.get("/chunkedbig");
        cache.get("/chunkedbig");

        assertThat(first.headers().firstValue("Content-Length")).isEmpty();
        assertThat(cacheStatus(first)).isEqualTo("proxy-filter; fwd=uri-miss; fwd-status=200");
        assertThat(cacheStatus(second)).contains("hit");
        assertThat(big.body()).hasSize(5000);
        assertThat(cacheStatus(big)).doesNotContain("stored");
        assertThat(cache.count("/chunkedbig")).isEqualTo(2);
    }
}
