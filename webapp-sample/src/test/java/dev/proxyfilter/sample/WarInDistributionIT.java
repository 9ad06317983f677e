package dev.proxyfilter.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built {@code webapp-sample.war} installed the way a user installs it: copied into the
 * {@code webapps/} folder of a real container distribution, which is started with its own launcher
 * (subclasses say which), in front of two real backends whose addresses come in as
 * {@code -Dproxyfilter.*} JVM options. One container per class, started once: the tests run in order,
 * the configuration edit near the end and the stop last.
 *
 * <p>Complements {@link SampleWarIT}, which deploys the same WAR into embedded containers: what only a
 * real installation shows is the WAR unpacked by the container, the container's own class loaders and
 * logging, its scripts, and a stop by signal.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(ContainerLogsOnFailure.class)
@Timeout(120)
abstract class WarInDistributionIT implements ContainerLogsOnFailure.Source {
    /** The admin servlet's token in the sample's web.xml. */
    static final String ADMIN_TOKEN = "change-me-to-a-long-random-token";
    /** How long a container gets to start with the webapp: a cold JVM on a busy 2-core CI machine. */
    static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    /** How long it gets to stop after SIGTERM: the filter's grace (server.shutdown-timeout) is 25 s. */
    static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

    /**
     * A started container.
     *
     * @param warContext      the webapp deployed from the WAR file, e.g. {@code http://127.0.0.1:PORT/sample}
     * @param editableContext the webapp whose configuration the test edits: {@code warContext} where the
     *                        container unpacks the WAR into a lasting folder (Tomcat), else a deployment of
     *                        the WAR unpacked beforehand (Jetty)
     * @param editableConfig  that webapp's {@code WEB-INF/proxy.properties} on disk
     */
    record Deployment(ContainerProcess container, URI warContext, URI editableContext, Path editableConfig) {}

    private final TestClient client = new TestClient();
    private EchoBackend backendA;
    private EchoBackend backendB;
    private Deployment deployment;
    private long startedAt;

    /**
     * Prepares the container's folders under {@code workDir}, copies {@code war} into its webapps folder as
     * {@code sample.war}, starts it with {@code jvmOptions} and returns once the webapp answers.
     */
    abstract Deployment start(Path war, Path workDir, List<String> jvmOptions) throws Exception;

    /** Checks the container's logs after a SIGTERM: an orderly stop, nothing left behind by the webapp. */
    abstract void assertStoppedCleanly(String logs);

    /**
     * How long after the webapp started a first edit of its configuration must wait to be read fresh, or
     * zero (a container that served the file from a resource cache would need the cache's lifetime).
     */
    Duration staleReadWindow() {
        return Duration.ZERO;
    }

    @BeforeAll
    void startContainer(@TempDir Path workDir) throws Exception {
        Path war = Wars.sampleWar();
        assertThat(war).as("run `mvn package` first").isRegularFile();
        backendA = new EchoBackend("a");
        backendB = new EchoBackend("b");
        deployment = start(
                war,
                workDir,
                List.of(
                        "-Dproxyfilter.pool.api.backend.a.url=" + backendA.url(),
                        "-Dproxyfilter.pool.api.backend.b.url=" + backendB.url()));
        // The webapp answers: its filter read its configuration before this.
        startedAt = System.nanoTime();
    }

    @AfterAll
    void stopAll() throws Exception {
        try (AutoCloseable a = backendA;
                AutoCloseable b = backendB;
                AutoCloseable container = deployment == null ? null : deployment.container()) {
            // closes all three; the container is killed if the last test did not stop it
        }
    }

    @Override
    public String containerLogs() {
        return deployment == null ? "" : deployment.container().logs();
    }

    /** JVM options that start a container quickly and small: C1 only, a small heap, one GC thread. */
    static List<String> smallJvm() {
        return List.of("-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
    }

    @Test
    @Order(1)
    void aProxiedPathReachesBothBackendsWithThePathInsideTheWebapp() throws Exception {
        int before = backendRequests();

        List<String> answeredBy = answeredBy(deployment.warContext(), 4);

        // Weights 1 and 1 in the WAR's WEB-INF/proxy.properties: any four consecutive picks are two each.
        assertThat(answeredBy).containsExactlyInAnyOrder("a", "a", "b", "b");
        assertThat(backendRequests() - before).isEqualTo(4);
    }

    @Test
    @Order(2)
    void aPathNoRouteMatchesIsServedByTheWebappsOwnServlet() throws Exception {
        int before = backendRequests();

        HttpResponse<String> response = get(deployment.warContext(), "/hello");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo(HelloServlet.GREETING + "\n");
        assertThat(response.headers().firstValue("X-Backend")).isEmpty();
        assertThat(backendRequests()).isEqualTo(before);
    }

    @Test
    @Order(3)
    void theAdminServletAnswersUnderItsMappingWithTheToken() throws Exception {
        URI context = deployment.warContext();
        assertThat(get(context, "/proxy-admin/healthz").statusCode()).isEqualTo(200);
        assertThat(get(context, "/proxy-admin/api/pools").statusCode()).isEqualTo(401);

        HttpResponse<String> pools = getWithToken(context, "/proxy-admin/api/pools");
        assertThat(pools.statusCode()).isEqualTo(200);
        assertThat(pools.body())
                .contains("\"name\":\"api\"")
                .contains("\"url\":\"" + backendA.url() + "\"")
                .contains("\"url\":\"" + backendB.url() + "\"");
        HttpResponse<String> metrics = getWithToken(context, "/proxy-admin/metrics");
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.body()).contains("proxyfilter_route_request_duration_seconds_count{route=\"api\"}");
    }

