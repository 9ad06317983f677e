package dev.proxyfilter.cache.proxy;

import static dev.proxyfilter.cache.proxy.CacheProxy.cacheStatus;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.cache.proxy.CacheProxy.Reply;
import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * RFC 9111 §3.5 exactly, through the real proxy: a response to a request with {@code Authorization} is reused
 * only when a response directive allows a shared cache to store it ({@code public}, {@code s-maxage},
 * {@code must-revalidate}, and nothing else), and then only as that directive requires.
 */
@Timeout(30)
class AuthorizationThroughProxyIntegrationTest {
    private final CacheProxy cache = CacheProxy.start();

    @AfterEach
    void close() {
        cache.close();
    }

    private int twice(String path) throws Exception {
        cache.get(path, "Authorization", "Bearer alice");
        cache.get(path, "Authorization", "Bearer bob");
        return cache.count(path);
    }

    @Test
    void section3_5_onlyPublicSMaxAgeAndMustRevalidateLetAnAuthorizedResponseBeShared() throws Exception {
        String[][] cases = {
            {"/public", "public, max-age=60", "1"},
            {"/smaxage", "s-maxage=60", "1"},
            {"/mustrevalidate", "max-age=60, must-revalidate", "1"},
            {"/maxage", "max-age=60", "2"},
            {"/proxyrevalidate", "max-age=60, proxy-revalidate", "2"},
            {"/immutable", "max-age=60, immutable", "2"},
            {"/publicprivate", "public, private, max-age=60", "2"},
            {"/publicnostore", "public, no-store, max-age=60", "2"},
        };
        for (String[] c : cases) {
            cache.script(c[0], r -> Reply.ok("x" + r.n()).cc(c[1]));
            assertThat(twice(c[0])).as(c[1]).isEqualTo(Integer.parseInt(c[2]));
        }
    }

    @Test
    void section3_5_aTargetedFieldThatSaysPublicCountsAsTheResponsesDirective() throws Exception {
        cache.script(
                "/cdn", r -> Reply.ok("c" + r.n()).cc("max-age=60").header("CDN-Cache-Control", "public, max-age=60"));
        cache.script(
                "/cdnprivate",
                r -> Reply.ok("p" + r.n()).cc("public, max-age=60").header("CDN-Cache-Control", "max-age=60"));

        assertThat(twice("/cdn")).isEqualTo(1);
        assertThat(twice("/cdnprivate")).isEqualTo(2); // the targeted field governs, and it says no such thing
    }

    @Test
    void section3_5_sharedBecauseOfMustRevalidate_isNeverServedStale() throws Exception {
        cache.script("/mr", r -> Reply.ok("mr" + r.n()).cc("max-age=10, must-revalidate, stale-if-error=600"));

        cache.get("/mr", "Authorization", "Bearer alice");
        cache.advanceSeconds(20);
        var maxStale = cache.get("/mr", "Authorization", "Bearer bob", "Cache-Control", "max-stale=600");
        assertThat(maxStale.body()).isEqualTo("mr2");
        cache.advanceSeconds(20);
        cache.stopBackend();

        assertThat(cache.get("/mr", "Authorization", "Bearer carol").statusCode())
                .isEqualTo(504);
    }

    @Test
    void section3_5_aCoalescedRequestNeverGetsAnAuthorizedResponseThatMayNotBeShared() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        cache.script("/me", r -> {
            if (r.n() == 1) {
                release.await(10, TimeUnit.SECONDS); // the second request joins while this one is in flight
            }
            return Reply.ok("for " + r.header("Authorization")).cc("max-age=60");
        });

        CompletableFuture<HttpResponse<String>> alice = cache.http()
                .sendAsync(
                        cache.request("GET", "/me", "Authorization", "Bearer alice"),
                        HttpResponse.BodyHandlers.ofString());
        while (cache.count("/me") < 1) {
            Thread.onSpinWait();
        }
        CompletableFuture<HttpResponse<String>> bob = cache.http()
                .sendAsync(
                        cache.request("GET", "/me", "Authorization", "Bearer bob"),
                        HttpResponse.BodyHandlers.ofString());
        Thread.sleep(200); // bob is waiting behind alice's request now, or about to
        release.countDown();

        assertThat(alice.get(10, TimeUnit.SECONDS).body()).isEqualTo("for Bearer alice");
        assertThat(bob.get(10, TimeUnit.SECONDS).body()).isEqualTo("for Bearer bob");
        assertThat(cacheStatus(bob.get())).doesNotContain("collapsed");
    }
}
