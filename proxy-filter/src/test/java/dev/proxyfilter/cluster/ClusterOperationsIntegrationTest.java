package dev.proxyfilter.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.util.JSONObjectUtils;
import dev.proxyfilter.admin.AdminOperations;
import dev.proxyfilter.balance.Backend;
import dev.proxyfilter.balance.BackendState;
import dev.proxyfilter.config.CacheConfig;
import dev.proxyfilter.config.ConfigException;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.config.WebSocketConfig;
import dev.proxyfilter.forward.ProxyEngine;
import dev.proxyfilter.servlet.AdminServlet;
import dev.proxyfilter.testing.TestBackend;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.awaitility.Awaitility;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Admin actions across a cluster: three engines in one JVM, each with its own embedded member, behind one admin
 * API. A drain, a weight change, a disable or an enable sent to one node reaches the routing of every node, a
 * reload makes every node re-read its own sources, a purge of a local cache reaches every node's; the answer says
 * which nodes acknowledged. {@code /api/cluster} lists the nodes from their heartbeats.
 */
@Timeout(90)
class ClusterOperationsIntegrationTest {
    private final AtomicInteger hitsOfB = new AtomicInteger();
    private final HttpClient http = HttpClient.newHttpClient();
    private TestBackend b;
    private ProxyCluster cluster;
    private Server admin;
    private URI adminUri;

    @BeforeEach
    void startBackendB() {
        b = TestBackend.start("b", new HttpServlet() {
            private static final long serialVersionUID = 1L;

            @Override
            protected void service(HttpServletRequest request, HttpServletResponse response) {
                hitsOfB.incrementAndGet();
                response.setStatus(200);
            }
        });
    }

    @AfterEach
    void close() throws Exception {
        if (admin != null) {
            admin.stop();
        }
        if (cluster != null) {
            cluster.close();
        }
        b.close();
    }

    /** Three nodes in front of pool web: the cluster's origin as a, and b; round robin. */
    private void startCluster(CacheConfig cache) {
        cluster = ProxyCluster.start(
                3,
                cache,
                (builder, origin) -> builder.pool("web", StrategyName.ROUND_ROBIN, "a", origin, 1, "b", b.url(), 1),
                UnaryOperator.identity());
    }

    @Test
    void aDrainThroughOneNodesAdminApiReachesTheRoutingOfEveryNode() throws Exception {
        startCluster(CacheConfig.disabled());
        startAdmin(cluster.proxy(0).engine());
        awaitNodes(3);

        Map<String, Object> listing = adminJson("GET", "/api/cluster", 200);
        assertThat(listing).containsEntry("enabled", true).containsEntry("name", cluster.name);
        List<Object> nodes = JSONObjectUtils.getJSONArray(listing, "nodes");
        assertThat(nodes).hasSize(3);
        for (Object node : nodes) {
            @SuppressWarnings("unchecked")
            Map<String, Object> n = (Map<String, Object>) node;
            assertThat(n)
                    .containsKeys(
                            "id",
                            "address",
                            "started",
                            "uptime_ms",
                            "generation",
                            "in_flight",
                            "last_heartbeat_ms_ago",
                            "state");
            assertThat((String) n.get("address")).startsWith("127.0.0.1:");
            assertThat(((Number) n.get("generation")).longValue()).isEqualTo(1);
            assertThat(((Number) n.get("uptime_ms")).longValue()).isPositive();
            assertThat(((Number) n.get("last_heartbeat_ms_ago")).longValue()).isLessThan(10_000);
        }
        assertThat(nodes.stream().filter(n -> Boolean.TRUE.equals(((Map<?, ?>) n).get("self"))))
                .hasSize(1);

        for (int node = 0; node < 3; node++) {
            for (int i = 0; i < 4; i++) {
                assertThat(cluster.get(node, "/before/" + i).getStatus()).isEqualTo(200);
            }
        }
        assertThat(hitsOfB.get())
                .as("round robin: b had its share on every node")
                .isEqualTo(6);

        Map<String, Object> drained = adminJson("POST", "/api/pools/web/backends/b/drain", 200);

        assertThat(drained).containsEntry("ok", true).containsEntry("done", "pool web backend b: draining");
        Map<String, Object> fanout = JSONObjectUtils.getJSONObject(drained, "cluster");
        assertThat(((Number) fanout.get("nodes")).intValue()).isEqualTo(3);
        assertThat(((Number) fanout.get("acknowledged")).intValue()).isEqualTo(3);
        assertThat(((Number) fanout.get("applied")).intValue()).isEqualTo(3);
        assertThat(JSONObjectUtils.getJSONArray(fanout, "missing")).isEmpty();
        for (int node = 0; node < 3; node++) {
            assertThat(backendB(node).state()).as("b on node %d", node).isEqualTo(BackendState.DRAINING);
        }
        int before = hitsOfB.get();
        for (int node = 0; node < 3; node++) {
            for (int i = 0; i < 6; i++) {
                assertThat(cluster.get(node, "/after/" + i).getStatus()).isEqualTo(200);
            }
        }
        assertThat(hitsOfB.get()).as("no new request to b, on any node").isEqualTo(before);
        assertThat(cluster.proxy(1)
                        .engine()
                        .metrics()
                        .registry()
                        .counter("proxy.admin.changes")
                        .getCount())
                .isEqualTo(1);
    }

