package dev.proxyfilter.cluster;

import static dev.proxyfilter.cluster.ProxyCluster.cacheStatus;
import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import dev.proxyfilter.admin.AdminOperations;
import dev.proxyfilter.cache.hazelcast.HazelcastSharedCache;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code cluster.mode=client}: two proxy instances that are Hazelcast clients of an existing cluster, here one
 * plain member with no class and no configuration of ours, share the cache as embedded members do.
 */
@Timeout(60)
class ClientModeIntegrationTest {
    private HazelcastInstance member;
    private ProxyCluster cluster;

    @AfterEach
    void close() {
        if (cluster != null) {
            cluster.close();
        }
        if (member != null) {
            member.shutdown();
        }
    }

    @Test
    void clientInstancesShareTheCacheOfAnExistingCluster() throws Exception {
        String name = "pf-test-" + UUID.randomUUID();
        int port = ProxyCluster.freePort();
        Config config = new Config().setClusterName(name);
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.logging.type", "slf4j");
        config.getNetworkConfig().setPort(port).setPortAutoIncrement(false);
        config.getNetworkConfig().getInterfaces().setEnabled(true).addInterface("127.0.0.1");
        config.setProperty("hazelcast.socket.bind.any", "false");
        JoinConfig join = config.getNetworkConfig().getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(true).setMembers(List.of("127.0.0.1:" + port));
        member = Hazelcast.newHazelcastInstance(config);
        cluster = ProxyCluster.startClients(2, name, List.of("127.0.0.1:" + port));

        String first = cacheStatus(cluster.get(0, "/c"));
        String second = cacheStatus(cluster.get(1, "/c"));

        assertThat(first).contains("stored");
        assertThat(second).contains("hit").endsWith("detail=shared");
        assertThat(cluster.count("/c")).isEqualTo(1);
        assertThat(member.getMap(HazelcastSharedCache.MAP).size()).isEqualTo(1); // held as bytes it never reads

        long removals = cluster.proxy(0).engine().caching().storeStats().removals();
        new AdminOperations(cluster.proxy(1).engine()).purgeUrl(ProxyCluster.url("/c"));
        Awaitility.await()
                .atMost(Duration.ofSeconds(10))
                .until(() -> cluster.proxy(0).engine().caching().storeStats().removals() > removals);

        assertThat(cacheStatus(cluster.get(0, "/c"))).contains("fwd=uri-miss");
        assertThat(cluster.count("/c")).isEqualTo(2);
    }
}
