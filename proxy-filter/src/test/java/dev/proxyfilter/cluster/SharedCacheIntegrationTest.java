package dev.proxyfilter.cluster;

import static dev.proxyfilter.cluster.ProxyCluster.cacheStatus;
import static org.assertj.core.api.Assertions.assertThat;

import org.eclipse.jetty.client.ContentResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The shared response cache through three real proxy instances in one cluster: what one stores, the others
 * hit; {@code Cache-Status} says which tier answered.
 */
@Timeout(60)
class SharedCacheIntegrationTest {
    private ProxyCluster cluster;

    @AfterEach
    void close() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aResponseCachedThroughOneInstanceIsAHitOnEveryOther() throws Exception {
        cluster = ProxyCluster.start(3);

        ContentResponse first = cluster.get(0, "/a");
        ContentResponse second = cluster.get(1, "/a");
        ContentResponse third = cluster.get(2, "/a");
        ContentResponse again = cluster.get(0, "/a");

        assertThat(first.getContentAsString()).isEqualTo("/a 1");
        assertThat(cacheStatus(first)).contains("fwd=uri-miss", "stored");
        assertThat(second.getContentAsString()).isEqualTo("/a 1");
        assertThat(cacheStatus(second)).startsWith("proxy-filter; hit").endsWith("detail=shared");
        assertThat(third.getContentAsString()).isEqualTo("/a 1");
        assertThat(cacheStatus(third)).contains("hit").endsWith("detail=shared");
        assertThat(cacheStatus(again)).contains("hit").endsWith("detail=local");
        assertThat(cluster.count("/a")).isEqualTo(1);
    }
}
