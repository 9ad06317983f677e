package dev.proxyfilter.standalone;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The standalone proxy reloads in-process: it watches its {@code --config} file, its admin listener
 * reloads on {@code POST /api/reload} and names the settings that need a restart, and stopping it stops
 * the watcher. SIGHUP is covered by the black-box test, which runs the real script.
 */
@Timeout(60)
class StandaloneReloadIntegrationTest {
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

    private static String config(NamedBackend backend, String extra) {
        return """
                server.host=127.0.0.1
                server.port=0
                admin.port=0
                reload.debounce=50ms
                pool.web.backend.n.url=%s
                route.main.path=/
                route.main.pool=web
                """.formatted(backend.uri()) + extra;
    }

    private Path write(String text) throws Exception {
        return Files.writeString(dir.resolve("proxy.properties"), text, StandardCharsets.UTF_8);
    }

    private String get() throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/x"))
                .timeout(Duration.ofSeconds(10))
                .build();
        return client.send(request, HttpResponse.BodyHandlers.ofString()).body();
    }

    private HttpResponse<String> admin(String method, String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.adminPort() + path))
                .method(method, HttpRequest.BodyPublishers.noBody())
                .timeout(Duration.ofSeconds(10))
                .build();
        return client.send(request, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aChangeOfTheConfigFileReloadsAndStopStopsTheWatcher() throws Exception {
        proxy = ProxyMain.start("--config", write(config(a, "")).toString());
        assertThat(get()).isEqualTo("backend a\n");

        write(config(b, ""));

        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> get().equals("backend b\n"));
        assertThat(proxy.engine().lastReload().trigger()).isEqualTo("file");
        proxy.stop();
        assertThat(Thread.getAllStackTraces().keySet())
                .noneMatch(t -> t.getName().equals("proxy-config-watcher") && t.isAlive());
    }

    @Test
    void theAdminListenerReloadsAndNamesWhatNeedsARestart() throws Exception {
        proxy = ProxyMain.start(
                "--config", write(config(a, "reload.watch=false\n")).toString());
        int port = proxy.port();

        write(config(b, "reload.watch=false\n")
                .replace("server.port=0", "server.port=" + (port == 65535 ? 1 : port + 1)));
        HttpResponse<String> response = admin("POST", "/api/reload");

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.body())
                .contains("\"outcome\":\"applied\"")
                .contains("\"restart_required\":[\"server.*\"]")
                .contains("\"trigger\":\"admin\"");
        assertThat(get()).isEqualTo("backend b\n");
        assertThat(proxy.port()).isEqualTo(port);
        assertThat(admin("GET", "/api/reload").body())
                .contains("\"generation\":2")
                .contains("needs a restart: server.*");
    }
}
