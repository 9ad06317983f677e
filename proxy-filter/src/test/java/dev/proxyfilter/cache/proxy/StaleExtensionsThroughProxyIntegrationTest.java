package dev.proxyfilter.cache.proxy;

import static dev.proxyfilter.cache.proxy.CacheProxy.cacheStatus;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.cache.proxy.CacheProxy.Reply;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * RFC 5861 §3 {@code stale-while-revalidate} (serve stale, refresh once in the background) and §4
 * {@code stale-if-error}, through the real proxy on the fake clock.
 */
@Timeout(30)
class StaleExtensionsThroughProxyIntegrationTest {
    private final CacheProxy cache = CacheProxy.start();

    @AfterEach
    void close() {
        cache.close();
    }

    /** Repeated: the background refresh once raced with the recycling of the client's request (issue 4). */
    @RepeatedTest(10)
    void rfc5861_section3_staleWhileRevalidateServesStaleThenTheRefreshedResponse() throws Exception {
        cache.script("/swr", r -> Reply.ok("body " + r.n()).cc("max-age=10, stale-while-revalidate=60"));

        cache.get("/swr");
        cache.advanceSeconds(11);
        var stale = cache.get("/swr");

        assertThat(stale.body()).isEqualTo("body 1");
        assertThat(cacheStatus(stale)).startsWith("proxy-filter; hit; ttl=-1");
        Awaitility.await()
                .atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(5))
                .until(() -> cache.get("/swr").body(), "body 2"::equals);
        assertThat(cache.count("/swr")).isEqualTo(2);
    }

    @Test
    void rfc5861_section3_pastTheWindowTheClientWaitsForTheBackend() throws Exception {
        cache.script("/late", r -> Reply.ok("body " + r.n()).cc("max-age=10, stale-while-revalidate=5"));

        cache.get("/late");
        cache.advanceSeconds(20);
        var response = cache.get("/late");

        assertThat(response.body()).isEqualTo("body 2");
        assertThat(cacheStatus(response)).contains("fwd=stale");
    }

    @Test
    void rfc5861_section4_staleIfErrorHidesA5xxWithinItsWindowOnly() throws Exception {
        cache.script(
                "/sie",
                r -> r.n() == 1 ? Reply.ok("good").cc("max-age=10, stale-if-error=60") : Reply.status(500, "bad"));

        cache.get("/sie");
        cache.advanceSeconds(30);
        var hidden = cache.get("/sie");
        cache.advanceSeconds(60);
        var shown = cache.get("/sie");

        assertThat(hidden.statusCode()).isEqualTo(200);
        assertThat(hidden.body()).isEqualTo("good");
        assertThat(cacheStatus(hidden)).contains("fwd-status=500").contains("stale-if-error");
        assertThat(shown.statusCode()).isEqualTo(500);
    }

    @Test
    void rfc5861_section4_theClientsOwnStaleIfErrorCounts() throws Exception {
        cache.script("/own", r -> r.n() == 1 ? Reply.ok("good").cc("max-age=10") : Reply.status(500, "bad"));

        cache.get("/own");
        cache.advanceSeconds(30);

        assertThat(cache.get("/own", "Cache-Control", "stale-if-error=60").body())
                .isEqualTo("good");
        assertThat(cache.get("/own").statusCode()).isEqualTo(500);
    }
}