    @Test
    void weightDisableEnableReloadAndPurgeReachEveryNodeAndTheAnswerCountsThem() throws Exception {
        startCluster(CacheConfig.builder().build()); // a local cache on each node: purges go by command
        awaitNodes(3);
        AdminOperations viaOne = new AdminOperations(cluster.proxy(1).engine());

        assertThat(fanout(viaOne.weight("web", "b", 0))).containsEntry("applied", 3);
        assertThat(everyNode(backend -> backend.weight())).containsOnly(0);

        assertThat(fanout(viaOne.disable("web", "b"))).containsEntry("applied", 3);
        assertThat(everyNode(Backend::state)).containsOnly(BackendState.DISABLED);

        assertThat(fanout(viaOne.enable("web", "b"))).containsEntry("applied", 3);
        assertThat(everyNode(Backend::state)).doesNotContain(BackendState.DISABLED);

        assertThatThrownBy(() -> viaOne.drain("web", "zz"))
                .hasMessage("backend: zz (expected: one of [a, b] in pool web)");
        assertThat(everyNode(Backend::state))
                .as("refused before any node heard of it")
                .doesNotContain(BackendState.DRAINING);

        // Reload: every node re-reads its own sources; node 2's are broken and it says so.
        for (int node = 0; node < 3; node++) {
            ProxyEngine engine = cluster.proxy(node).engine();
            var next = engine.config().withWebSocket(new WebSocketConfig(Duration.ofSeconds(42), 7));
            engine.configSource(
                    node == 2
                            ? () -> {
                                throw new ConfigException("pool.web.backend.b.weight", "-1", "integer >= 0", "test");
                            }
                            : () -> next);
        }
        Map<String, Object> reloaded = viaOne.reload();
        assertThat(reloaded).containsEntry("ok", true).containsEntry("outcome", "applied");
        Map<String, Object> reloads = fanout(reloaded);
        assertThat(reloads)
                .containsEntry("nodes", 3)
                .containsEntry("acknowledged", 3)
                .containsEntry("applied", 2);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> acks = (List<Map<String, Object>>) reloads.get("acks");
        assertThat(acks)
                .anySatisfy(ack -> assertThat(ack)
                        .containsEntry("ok", true)
                        .containsEntry("detail", "configuration reload: applied, generation 2"))
                .anySatisfy(ack -> assertThat(ack)
                        .containsEntry("ok", false)
                        .containsEntry("address", nodeAddress(2))
                        .extractingByKey("detail")
                        .asString()
                        .contains("pool.web.backend.b.weight: -1 (expected: integer >= 0) [test]"));
        assertThat(List.of(generation(0), generation(1), generation(2))).containsExactly(2L, 2L, 1L);

        // A purge of local caches goes to every node too.
        for (int node = 0; node < 3; node++) {
            assertThat(cluster.get(node, "/cached").getStatus()).isEqualTo(200);
        }
        Map<String, Object> purged = viaOne.purge(ProxyCluster.url("/cached"), null);
        assertThat(purged).containsEntry("removed", 1);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> purges =
                (List<Map<String, Object>>) fanout(purged).get("acks");
        assertThat(purges)
                .extracting(ack -> ack.get("detail"))
                .containsOnly("cache purge of " + ProxyCluster.url("/cached") + ": removed");
    }

    private Backend backendB(int node) {
        return cluster.proxy(node).engine().pools().get("web").backends().stream()
                .filter(backend -> backend.name().equals("b"))
                .findFirst()
                .orElseThrow();
    }

    private <T> List<T> everyNode(java.util.function.Function<Backend, T> property) {
        return List.of(property.apply(backendB(0)), property.apply(backendB(1)), property.apply(backendB(2)));
    }

    private long generation(int node) {
        return cluster.proxy(node).engine().generation();
    }

    private String nodeAddress(int node) {
        return cluster.proxy(node).engine().cluster().address();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> fanout(Map<String, Object> answer) {
        return (Map<String, Object>) answer.get("cluster");
    }

    /** Until every node's heartbeats list {@code count} nodes, none late. */
    private void awaitNodes(int count) {
        Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            for (int node = 0; node < cluster.size(); node++) {
                assertThat(cluster.proxy(node).engine().clusterNode().nodes())
                        .hasSize(count)
                        .noneMatch(known -> known.late());
            }
        });
    }

    private void startAdmin(ProxyEngine engine) throws Exception {
        admin = new Server();
        ServerConnector connector = new ServerConnector(admin, 1, 1);
        connector.setHost("127.0.0.1");
        admin.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/");
        context.addServlet(new ServletHolder(new AdminServlet(engine, null)), "/*");
        admin.setHandler(context);
        admin.start();
        adminUri = URI.create("http://127.0.0.1:" + connector.getLocalPort());
    }

    private Map<String, Object> adminJson(String method, String path, int status) throws Exception {
        HttpResponse<String> response = http.send(
                HttpRequest.newBuilder(adminUri.resolve(path))
                        .method(method, HttpRequest.BodyPublishers.noBody())
                        .timeout(Duration.ofSeconds(30))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        return JSONObjectUtils.parse(response.body());
    }
}