    @Test
    @Order(4)
    void editingTheUnpackedConfigurationReloadsItWithoutARedeploy() throws Exception {
        URI context = deployment.editableContext();
        Path config = deployment.editableConfig();
        assertThat(answeredBy(context, 2)).containsExactlyInAnyOrder("a", "b");
        assertThat(reloadStatus(context)).contains("\"generation\":1");

        long waitNanos = startedAt + staleReadWindow().toNanos() - System.nanoTime();
        if (waitNanos > 0) {
            Thread.sleep(waitNanos / 1_000_000 + 1);
        }

        // As an operator edits it in place; the watch (reload.watch=true by default) sees the change.
        setWeightOfA(config, "1", "0");

        // Generation 2 of the same engine: the filter reloaded, the container did not redeploy the webapp
        // (a redeploy would start again at generation 1).
        awaitReload(context, 2);
        assertThat(answeredBy(context, 4)).containsOnly("b");
        if (!context.equals(deployment.warContext())) {
            // Another deployment of the same WAR keeps its own configuration.
            assertThat(answeredBy(deployment.warContext(), 2)).containsExactlyInAnyOrder("a", "b");
        }
    }

    @Test
    @Order(5)
    void aSecondEditRightAfterTheFirstIsAppliedToo() throws Exception {
        Assumptions.assumeTrue(
                staleReadWindow().isZero(),
                "the container serves WEB-INF/proxy.properties from its resource cache for "
                        + staleReadWindow().toSeconds() + " s after a read: see "
                        + getClass().getSimpleName());
        URI context = deployment.editableContext();

        setWeightOfA(deployment.editableConfig(), "0", "1"); // well within a second of the first reload

        awaitReload(context, 3);
        assertThat(answeredBy(context, 2)).containsExactlyInAnyOrder("a", "b");
    }

    @Test
    @Order(9)
    void sigtermStopsTheContainerAndUndeploysTheWebappCleanly() throws Exception {
        ContainerProcess container = deployment.container();

        assertThat(container.stop(STOP_TIMEOUT))
                .as("stopped within %s of SIGTERM", STOP_TIMEOUT)
                .isTrue();

        String logs = container.console();
        assertThat(logs).contains("proxy filter 'proxy' started");
        assertStoppedCleanly(logs);
        // ProxyFilter.destroy() closed the upstream pools: the backends see no connection left.
        await().atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(backendA.openConnections() + backendB.openConnections())
                        .isZero());
    }

    private static void setWeightOfA(Path config, String from, String to) throws Exception {
        String text = Files.readString(config);
        String line = "pool.api.backend.a.weight=";
        assertThat(text).contains(line + from + "\n");
        Files.writeString(config, text.replace(line + from + "\n", line + to + "\n"));
    }

    /** Waits until the engine behind {@code context} applied a reload from its file as {@code generation}. */
    private void awaitReload(URI context, int generation) {
        await().atMost(Duration.ofSeconds(15))
                .pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> assertThat(reloadStatus(context))
                        .contains("\"generation\":" + generation)
                        .contains("\"ok\":true")
                        .contains("\"trigger\":\"file\""));
    }

    private String reloadStatus(URI context) throws Exception {
        HttpResponse<String> response = getWithToken(context, "/proxy-admin/api/reload");
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body();
    }

    private int backendRequests() {
        return backendA.requests() + backendB.requests();
    }

    private HttpResponse<String> get(URI context, String path) throws Exception {
        return client.get(context, path);
    }

    private HttpResponse<String> getWithToken(URI context, String path) throws Exception {
        return client.get(context, path, "Authorization", "Bearer " + ADMIN_TOKEN);
    }

    private List<String> answeredBy(URI context, int count) throws Exception {
        // The context path is not forwarded: the backend sees the path the route matched, /api/x.
        return client.answeredBy(context, count);
    }
}
