package dev.proxyfilter.cache.proxy;

import static dev.proxyfilter.cache.proxy.CacheProxy.cacheStatus;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.cache.proxy.CacheProxy.Reply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * RFC 9111 §4.2 (freshness, §4.2.3 the age calculation) and §5.1 ({@code Age}), and the request directives
 * of §5.2.1 plus {@code Pragma} (§5.4), through the real proxy on the fake clock.
 */
@Timeout(30)
class FreshnessThroughProxyIntegrationTest {
    private final CacheProxy cache = CacheProxy.start();

    @AfterEach
    void close() {
        cache.close();
    }

    private static long age(java.net.http.HttpResponse<?> response) {
        return Long.parseLong(response.headers().firstValue("Age").orElseThrow());
    }

    @Test
    void section5_1_ageIsSentOnHitsAndGrowsWithResidentTime() throws Exception {
        cache.script("/a", r -> Reply.ok("a").cc("max-age=100"));

        cache.get("/a");
        cache.advanceSeconds(42);
        var hit = cache.get("/a");

        assertThat(age(hit)).isEqualTo(42);
        assertThat(cacheStatus(hit)).isEqualTo("proxy-filter; hit; ttl=58");
    }

    @Test
    void section4_2_3_anUpstreamAgeHeaderCounts() throws Exception {
        cache.script("/up", r -> Reply.ok("up" + r.n()).cc("max-age=100").header("Age", "90"));

        cache.get("/up");
        cache.advanceSeconds(5);
        assertThat(age(cache.get("/up"))).isEqualTo(95);
        cache.advanceSeconds(6);
        assertThat(cache.get("/up").body()).isEqualTo("up2"); // 101 s old: stale
    }

    @Test
    void section4_2_3_anOldDateGivesApparentAge() throws Exception {
        cache.script("/d", r -> Reply.ok("d").cc("max-age=100").date(cache.now() - 30_000));

        cache.get("/d");

        assertThat(age(cache.get("/d"))).isEqualTo(30);
    }

    @Test
    void section4_2_3_theResponseDelayIsAddedToTheAge() throws Exception {
        cache.script(
                "/slow",
                r -> Reply.ok("s").cc("max-age=100").header("Age", "10").delay(7_000));

        cache.get("/slow");

        assertThat(age(cache.get("/slow"))).isEqualTo(17); // corrected_age_value = Age + response_delay
    }

    @Test
    void section5_2_1_4_requestNoCacheGoesToTheBackend() throws Exception {
        cache.script("/nc", r -> Reply.ok("nc" + r.n()).cc("max-age=100"));

        cache.get("/nc");
        var forced = cache.get("/nc", "Cache-Control", "no-cache");

        assertThat(forced.body()).isEqualTo("nc2");
        assertThat(cacheStatus(forced)).contains("fwd=request");
    }

    @Test
    void section5_4_pragmaNoCacheCountsOnlyWithoutCacheControl() throws Exception {
        cache.script("/pr", r -> Reply.ok("pr" + r.n()).cc("max-age=100"));

        cache.get("/pr");
        assertThat(cache.get("/pr", "Pragma", "no-cache").body()).isEqualTo("pr2");
        assertThat(cache.get("/pr", "Pragma", "no-cache", "Cache-Control", "max-stale=5")
                        .body())
                .isEqualTo("pr2");
    }

    @Test
    void section5_2_1_1_requestMaxAgeLimitsTheAgeServed() throws Exception {
        cache.script("/ma", r -> Reply.ok("ma" + r.n()).cc("max-age=100"));

        cache.get("/ma");
        cache.advanceSeconds(30);

        assertThat(cache.get("/ma", "Cache-Control", "max-age=40").body()).isEqualTo("ma1");
        assertThat(cache.get("/ma", "Cache-Control", "max-age=20").body()).isEqualTo("ma2");
    }

    @Test
    void section5_2_1_2_maxStaleAcceptsAStaleResponse() throws Exception {
        cache.script("/ms", r -> Reply.ok("ms" + r.n()).cc("max-age=10"));

        cache.get("/ms");
        cache.advanceSeconds(15);

        assertThat(cache.get("/ms", "Cache-Control", "max-stale=10").body()).isEqualTo("ms1");
        assertThat(cache.get("/ms", "Cache-Control", "max-stale=2").body()).isEqualTo("ms2");
    }

    @Test
    void section5_2_1_3_minFreshAsksForFreshnessLeft() throws Exception {
        cache.script("/mf", r -> Reply.ok("mf" + r.n()).cc("max-age=100"));

        cache.get("/mf");
        cache.advanceSeconds(80);

        assertThat(cache.get("/mf", "Cache-Control", "min-fresh=10").body()).isEqualTo("mf1");
        assertThat(cache.get("/mf", "Cache-Control", "min-fresh=30").body()).isEqualTo("mf2");
    }

    @Test
    void section5_2_1_7_onlyIfCachedIs504WhenNothingFitsAndAHitOtherwise() throws Exception {
        cache.script("/oic", r -> Reply.ok("oic").cc("max-age=10"));

        assertThat(cache.get("/oic", "Cache-Control", "only-if-cached").statusCode())
                .isEqualTo(504);
        cache.get("/oic");
        assertThat(cache.get("/oic", "Cache-Control", "only-if-cached").body()).isEqualTo("oic");
        cache.advanceSeconds(20);
        assertThat(cache.get("/oic", "Cache-Control", "only-if-cached").statusCode())
                .isEqualTo(504);
        assertThat(cache.count("/oic")).isEqualTo(1);
    }
}
