package dev.proxyfilter.cache.proxy;

import static dev.proxyfilter.cache.proxy.CacheProxy.cacheStatus;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.cache.proxy.CacheProxy.Reply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Status codes this cache does not understand (RFC 9111 §3, §4.2.4), {@code must-understand} (§5.2.2.3),
 * and what may be served stale when the backend cannot be reached (§4.2.4, §5.2.2.2, §5.2.2.4, §5.2.2.8,
 * §5.2.2.10, RFC 5861 §4), through the real proxy; the backend is stopped to make it unreachable.
 */
@Timeout(30)
class StatusCodesAndStaleThroughProxyIntegrationTest {
    private final CacheProxy cache = CacheProxy.start();

    @AfterEach
    void close() {
        cache.close();
    }

    private int twice(String path, String... headers) throws Exception {
        cache.get(path, headers);
        cache.get(path, headers);
        return cache.count(path);
    }

    @Test
    void section3_anUnrecognisedStatusIsReusedOnlyWithExplicitFreshness() throws Exception {
        String tenHoursAgo = CacheProxy.httpDate(cache.now() - 36_000_000);
        String inAMinute = CacheProxy.httpDate(cache.now() + 60_000);
        cache.script("/299max", r -> Reply.status(299, "a" + r.n()).cc("max-age=60"));
        cache.script("/299exp", r -> Reply.status(299, "e" + r.n()).header("Expires", inAMinute));
        cache.script("/299heur", r -> Reply.status(299, "h" + r.n()).header("Last-Modified", tenHoursAgo));
        cache.script("/299pub", r -> Reply.status(299, "p" + r.n()).cc("public").header("Last-Modified", tenHoursAgo));
        cache.script("/599", r -> Reply.status(599, "x" + r.n()).cc("max-age=60"));

        assertThat(twice("/299max")).isEqualTo(1);
        assertThat(twice("/299exp")).isEqualTo(1);
        assertThat(twice("/299heur")).isEqualTo(2); // no heuristics for a status we do not know
        assertThat(twice("/299pub")).isEqualTo(2); // public alone is no lifetime
        assertThat(twice("/599")).isEqualTo(1);
    }

    @Test
    void section4_2_4_anUnrecognisedStatusIsNeverServedStale() throws Exception {
        cache.script(
                "/299",
                r -> Reply.status(299, "u" + r.n()).cc("max-age=10, stale-while-revalidate=600, stale-if-error=600"));

        cache.get("/299");
        cache.advanceSeconds(15);
        var maxStale = cache.get("/299", "Cache-Control", "max-stale=600");
        assertThat(maxStale.body()).isEqualTo("u2"); // neither max-stale nor stale-while-revalidate
        cache.advanceSeconds(15);
        cache.stopBackend();
        var down = cache.get("/299");

        assertThat(down.statusCode()).isEqualTo(504); // nor stale-if-error
        assertThat(down.body()).doesNotContain("u2");
    }

    @Test
    void section5_2_2_3_mustUnderstandWithNoStoreStoresOnlyWhatTheCacheUnderstands() throws Exception {
        cache.script("/ok", r -> Reply.ok("ok" + r.n()).cc("must-understand, no-store, max-age=60"));
        cache.script("/odd", r -> Reply.status(299, "odd" + r.n()).cc("must-understand, no-store, max-age=60"));
        cache.script("/odd2", r -> Reply.status(299, "odd" + r.n()).cc("must-understand, max-age=60"));

        assertThat(twice("/ok")).isEqualTo(1);
        assertThat(twice("/odd")).isEqualTo(2);
        assertThat(twice("/odd2")).isEqualTo(2);
    }

    @Test
    void section4_2_4_unreachableBackend_whatMustBeRevalidatedIs504_therestObeysStaleIfError() throws Exception {
        cache.script("/mr", r -> Reply.ok("mr").cc("max-age=10, must-revalidate, stale-if-error=600"));
        cache.script("/pr", r -> Reply.ok("pr").cc("max-age=10, proxy-revalidate, stale-if-error=600"));
        cache.script("/sm", r -> Reply.ok("sm").cc("s-maxage=10, stale-if-error=600"));
        cache.script(
                "/nc",
                r -> Reply.ok("nc")
                        .cc("no-cache, max-age=600, stale-if-error=600")
                        .header("ETag", "\"n\""));
        cache.script("/sie", r -> Reply.ok("sie").cc("max-age=10, stale-if-error=600"));
        cache.script("/plain", r -> Reply.ok("plain").cc("max-age=10"));
        for (String path : new String[] {"/mr", "/pr", "/sm", "/nc", "/sie", "/plain"}) {
            cache.get(path);
        }
        cache.advanceSeconds(60);
        cache.stopBackend();

        for (String path : new String[] {"/mr", "/pr", "/sm", "/nc"}) {
            var response = cache.get(path);
            assertThat(response.statusCode()).as(path).isEqualTo(504);
            assertThat(response.body()).as(path).contains("Gateway Timeout");
        }
        var stale = cache.get("/sie");
        assertThat(stale.statusCode()).isEqualTo(200);
        assertThat(stale.body()).isEqualTo("sie");
        assertThat(cacheStatus(stale)).contains("stale-if-error");
        assertThat(cache.get("/plain").statusCode()).isEqualTo(502); // no stale-if-error: the failure as usual
    }

    @Test
    void section5_2_2_4_aFreshNoCacheResponseIsNot_servedWhenTheBackendCannotValidateIt() throws Exception {
        cache.script("/fresh-nc", r -> Reply.ok("f").cc("no-cache, max-age=600").header("ETag", "\"f\""));

        cache.get("/fresh-nc");
        cache.stopBackend();

        assertThat(cache.get("/fresh-nc").statusCode()).isEqualTo(504);
    }
}
