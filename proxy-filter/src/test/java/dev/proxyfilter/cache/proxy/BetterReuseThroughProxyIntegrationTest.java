package dev.proxyfilter.cache.proxy;

import static dev.proxyfilter.cache.proxy.CacheProxy.cacheStatus;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.cache.proxy.CacheProxy.Reply;
import dev.proxyfilter.config.CacheConfig;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Reuse through the real proxy: heuristic freshness for every heuristically cacheable status (RFC 9111
 * §4.2.2, RFC 9110 §15.1) capped by {@code cache.heuristic-max}; {@code cache.normalise-accept} for variants
 * (RFC 9111 §4.1); a {@code POST} response that is its target's {@code GET} response (RFC 9111 §4, RFC 9110
 * §9.3.3).
 */
@Timeout(30)
class BetterReuseThroughProxyIntegrationTest {
    private CacheProxy cache = CacheProxy.start();

    @AfterEach
    void close() {
        cache.close();
    }

    private void restartWith(CacheConfig.Builder config) {
        cache.close();
        cache = CacheProxy.start(config.maxEntryBytes(1000)
                .coalesceTimeout(Duration.ofSeconds(30))
                .build());
    }

    @ParameterizedTest
    @ValueSource(ints = {200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501})
    void section4_2_2_everyHeuristicallyCacheableStatusGetsHeuristicFreshness(int status) throws Exception {
        // Last-Modified 10 hours ago: 10% gives one hour
        String tenHoursAgo = CacheProxy.httpDate(cache.now() - 36_000_000);
        cache.script("/h", r -> Reply.status(status, "h" + r.n()).header("Last-Modified", tenHoursAgo));

        cache.get("/h");
        cache.advanceSeconds(3000);
        var fresh = cache.get("/h");
        assertThat(cacheStatus(fresh)).as("%d", status).contains("hit");
        assertThat(cache.count("/h")).isEqualTo(1);
        cache.advanceSeconds(700);
        cache.get("/h");
        assertThat(cache.count("/h")).as("%d stale after an hour", status).isEqualTo(2);
    }

    @Test
    void section4_2_2_heuristicFreshnessIsCappedByHeuristicMax() throws Exception {
        restartWith(CacheConfig.builder().maxHeuristicFreshness(Duration.ofMinutes(10)));
        String hundredDaysAgo = CacheProxy.httpDate(cache.now() - 100L * 86_400_000);
        cache.script("/cap", r -> Reply.status(404, "c" + r.n()).header("Last-Modified", hundredDaysAgo));

        cache.get("/cap");
        cache.advanceSeconds(590);
        assertThat(cache.get("/cap").body()).isEqualTo("c1");
        cache.advanceSeconds(20);
        assertThat(cache.get("/cap").body()).isEqualTo("c2"); // ten days by the rule, ten minutes by the cap
    }

    @Test
    void section4_1_acceptLanguageSpacesAndCaseNeverMakeAVariant() throws Exception {
        cache.script("/v", r -> Reply.ok("v" + r.n()).cc("max-age=60").header("Vary", "Accept-Language"));

        cache.get("/v", "Accept-Language", "en-US,en;q=0.9");
        var same = cache.get("/v", "Accept-Language", "en-US, en;q=0.9");
        var differentWeights = cache.get("/v", "Accept-Language", "en-US;q=1.0, en;q=0.90");

        assertThat(same.body()).isEqualTo("v1");
        assertThat(differentWeights.body()).isEqualTo("v2"); // without cache.normalise-accept
    }

    @Test
    void section4_1_normaliseAcceptLetsValuesThatMeanTheSameShareAVariant() throws Exception {
        restartWith(CacheConfig.builder().normaliseAccept(true));
        cache.script(
                "/v", r -> Reply.ok("v" + r.n()).cc("max-age=60").header("Vary", "Accept-Language, Accept-Encoding"));

        cache.get("/v", "Accept-Language", "en-US,en;q=0.9", "Accept-Encoding", "gzip, br;q=0.5");
        var same = cache.get("/v", "Accept-Language", "en-US;q=1.0, en;q=0.90", "Accept-Encoding", "br;q=0.50, gzip");
        var other = cache.get("/v", "Accept-Language", "en;q=0.9, en-US;q=0.8", "Accept-Encoding", "gzip, br;q=0.5");

        assertThat(same.body()).isEqualTo("v1");
        assertThat(cacheStatus(same)).contains("hit");
        assertThat(other.body()).isEqualTo("v2"); // other weights mean another preference
    }

    @Test
    void section4_aPostResponseWhoseContentLocationIsItsTargetServesLaterGets() throws Exception {
        cache.script(
                "/p",
                r -> r.method().equals("POST")
                        ? Reply.ok("posted " + r.n()).cc("max-age=60").header("Content-Location", "/p")
                        : Reply.ok("got " + r.n()).cc("max-age=60"));

        cache.send("POST", "/p");
        var get = cache.get("/p");
        var head = cache.send("HEAD", "/p");

        assertThat(get.body()).isEqualTo("posted 1");
        assertThat(cacheStatus(get)).contains("hit");
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(cache.count("/p")).isEqualTo(1);
    }

    @Test
    void section4_otherPostResponsesNeverServeAGet() throws Exception {
        cache.script(
                "/elsewhere",
                r -> r.method().equals("POST")
                        ? Reply.ok("posted").cc("max-age=60").header("Content-Location", "/elsewhere/1")
                        : Reply.ok("got " + r.n()));
        cache.script(
                "/noexplicit",
                r -> r.method().equals("POST")
                        ? Reply.ok("posted").header("Content-Location", "/noexplicit")
                        : Reply.ok("got " + r.n()));
        cache.script(
                "/nostore",
                r -> r.method().equals("POST")
                        ? Reply.ok("posted").cc("max-age=60, no-store").header("Content-Location", "/nostore")
                        : Reply.ok("got " + r.n()));

        for (String path : new String[] {"/elsewhere", "/noexplicit", "/nostore"}) {
            cache.send("POST", path);
            assertThat(cache.get(path).body()).as(path).isEqualTo("got 2");
        }
    }

    @Test
    void section4_4_aLaterPostStillInvalidatesWhatAPostStored() throws Exception {
        cache.script(
                "/q",
                r -> r.method().equals("POST")
                        ? (r.n() == 1
                                ? Reply.ok("first").cc("max-age=60").header("Content-Location", "/q")
                                : Reply.ok("second"))
                        : Reply.ok("got " + r.n()).cc("max-age=60"));

        cache.send("POST", "/q");
        assertThat(cache.get("/q").body()).isEqualTo("first");
        cache.send("POST", "/q");
        assertThat(cache.get("/q").body()).isEqualTo("got 3");
    }
}
