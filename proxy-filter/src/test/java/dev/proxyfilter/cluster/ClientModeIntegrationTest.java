package dev.proxyfilter.cluster;

import static dev.proxyfilter.cluster.ProxyCluster.cacheStatus;
import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import dev.proxyfilter.admin.AdminOperations;
import dev.proxyfilter.cache.hazelcast.HazelcastSharedCache;
import dev.proxyfilter.config.ClusterConfig;
import dev.proxyfilter.config.HashKey;
import dev.proxyfilter.config.RateLimitConfig;
import dev.proxyfilter.config.SecurityConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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

    /** Starts the one plain member of cluster {@code name}; returns its address. */
    private String startMember(String name) {
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
        return "127.0.0.1:" + port;
    }

    @Test
    void clientInstancesShareTheCacheOfAnExistingCluster() throws Exception {
        String name = "pf-test-" + UUID.randomUUID();
        cluster = ProxyCluster.startClients(2, name, List.of(startMember(name)));

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

    @Test
    void clientInstancesShareARateLimitKnowEachOtherAndLimitAloneWhenTheClusterIsGone() throws Exception {
        String name = "pf-test-" + UUID.randomUUID();
        RateLimitConfig tenPerSecond = new RateLimitConfig(10, Duration.ofSeconds(1), 10, HashKey.clientIp());
        SecurityConfig security = new SecurityConfig(
                List.of(),
                SecurityConfig.ClientIpHeader.X_FORWARDED_FOR,
                List.of(),
                List.of(),
                tenPerSecond,
                SecurityConfig.DEFAULT_RATE_LIMIT_MAX_KEYS,
                0,
                List.of(),
                Map.of(),
                null,
                Map.of());
        cluster = ProxyCluster.startClients(
                2,
                name,
                List.of(startMember(name)),
                config -> config.withSecurity(security)
                        .withCluster(config.cluster()
                                .withRateLimits(ClusterConfig.RateLimitScope.CLUSTER, Duration.ofSeconds(2))));

        // The proxies are clients, not members: their heartbeats say who they are.
        Awaitility.await()
                .atMost(Duration.ofSeconds(10))
                .until(() -> cluster.proxy(0).engine().clusterNode().nodes().size() == 2);
        assertThat(member.getCluster().getMembers()).hasSize(1);

        // One bucket, kept by compare-and-swap on bytes the member never reads: about 10 + 10/s over both.
        int accepted = 0;
        long start = System.nanoTime();
        for (int i = 0; i < 40; i++) {
            accepted += cluster.get(i % 2, "/limited/" + i).getStatus() == 200 ? 1 : 0;
            Thread.sleep(25);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(accepted)
                .as("accepted of 40 in %.2f s over 2 clients", seconds)
                .isBetween(10, (int) Math.ceil(10 + 10 * seconds) + 2);

        // The cluster goes away: a client's calls fail at once, and each instance limits on its own.
        member.shutdown();
        member = null;
        long slowest = 0;
        int acceptedAlone = 0;
        for (int i = 0; i < 10; i++) {
            long sent = System.nanoTime();
            acceptedAlone += cluster.get(0, "/alone/" + i).getStatus() == 200 ? 1 : 0;
            slowest = Math.max(slowest, System.nanoTime() - sent);
        }
        assertThat(acceptedAlone).as("node 0's own bucket, full").isEqualTo(10);
        assertThat(Duration.ofNanos(slowest)).isLessThan(Duration.ofSeconds(3));
    }
}
