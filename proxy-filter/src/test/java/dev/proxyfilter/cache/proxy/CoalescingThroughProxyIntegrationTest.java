package dev.proxyfilter.cache.proxy;

import static dev.proxyfilter.cache.proxy.CacheProxy.cacheStatus;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.cache.proxy.CacheProxy.Reply;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Request coalescing (collapsed forwarding, RFC 9211 {@code collapsed}) through the real proxy: 50 concurrent
 * misses for one URI send exactly one request to the backend, and a response that turns out not to be
 * storable releases the waiters to go on their own.
 */
@Timeout(60)
class CoalescingThroughProxyIntegrationTest {
    private static final int CLIENTS = 50;
    private final CacheProxy cache = CacheProxy.start();
    private final CountDownLatch gate = new CountDownLatch(1);

    @AfterEach
    void close() {
        gate.countDown();
        cache.close();
    }

    private List<CompletableFuture<HttpResponse<String>>> fiftyClientsWaitingForOneLeader(String path) {
        List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            responses.add(cache.http().sendAsync(cache.request("GET", path), HttpResponse.BodyHandlers.ofString()));
        }
        // Every request looked up and joined (the leader is held at the backend by the gate).
        var misses = cache.proxy().engine().metrics().registry().getGauges().get("proxy.cache.misses");
        Awaitility.await()
                .atMost(Duration.ofSeconds(30))
                .until(() -> ((Number) misses.getValue()).longValue() == CLIENTS);
        return responses;
    }

    @Test
    void fiftyConcurrentMissesSendExactlyOneRequestToTheBackend() throws Exception {
        cache.script("/hot", r -> {
            gate.await(30, TimeUnit.SECONDS);
            return Reply.ok("hot " + r.n()).cc("max-age=60");
        });
        var responses = fiftyClientsWaitingForOneLeader("/hot");

        gate.countDown();

        long collapsed = 0;
        for (var response : responses) {
            HttpResponse<String> r = response.get(30, TimeUnit.SECONDS);
            assertThat(r.body()).isEqualTo("hot 1");
            collapsed += cacheStatus(r).contains("collapsed") ? 1 : 0;
        }
        assertThat(cache.count("/hot")).isEqualTo(1);
        assertThat(collapsed).isEqualTo(CLIENTS - 1);
    }

    @Test
    void aResponseThatIsNotStorableReleasesTheWaitersToTheBackend() throws Exception {
        cache.script("/private", r -> {
            gate.await(30, TimeUnit.SECONDS);
            return Reply.ok("mine " + r.n()).cc("private, max-age=60");
        });
        var responses = fiftyClientsWaitingForOneLeader("/private");

        gate.countDown();

        for (var response : responses) {
            HttpResponse<String> r = response.get(30, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(cacheStatus(r)).doesNotContain("collapsed");
        }
        assertThat(cache.count("/private")).isEqualTo(CLIENTS);
        assertThat(responses.stream().map(f -> f.join().body()).distinct()).hasSize(CLIENTS);
    }
}
