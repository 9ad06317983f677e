package dev.proxyfilter.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.proxyfilter.config.ConfigException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@link ProxyMain} in-process, with real backends and the proxy on ephemeral ports. */
@Timeout(60)
class ProxyMainIntegrationTest {
    @TempDir
    Path dir;

    private NamedBackend a;
    private NamedBackend b;
    private RunningProxy proxy;
    private final HttpClient client =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void startBackends() throws Exception {
        a = NamedBackend.start("a");
        b = NamedBackend.start("b");
    }

    @AfterEach
    void stopAll() throws Exception {
        if (proxy != null) {
            proxy.stop();
        }
        a.close();
        b.close();
    }

    @Test
    void balancesByWeightOverTheConfiguredPool() throws Exception {
        proxy = ProxyMain.start("--config", writeConfig(webPool()).toString());

        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 400; i++) {
            HttpResponse<String> response = get("/app/" + i);
            assertThat(response.statusCode()).isEqualTo(200);
            counts.merge(response.body(), 1, Integer::sum);
        }

        assertThat(counts).containsOnlyKeys("backend a\n", "backend b\n");
        // Smooth weighted round-robin gives exactly 300/100; allow 2%.
        assertThat(counts.get("backend a\n")).isCloseTo(300, within(8));
        assertThat(counts.get("backend b\n")).isCloseTo(100, within(8));
        assertThat(a.requests() + b.requests()).isEqualTo(400);
    }

    @Test
    void requestMatchingNoRouteGets404AndNoBackendSeesIt() throws Exception {
        proxy = ProxyMain.start("--config", writeConfig(webPool()).toString());

        HttpResponse<String> response = get("/elsewhere");

        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(response.headers().firstValue("Server")).isEmpty();
        assertThat(response.headers().firstValue("X-Powered-By")).isEmpty();
        assertThat(a.requests() + b.requests()).isZero();
    }

    @Test
    void stopClosesThePortAndIsIdempotent() throws Exception {
        proxy = ProxyMain.start("--config", writeConfig(webPool()).toString());
        int port = proxy.port();
        assertThat(get("/app").statusCode()).isEqualTo(200);

        proxy.stop();
        proxy.stop();

        assertThatThrownBy(() -> new Socket(InetAddress.getLoopbackAddress(), port).close())
                .isInstanceOf(ConnectException.class);
    }

    @Test
    void startsDemoBackendsThatAnswerWithTheirName() throws Exception {
        int portA = freePort();
        int portB = freePort();
        proxy = ProxyMain.start(
                "--config",
                writeConfig("""
                server.host=127.0.0.1
                server.port=0
                admin.port=0
                pool.demo.backend.a.url=http://127.0.0.1:%d
                pool.demo.backend.a.weight=3
                pool.demo.backend.b.url=http://127.0.0.1:%d
                route.main.path=/
                route.main.pool=demo
                demo.backend.a.port=%d
                demo.backend.b.port=%d
                """.formatted(portA, portB, portA, portB)).toString());

        assertThat(proxy.demoPorts()).containsExactly(Map.entry("a", portA), Map.entry("b", portB));
        HttpResponse<String> direct = client.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + portB + "/x"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(direct.statusCode()).isEqualTo(200);
        assertThat(direct.body()).isEqualTo("backend b\n");
        assertThat(direct.headers().firstValue("X-Backend")).hasValue("b");
        assertThat(direct.headers().firstValue("Content-Type"))
                .hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));

        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 8; i++) {
            counts.merge(get("/").body(), 1, Integer::sum);
        }
        assertThat(counts).containsExactlyInAnyOrderEntriesOf(Map.of("backend a\n", 6, "backend b\n", 2));
    }

    @Test
    void systemPropertiesOverrideTheFileAndProxyfilterHomeIsNotAKey() throws Exception {
        Path config = writeConfig(webPool().replace("route.main.path=/app", "route.main.path=/other"));
        Properties system = new Properties();
        system.setProperty("proxyfilter.home", dir.toString());
        system.setProperty("proxyfilter.route.main.path", "/app");

        proxy = ProxyMain.start(CommandLine.parse(new String[] {"--config", config.toString()}, dir), system);

        assertThat(get("/app").statusCode()).isEqualTo(200);
        assertThat(get("/other").statusCode()).isEqualTo(404);
    }

    @Test
    void badConfigurationIsReportedWithKeyValueAndFile() throws Exception {
        Path config = writeConfig(webPool().replace("pool.web.backend.a.weight=3", "pool.web.backend.a.weight=-1"));

        assertThatThrownBy(() -> ProxyMain.start("--config", config.toString()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("pool.web.backend.a.weight: -1 (expected: integer >= 0) [" + config + "]")
                .satisfies(e -> {
                    assertThat(ProxyMain.exitStatus(e)).isEqualTo(1);
                    assertThat(report(e))
                            .isEqualTo("proxy-filter: configuration error: "
                                    + "pool.web.backend.a.weight: -1 (expected: integer >= 0) [" + config + "]\n");
                });
    }

    @Test
    void missingConfigurationFileIsNamed() {
        Path missing = dir.resolve("missing.properties");

        assertThatThrownBy(() -> ProxyMain.start("--config", missing.toString()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("--config: " + missing + " (expected: an existing, readable properties file)")
                .satisfies(e -> assertThat(ProxyMain.exitStatus(e)).isEqualTo(1));
    }

    @Test
    void serverPortInUseIsNamed() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            Path config = writeConfig(webPool().replace("server.port=0", "server.port=" + port));

            assertThatThrownBy(() -> ProxyMain.start("--config", config.toString()))
                    .isInstanceOf(StartupException.class)
                    .hasMessageStartingWith("server.port: " + port + " (expected: a free port on 127.0.0.1; ")
                    .satisfies(e -> {
                        assertThat(ProxyMain.exitStatus(e)).isEqualTo(1);
                        assertThat(report(e))
                                .startsWith("proxy-filter: server.port: " + port)
                                .doesNotContain("\tat ");
                    });
        }
    }

    @Test
    void demoPortInUseIsNamedAndNothingKeepsRunning() throws Exception {
        int free = freePort();
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            Path config =
                    writeConfig(webPool() + "demo.backend.a.port=" + free + "\ndemo.backend.b.port=" + port + "\n");

            assertThatThrownBy(() -> ProxyMain.start("--config", config.toString()))
                    .isInstanceOf(StartupException.class)
                    .hasMessageStartingWith("demo.backend.b.port: " + port + " (expected: a free port on 127.0.0.1; ");
        }
        // The demo backend that did bind was closed again.
        try (ServerSocket again = new ServerSocket(free, 50, InetAddress.getByName("127.0.0.1"))) {
            assertThat(again.getLocalPort()).isEqualTo(free);
        }
    }

    @Test
    void exitStatusesAndReports() {
        StartupException usage = StartupException.usage("unknown argument: -x (expected: --config FILE or --help)");
        assertThat(ProxyMain.exitStatus(usage)).isEqualTo(2);
        assertThat(report(usage))
                .startsWith(
                        "proxy-filter: unknown argument: -x (expected: --config FILE or --help)\n\nusage: proxy-filter");

        IllegalStateException unexpected = new IllegalStateException("boom");
        assertThat(ProxyMain.exitStatus(unexpected)).isEqualTo(1);
        assertThat(report(unexpected))
                .startsWith("proxy-filter: cannot start: java.lang.IllegalStateException: boom\n")
                .contains("\tat ");
    }

    @Test
    void helpStartsNothing() {
        assertThatThrownBy(() -> ProxyMain.start("--help")).isInstanceOf(StartupException.class);
    }

    private String webPool() {
        return """
                server.host=127.0.0.1
                server.port=0
                admin.port=0
                pool.web.strategy=weighted-round-robin
                pool.web.backend.a.url=%s
                pool.web.backend.a.weight=3
                pool.web.backend.b.url=%s
                pool.web.backend.b.weight=1
                route.main.path=/app
                route.main.pool=web
                """.formatted(a.uri(), b.uri());
    }

    private Path writeConfig(String text) throws IOException {
        return Files.writeString(dir.resolve("proxy.properties"), text, StandardCharsets.UTF_8);
    }

    private HttpResponse<String> get(String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + path))
                .timeout(Duration.ofSeconds(10))
                .build();
        return client.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private static String report(Throwable failure) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProxyMain.report(failure, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return bytes.toString(StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n");
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }
}
