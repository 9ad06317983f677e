package dev.proxyfilter.jetty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.RequestLimits;
import dev.proxyfilter.config.ServerConfig;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.testing.Backends;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.RawHttp;
import dev.proxyfilter.testing.TestBackend;
import dev.proxyfilter.testing.TestConfigs;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What only the core handler does itself (the behaviour suites run over it as {@code HANDLER_IN_JETTY}
 * too): a response whose {@code Content-Length} is reached ends with that write, on a connection that
 * stays usable; Jetty's {@code Date} is replaced, not doubled; a body over the limit, which the engine
 * stops reading, is the client's 413 and not a failure of Jetty's request.
 */
@Timeout(60)
class ProxyHandlerIntegrationTest {
    private final List<AutoCloseable> resources = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private <T extends AutoCloseable> T track(T resource) {
        resources.add(resource);
        return resource;
    }

    private URI proxy(TestConfigs config) {
        return track(ProxyAdapter.HANDLER_IN_JETTY.start(config.build())).uri();
    }

    @Test
    void responsesEndWithTheirLastByteOnAKeptAliveConnection() throws Exception {
        TestBackend backend = track(TestBackend.start("a", new Backends.Echo("alpha")));
        URI proxy = proxy(TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "a", backend.url(), 1)
                .route("main", "/", "web"));

        try (Socket socket = new Socket(proxy.getHost(), proxy.getPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            for (String method : List.of("GET", "HEAD", "GET")) {
                out.write((method + " /x HTTP/1.1\r\nHost: h\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                RawHttp.Response response = RawHttp.read(in, method.equals("HEAD"));
                assertThat(response.status()).as(method).isEqualTo(200);
                assertThat(response.header("Content-Length")).as(method).isEqualTo("5");
                assertThat(response.all("Date")).as(method).hasSize(1);
                assertThat(response.header("Connection")).as(method).isNull();
                if (method.equals("GET")) {
                    assertThat(response.bodyText()).isEqualTo("alpha");
                }
            }
        }
    }

    /**
     * The client connection's idle timeout does not cut an exchange that waits for a slow backend (the
     * route's timeouts bound that), yet a connection idle between requests is still closed by it.
     */
    @Test
    void theClientIdleTimeoutSparesAnExchangeWaitingForItsBackend() throws Exception {
        TestBackend backend = track(TestBackend.start("slow", new Backends.Slow()));
        URI proxy = proxy(TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "a", backend.url(), 1)
                .route("main", "/", "web")
                .server(new ServerConfig(
                        "127.0.0.1",
                        0,
                        ServerConfig.DEFAULT_MAX_HEADER_BYTES,
                        ServerConfig.DEFAULT_MAX_URI_BYTES,
                        ServerConfig.DEFAULT_HEADER_TIMEOUT,
                        Duration.ofMillis(300),
                        null)));

        try (Socket socket = new Socket(proxy.getHost(), proxy.getPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream()
                    .write("GET /slow?ms=1200 HTTP/1.1\r\nHost: h\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            RawHttp.Response response = RawHttp.read(socket.getInputStream(), false);
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.body())
                    .as("the whole body, after a 1.2 s pause over a 0.3 s idle timeout")
                    .isEqualTo(Backends.slowBody());
            long idleStart = System.nanoTime();
            assertThat(socket.getInputStream().read())
                    .as("closed once idle between requests")
                    .isEqualTo(-1);
            assertThat(Duration.ofNanos(System.nanoTime() - idleStart)).isLessThan(Duration.ofSeconds(5));
        }
    }

    @Test
    void aChunkedBodyOverTheLimitIs413() throws Exception {
        TestBackend backend = track(TestBackend.start("a", new Backends.Echo("alpha")));
        URI proxy = proxy(TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "a", backend.url(), 1)
                .route("main", "/", "web")
                .limits(new RequestLimits(100, 8, Duration.ZERO)));

        RawHttp.Response response = RawHttp.exchange(
                proxy,
                "POST /x HTTP/1.1\r\nHost: h\r\n"
                        + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n");

        assertThat(response.status()).isEqualTo(413);
        assertThat(response.header("Content-Type")).isEqualTo("text/plain;charset=utf-8");
        assertThat(response.header("X-Content-Type-Options")).isEqualTo("nosniff");
    }

    @Test
    void connectIs405AndNeverReachesABackend() throws Exception {
        Backends.Echo echo = new Backends.Echo("alpha");
        TestBackend backend = track(TestBackend.start("a", echo));
        URI proxy = proxy(TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "a", backend.url(), 1)
                .route("main", "/", "web"));

        RawHttp.Response connect = RawHttp.exchange(proxy, "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n");
        assertThat(connect.status()).isEqualTo(405);
        assertThat(connect.header("Allow")).isEqualTo("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE");
        assertThat(connect.bodyText()).isEqualTo("Method Not Allowed: this proxy opens no tunnels\n");
        assertThat(echo.requests).hasValue(0);
    }
}
