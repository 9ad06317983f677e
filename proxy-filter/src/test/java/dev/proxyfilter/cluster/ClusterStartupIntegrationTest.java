package dev.proxyfilter.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.proxyfilter.config.CacheConfig;
import dev.proxyfilter.config.ClusterConfig;
import dev.proxyfilter.config.ConfigException;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.forward.ProxyEngine;
import dev.proxyfilter.testing.TestConfigs;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What only starting the cluster can tell: a busy port, an interface this host lacks, a Hazelcast file that
 * does not parse. Each stops the engine's start with a {@link ConfigException} naming the key, as the loader's
 * errors do; a good Hazelcast file starts a member named by the file.
 */
@Timeout(60)
class ClusterStartupIntegrationTest {
    private final String name = "pf-test-" + UUID.randomUUID();
    private ProxyEngine engine;

    @TempDir
    Path files;

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    private static ProxyConfig withCluster(ClusterConfig cluster) {
        return TestConfigs.builder()
                .build()
                .withCache(CacheConfig.builder().store(CacheConfig.Store.SHARED).build())
                .withCluster(cluster);
    }

    @Test
    void aBusyPortIsAStartUpErrorNamingClusterPort() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            ProxyConfig config = withCluster(ClusterConfig.loopback(name, port, List.of()));

            assertThatThrownBy(() -> engine = ProxyEngine.start(config))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith(
                            "cluster.port: " + port + " (expected: a free port on 127.0.0.1; Hazelcast: ");
        }
    }

    @Test
    void anInterfaceThisHostLacksIsAStartUpErrorNamingClusterInterface() {
        ProxyConfig config = withCluster(new ClusterConfig(
                true, ClusterConfig.Mode.EMBEDDED, name, List.of(), ProxyCluster.freePort(), "198.51.100.7", null));

        assertThatThrownBy(() -> engine = ProxyEngine.start(config))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("cluster.interface: 198.51.100.7 (expected: an IPv4 address of this host; ");
    }

    @Test
    void aHazelcastFileThatDoesNotParseIsAStartUpErrorNamingTheFile() throws Exception {
        Path xml = Files.writeString(files.resolve("hazelcast.xml"), "<hazelcast><no-such-element/></hazelcast>");
        ProxyConfig config = withCluster(
                new ClusterConfig(true, ClusterConfig.Mode.EMBEDDED, "ignored", List.of(), 5701, null, xml));

        assertThatThrownBy(() -> engine = ProxyEngine.start(config))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(
                        "cluster.hazelcast-xml: " + xml + " (expected: a Hazelcast member configuration;")
                .hasMessageEndingWith("[" + xml + "]");
    }

    @Test
    void aHazelcastFileConfiguresTheMemberInsteadOfTheKeys() throws Exception {
        int port = ProxyCluster.freePort();
        Path xml = Files.writeString(files.resolve("hazelcast.xml"), """
                <hazelcast xmlns="http://www.hazelcast.com/schema/config">
                  <cluster-name>%s</cluster-name>
                  <properties><property name="hazelcast.phone.home.enabled">false</property></properties>
                  <network>
                    <port auto-increment="false">%d</port>
                    <join>
                      <multicast enabled="false"/>
                      <auto-detection enabled="false"/>
                      <tcp-ip enabled="true"><member>127.0.0.1:%d</member></tcp-ip>
                    </join>
                    <interfaces enabled="true"><interface>127.0.0.1</interface></interfaces>
                  </network>
                </hazelcast>
                """.formatted(name, port, port));
        ProxyConfig config = withCluster(new ClusterConfig(
                true, ClusterConfig.Mode.EMBEDDED, ClusterConfig.DEFAULT_NAME, List.of(), 5701, null, xml));

        engine = ProxyEngine.start(config);

        assertThat(engine.cluster().name()).isEqualTo(name);
        assertThat(engine.cluster().members()).containsExactly(engine.cluster().nodeId());
        assertThat(engine.caching().storeStats().hits()).isZero(); // the shared cache opened on it
    }
}
