package dev.proxyfilter.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.AfterAll;
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
 * {@code ProxyValve} in Tomcat's own distribution, installed once per Tomcat as the README's "Once per
 * Tomcat: the Valve" says: the library and its dependencies (the jars of the sample WAR's
 * {@code WEB-INF/lib}) in {@code $CATALINA_BASE/lib}, the valve in {@code conf/server.xml} inside the
 * {@code <Host>} with its {@code config} attribute naming {@code conf/proxy-filter.properties}, and an
 * ordinary {@code ROOT} webapp beside it. Routes match the full request path; what none matches goes on to
 * the webapps. One Tomcat for the class; the tests run in order, the stop last.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(ContainerLogsOnFailure.class)
@Timeout(120)
class TomcatValveDistributionIT implements ContainerLogsOnFailure.Source {
    /** The ROOT webapp's own page. */
    private static final String ROOT_PAGE = "<html><body>the site's own page</body></html>\n";
    /** In server.xml, as the README shows it; ${catalina.base} makes it independent of the working directory. */
    private static final String VALVE = "<Valve className=\"dev.proxyfilter.servlet.ProxyValve\""
            + " config=\"${catalina.base}/conf/proxy-filter.properties\"/>";

    private final TestClient client = new TestClient();
    private EchoBackend backendA;
    private EchoBackend backendB;
    private TomcatDistribution tomcat;
    private ContainerProcess process;
    private Path config;

    @BeforeAll
    void startTomcat(@TempDir Path workDir) throws Exception {
        backendA = new EchoBackend("a");
        backendB = new EchoBackend("b");
        tomcat = TomcatDistribution.newInstance(workDir.resolve("tomcat-base"));
        Path base = tomcat.base();
        copyWebInfLib(Wars.sampleWar(), base.resolve("lib"));
        config = Files.writeString(
                base.resolve("conf/proxy-filter.properties"), """
                pool.api.backend.a.url=%s
                pool.api.backend.a.weight=1
                pool.api.backend.b.url=%s
                pool.api.backend.b.weight=1
                route.api.path=/api
                route.api.pool=api
                """.formatted(backendA.url(), backendB.url()));
        tomcat.addToHost(VALVE);
        Path root = Files.createDirectories(base.resolve("webapps/ROOT"));
        Files.writeString(root.resolve("index.html"), ROOT_PAGE);

        process = tomcat.start(WarInDistributionIT.smallJvm(), "/index.html", WarInDistributionIT.START_TIMEOUT);
    }

    @AfterAll
    void stopAll() throws Exception {
        try (AutoCloseable a = backendA;
                AutoCloseable b = backendB;
                AutoCloseable container = process) {
            // closes all three; Tomcat is killed if the last test did not stop it
        }
    }

    @Override
    public String containerLogs() {
        return process == null ? "" : process.logs();
    }

    @Test
    @Order(1)
    void aRoutedPathReachesBothBackendsWithTheFullPath() throws Exception {
        List<String> answeredBy = client.answeredBy(tomcat.uri(), 4);

        assertThat(answeredBy).containsExactlyInAnyOrder("a", "a", "b", "b");
        // Its log lines reach Tomcat's logging through slf4j-jdk14, one of the jars in lib/.
        assertThat(process.console()).contains("watching " + config.toRealPath() + " for configuration changes");
    }

    @Test
    @Order(2)
    void aPathNoRouteMatchesGoesOnToTheWebapp() throws Exception {
        int before = backendA.requests() + backendB.requests();

        HttpResponse<String> response = client.get(tomcat.uri(), "/index.html");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo(ROOT_PAGE);
        assertThat(response.headers().firstValue("X-Backend")).isEmpty();
        assertThat(backendA.requests() + backendB.requests()).isEqualTo(before);
    }

    @Test
    @Order(3)
    void editingTheValvesConfigurationFileReloadsIt() throws Exception {
        String text = Files.readString(config);
        Files.writeString(config, text.replace("pool.api.backend.a.weight=1\n", "pool.api.backend.a.weight=0\n"));

        await().atMost(Duration.ofSeconds(15))
                .pollInterval(Duration.ofMillis(200))
                .untilAsserted(
                        () -> assertThat(process.console()).contains("configuration reloaded (file): generation 2"));
        assertThat(client.answeredBy(tomcat.uri(), 4)).containsOnly("b");
    }

    @Test
    @Order(9)
    void sigtermStopsTomcatAndTheValveCleanly() throws Exception {
        assertThat(process.stop(WarInDistributionIT.STOP_TIMEOUT))
                .as("stopped within %s of SIGTERM", WarInDistributionIT.STOP_TIMEOUT)
                .isTrue();

        TomcatDistribution.assertStoppedCleanly(process.console());
        // The valve's stop closed the engine's upstream pools.
        await().atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(backendA.openConnections() + backendB.openConnections())
                        .isZero());
    }

    /** Copies every jar of the WAR's {@code WEB-INF/lib} into {@code lib}: the library and what it needs. */
    private static void copyWebInfLib(Path war, Path lib) throws Exception {
        List<String> copied = new ArrayList<>();
        try (ZipFile zip = new ZipFile(war.toFile())) {
            for (ZipEntry entry : zip.stream().toList()) {
                String name = entry.getName();
                if (name.startsWith("WEB-INF/lib/") && name.endsWith(".jar")) {
                    String jar = name.substring("WEB-INF/lib/".length());
                    try (var in = zip.getInputStream(entry)) {
                        Files.copy(in, lib.resolve(jar));
                    }
                    copied.add(jar);
                }
            }
        }
        assertThat(copied).anyMatch(jar -> jar.startsWith("proxy-filter-"));
    }
}
