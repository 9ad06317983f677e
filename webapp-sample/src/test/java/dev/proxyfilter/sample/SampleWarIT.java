package dev.proxyfilter.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.proxyfilter.sample.DeployedWar.Container;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The built {@code webapp-sample.war}, deployed unchanged under {@code /sample} in Tomcat 11 and in
 * Jetty 12 ee10, in front of two real backends: {@code /sample/api/*} reaches the pool as
 * {@code /api/*}, everything else is the webapp's own, and a bad configuration keeps the webapp from
 * starting. The backends' addresses come in through {@code -Dproxyfilter.*} system properties, as an
 * operator would pass them. One case unpacks the WAR to check the drop-in installation instead.
 *
 * <p>Named {@code *IT} rather than {@code *IntegrationTest}: failsafe runs it after {@code package},
 * when the WAR exists; surefire would run it before.
 */
@Timeout(60)
class SampleWarIT {
    private static final String CONTEXT_PATH = "/sample";
    private static final String URL_A = "proxyfilter.pool.api.backend.a.url";
    private static final String URL_B = "proxyfilter.pool.api.backend.b.url";
    private static final String WEIGHT_A = "proxyfilter.pool.api.backend.a.weight";
    /** The sample's web.xml without the ProxyFilter declaration. */
    private static final String HELLO_ONLY_WEB_XML = """
            <?xml version="1.0" encoding="UTF-8"?>
            <web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0">
              <servlet>
                <servlet-name>hello</servlet-name>
                <servlet-class>dev.proxyfilter.sample.HelloServlet</servlet-class>
              </servlet>
              <servlet-mapping>
                <servlet-name>hello</servlet-name>
                <url-pattern>/hello</url-pattern>
              </servlet-mapping>
            </web-app>
            """;

    private static Path war;

    @TempDir
    Path workDir;

    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
    private EchoBackend backendA;
    private EchoBackend backendB;
    private DeployedWar deployed;

    @BeforeAll
    static void findWar() {
        war = Wars.sampleWar();
        assertThat(war).as("run `mvn package` first").isRegularFile();
    }

    @BeforeEach
    void startBackends() throws Exception {
        backendA = new EchoBackend("a");
        backendB = new EchoBackend("b");
        System.setProperty(URL_A, backendA.url().toString());
        System.setProperty(URL_B, backendB.url().toString());
    }

    @AfterEach
    void stopAll() throws Exception {
        System.clearProperty(URL_A);
        System.clearProperty(URL_B);
        System.clearProperty(WEIGHT_A);
        try (AutoCloseable a = backendA;
                AutoCloseable b = backendB;
                AutoCloseable d = deployed) {
            // closes all three, in reverse order
        }
    }

    private void deploy(Container container) throws Exception {
        deployed = container.deploy(war, CONTEXT_PATH, workDir);
    }

    private HttpResponse<String> get(String pathInContext) throws Exception {
        return send(HttpRequest.newBuilder(uri(pathInContext)).GET());
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String pathInContext) {
        return URI.create(deployed.contextUri() + pathInContext);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Container.class)
    void apiRequestsReachBothBackendsWithThePathInsideTheWebapp(Container container) throws Exception {
        deploy(container);
        assertThat(deployed.available()).isTrue();

        List<String> answeredBy = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> response = get("/api/x?n=" + i);
            assertThat(response.statusCode()).isEqualTo(200);
            // The context path is not forwarded: the backend sees the path the route matched.
            assertThat(response.headers().firstValue("X-Received-Path")).hasValue("/api/x");
            assertThat(response.headers().firstValue("X-Received-Query")).hasValue("n=" + i);
            assertThat(response.headers().firstValue("X-Backend")).hasValue(response.body());
            answeredBy.add(response.body());
        }
        // Weights 1 and 1: any four consecutive picks are two each.
        assertThat(answeredBy).containsExactlyInAnyOrder("a", "a", "b", "b");
        assertThat(backendA.requests()).isEqualTo(2);
        assertThat(backendB.requests()).isEqualTo(2);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Container.class)
    void theAdminServletServesTheFiltersMetricsAndApiUnderItsMapping(Container container) throws Exception {
        deploy(container);
        get("/api/x");
        get("/api/x");

        assertThat(get("/proxy-admin/healthz").statusCode()).isEqualTo(200);
        assertThat(get("/proxy-admin/api/pools").statusCode()).isEqualTo(401);
        HttpResponse<String> pools = send(HttpRequest.newBuilder(uri("/proxy-admin/api/pools"))
                .header("Authorization", "Bearer change-me-to-a-long-random-token"));
        assertThat(pools.statusCode()).isEqualTo(200);
        assertThat(pools.body())
                .contains("\"name\":\"api\"")
                .contains("\"name\":\"a\"")
                .contains("\"name\":\"b\"");
        HttpResponse<String> metrics = send(HttpRequest.newBuilder(uri("/proxy-admin/metrics"))
                .header("Authorization", "Bearer change-me-to-a-long-random-token"));
        assertThat(metrics.body()).contains("proxyfilter_route_request_duration_seconds_count{route=\"api\"}");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Container.class)
    void postBodyRoundTripsThroughTheProxy(Container container) throws Exception {
        deploy(container);
        String body = "{\"order\": 42, \"note\": \"caf\u00e9\"}".repeat(100);

        HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/api/echo"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("X-Received-Method")).hasValue("POST");
        assertThat(response.headers().firstValue("X-Received-Path")).hasValue("/api/echo");
        assertThat(response.body()).isEqualTo(body);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Container.class)
    void theWebappsOwnServletIsServedLocally(Container container) throws Exception {
        deploy(container);

        HttpResponse<String> response = get("/hello");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo(HelloServlet.GREETING + "\n");
        assertThat(response.headers().firstValue("X-Backend")).isEmpty();
        assertThat(backendA.requests() + backendB.requests()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Container.class)
    void theIndexPageIsServedLocally(Container container) throws Exception {
        deploy(container);

        HttpResponse<String> response = get("/");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type"))
                .hasValueSatisfying(type -> assertThat(type).startsWith("text/html"));
        assertThat(response.body()).contains("<h1>Proxy Filter sample webapp</h1>");
        assertThat(backendA.requests() + backendB.requests()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Container.class)
    void withoutWebXmlTheFilterInstallsItselfFromProxyFilterProperties(Container container) throws Exception {
        // The drop-in installation: no ProxyFilter in web.xml, the configuration renamed to
        // WEB-INF/proxy-filter.properties. ProxyFilterInitializer (a ServletContainerInitializer, which
        // Jetty runs only with jetty-ee10-annotations) installs the filter for /*.
        Path webapp = Wars.unpack(war, workDir.resolve("drop-in"));
        Files.writeString(webapp.resolve("WEB-INF/web.xml"), HELLO_ONLY_WEB_XML);
        Files.move(webapp.resolve("WEB-INF/proxy.properties"), webapp.resolve("WEB-INF/proxy-filter.properties"));
        deployed = container.deploy(webapp, CONTEXT_PATH, workDir);

        HttpResponse<String> proxied = get("/api/x");
        assertThat(proxied.statusCode()).isEqualTo(200);
        assertThat(proxied.headers().firstValue("X-Received-Path")).hasValue("/api/x");
        // Mapped to /*, the filter passes what no route matches down the chain.
        HttpResponse<String> local = get("/hello");
        assertThat(local.statusCode()).isEqualTo(200);
        assertThat(local.body()).isEqualTo(HelloServlet.GREETING + "\n");
        assertThat(backendA.requests() + backendB.requests()).isEqualTo(1);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Container.class)
    void theFilterLogsItsStartThroughTheWarsOwnLoggingProvider(Container container) throws Exception {
        // slf4j-jdk14 in WEB-INF/lib hands the library's SLF4J lines to java.util.logging, the JVM-wide
        // LogManager that this test can listen to.
        List<String> messages = new CopyOnWriteArrayList<>();
        Logger logger = Logger.getLogger("dev.proxyfilter");
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                messages.add(record.getLevel() + " " + record.getMessage());
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        logger.addHandler(capture);
        try {
            deploy(container);
        } finally {
            logger.removeHandler(capture);
        }

        assertThat(messages)
                .anySatisfy(message ->
                        assertThat(message).startsWith("INFO proxy filter 'proxy' started: 1 route(s), 1 pool(s)"));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Container.class)
    void aBadConfigurationKeepsTheWebappFromStarting(Container container) throws Exception {
        System.setProperty(WEIGHT_A, "-1");

        deploy(container);

        assertThat(deployed.available()).isFalse();
        assertThat(deployed.startupFailure()).isNotNull();
        assertThat(rootCauseMessages(deployed.startupFailure()))
                .anySatisfy(message -> assertThat(message)
                        .isEqualTo("pool.api.backend.a.weight: -1 (expected: integer >= 0) "
                                + "[system property proxyfilter.pool.api.backend.a.weight]"));
        // Neither the proxied paths nor the webapp's own content are served by a half-started webapp.
        assertThat(get("/hello").statusCode()).isEqualTo(container == Container.TOMCAT ? 404 : 503);
        assertThat(get("/api/x").statusCode()).isEqualTo(container == Container.TOMCAT ? 404 : 503);
        assertThat(backendA.requests() + backendB.requests()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Container.class)
    void aBackendFailingMidBodyReachesTheClientAsATruncatedResponse(Container container) throws Exception {
        deploy(container);

        // The status and the first chunk are already on their way: the only honest signal left is to
        // cut the connection, so that the client cannot take the partial body for a complete one.
        assertThatThrownBy(() -> get("/api/broken"))
                .as("the proxy must not end the truncated body like a complete one")
                .isInstanceOf(IOException.class);
        assertThat(backendA.requests() + backendB.requests()).isEqualTo(1);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Container.class)
    void undeployingStopsEveryThreadTheWebappStarted(Container container) throws Exception {
        deploy(container);
        assertThat(get("/api/x").statusCode()).isEqualTo(200);
        assertThat(webappThreads())
                .as("the upstream client runs threads of the webapp")
                .isNotEmpty();

        deployed.close();

        // ProxyFilter.destroy() stops the upstream client; a thread left behind would pin the webapp's
        // class loader in a container that redeploys it.
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(webappThreads()).isEmpty());
    }

    /**
     * Live threads whose context class loader is a webapp's: below the test's own class loader, which is
     * the parent of both containers' webapp class loaders.
     */
    private static List<String> webappThreads() {
        ClassLoader testLoader = SampleWarIT.class.getClassLoader();
        List<String> names = new ArrayList<>();
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            ClassLoader loader = thread.getContextClassLoader();
            if (thread.isAlive() && loader != null && isBelow(loader, testLoader)) {
                names.add(thread.getName());
            }
        }
        return names;
    }

    /** Whether {@code ancestor} is a strict ancestor of {@code loader}. */
    private static boolean isBelow(ClassLoader loader, ClassLoader ancestor) {
        for (ClassLoader l = loader.getParent(); l != null; l = l.getParent()) {
            if (l == ancestor) {
                return true;
            }
        }
        return false;
    }

    private static List<String> rootCauseMessages(Throwable failure) {
        List<String> messages = new ArrayList<>();
        for (Throwable t = failure; t != null && messages.size() < 10; t = t.getCause()) {
            messages.add(t.getMessage());
        }
        return messages;
    }
}
