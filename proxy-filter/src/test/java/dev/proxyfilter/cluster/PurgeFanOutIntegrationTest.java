package dev.proxyfilter.cluster;

import static dev.proxyfilter.cluster.ProxyCluster.cacheStatus;
import static dev.proxyfilter.cluster.ProxyCluster.url;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.admin.AdminOperations;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.http.HttpMethod;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A purge (admin API) or an invalidation (an unsafe method) on one instance removes the entry from every
 * instance: from the shared tier and its near caches, and from the local tier of the instance that stored it,
 * which hears of it on the cache's topic. Each test waits for that message to arrive (its one asynchronous
 * step), then checks that no instance answers with the removed response.
 */
@Timeout(60)
class PurgeFanOutIntegrationTest {
    private ProxyCluster cluster;

    @AfterEach
    void close() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aPurgeOnOneInstanceRemovesTheEntryFromEveryInstance() throws Exception {
        cluster = ProxyCluster.start(3);
        cluster.get(0, "/p"); // stored by instance 0: its local tier and the shared one
        assertThat(cacheStatus(cluster.get(1, "/p"))).endsWith("detail=shared"); // now in 1's near cache
        assertThat(cacheStatus(cluster.get(2, "/p"))).endsWith("detail=shared");
        cluster.get(0, "/pre/a");
        cluster.get(1, "/pre/b");
        cluster.get(2, "/other");

        long removals = removals(0);
        int purged = new AdminOperations(cluster.proxy(2).engine()).purgeUrl(url("/p"));
        awaitRemovalsAbove(0, removals);

        assertThat(purged).isEqualTo(1);
        assertThat(cluster.get(1, "/p").getContentAsString()).isEqualTo("/p 2"); // a miss, stored again
        assertThat(cluster.get(0, "/p").getContentAsString()).isEqualTo("/p 2"); // not 0's old local copy
        assertThat(cluster.get(2, "/p").getContentAsString()).isEqualTo("/p 2");
        assertThat(cluster.count("/p")).isEqualTo(2);

        long removals0 = removals(0);
        long removals1 = removals(1);
        int purgedPrefix = new AdminOperations(cluster.proxy(2).engine()).purgePrefix(url("/pre/"));
        awaitRemovalsAbove(0, removals0);
        awaitRemovalsAbove(1, removals1);

        assertThat(purgedPrefix).isEqualTo(2);
        assertThat(cacheStatus(cluster.get(1, "/pre/a"))).contains("fwd=uri-miss");
        assertThat(cacheStatus(cluster.get(0, "/pre/b"))).contains("fwd=uri-miss");
        assertThat(cacheStatus(cluster.get(0, "/other"))).contains("hit");
        assertThat(cluster.count("/other")).isEqualTo(1);
    }

    @Test
    void anUnsafeMethodThroughOneInstanceInvalidatesEveryInstance() throws Exception {
        cluster = ProxyCluster.start(3);
        cluster.script("/u", (n, request, response) -> {
            if (request.getMethod().equals("GET")) {
                response.setHeader("Cache-Control", "max-age=60");
            }
            response.getWriter().print(request.getMethod() + " " + n);
        });
        assertThat(cluster.get(0, "/u").getContentAsString()).isEqualTo("GET 1");
        assertThat(cluster.get(2, "/u").getContentAsString()).isEqualTo("GET 1");

        long removals = removals(0);
        ContentResponse post = cluster.request(1, HttpMethod.POST, "/u").send();
        awaitRemovalsAbove(0, removals);

        assertThat(post.getContentAsString()).isEqualTo("POST 2");
        assertThat(cluster.get(2, "/u").getContentAsString()).isEqualTo("GET 3");
        assertThat(cluster.get(0, "/u").getContentAsString()).isEqualTo("GET 3");
        assertThat(cluster.count("/u")).isEqualTo(3);
    }

    /** Removals from instance {@code node}'s local tier, which count the removals other instances announced. */
    private long removals(int node) {
        return cluster.proxy(node).engine().caching().storeStats().removals();
    }

    private void awaitRemovalsAbove(int node, long before) {
        Awaitility.await()
                .atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(5))
                .until(() -> removals(node) > before);
    }
}
