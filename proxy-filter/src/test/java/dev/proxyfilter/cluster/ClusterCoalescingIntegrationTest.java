package dev.proxyfilter.cluster;

import static dev.proxyfilter.cluster.ProxyCluster.cacheStatus;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.eclipse.jetty.client.ContentResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Request coalescing across instances: 50 concurrent misses for one URL, spread over three instances, reach the
 * origin once. The origin holds its one response until every request has looked the URL up, so that all 50
 * are in flight together: one leads, its instance's others follow it, and the other instances stand in for
 * it until its response is in the shared tier.
 */
@Timeout(60)
class ClusterCoalescingIntegrationTest {
    private static final int CLIENTS = 50;
    private final CountDownLatch gate = new CountDownLatch(1);
    private ProxyCluster cluster;

    @AfterEach
    void close() {
        gate.countDown();
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void fiftyConcurrentMissesOverThreeInstancesReachTheOriginOnce() throws Exception {
        cluster = ProxyCluster.start(3);
        cluster.script("/hot", (n, request, response) -> {
            gate.await(30, TimeUnit.SECONDS);
            response.setHeader("Cache-Control", "max-age=60");
            response.getWriter().print("hot " + n);
        });

        List<CompletableFuture<ContentResponse>> responses = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            responses.add(cluster.getAsync(i % 3, "/hot"));
        }
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> misses() == CLIENTS);
        gate.countDown();

        int collapsed = 0;
        for (CompletableFuture<ContentResponse> future : responses) {
            ContentResponse response = future.get(30, TimeUnit.SECONDS);
            assertThat(response.getStatus()).isEqualTo(200);
            assertThat(response.getContentAsString()).isEqualTo("hot 1");
            collapsed += cacheStatus(response).contains("collapsed") ? 1 : 0;
        }
        assertThat(cluster.count("/hot")).isEqualTo(1);
        assertThat(collapsed).isEqualTo(CLIENTS - 1);
    }

    /** Misses counted by all three instances: requests that looked up and joined (or lead). */
    private long misses() {
        long sum = 0;
        for (int i = 0; i < 3; i++) {
            var caching = cluster.proxy(i).engine().caching();
            sum += caching.misses() + caching.coalesced();
        }
        return sum;
    }
}
