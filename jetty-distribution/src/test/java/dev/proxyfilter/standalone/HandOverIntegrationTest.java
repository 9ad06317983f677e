package dev.proxyfilter.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.proxyfilter.testing.Backends;
import dev.proxyfilter.testing.TestBackend;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code server.reuse-port} in-process: two proxies on one port only when the second is a takeover, and
 * the first one's hand-over serves a request that comes on its kept-alive connection, then closes it.
 * {@link TakeoverBlackBoxIntegrationTest} runs the whole procedure under load on the packaged script.
 */
@Timeout(60)
class HandOverIntegrationTest {
    @TempDir
    Path dir;

    private NamedBackend backend;
    private RunningProxy first;
    private RunningProxy second;
    private int port;

    @BeforeEach
    void start() throws Exception {
        backend = NamedBackend.start("a");
        port = freePort();
    }

    @AfterEach
    void stop() throws Exception {
        if (second != null) {
            second.stop();
        }
        if (first != null) {
            first.stop();
        }
        backend.close();
    }

    private CommandLine config(boolean reusePort) throws IOException {
        Path file = Files.writeString(
                dir.resolve("proxy-" + reusePort + ".properties"), """
                server.host=127.0.0.1
                server.port=%d
                server.reuse-port=%s
                server.shutdown-timeout=5s
                admin.port=-1
                pool.web.backend.a.url=%s
                route.main.path=/
                route.main.pool=web
                """.formatted(port, reusePort, backend.uri()));
        return CommandLine.parse(new String[] {"--config", file.toString()}, dir);
    }

    @Test
    void withReusePortASecondStartIsStillRefusedUnlessItTakesOver() throws Exception {
        first = ProxyMain.start(config(true), new Properties(), false);

        assertThatThrownBy(() -> ProxyMain.start(config(true), new Properties(), false))
                .isInstanceOf(StartupException.class)
                .hasMessage("server.port: " + port + " (expected: a free port on 127.0.0.1; Address already in use)");

        second = ProxyMain.start(config(true), new Properties(), true);
        assertThat(second.port()).isEqualTo(port);
    }

    @Test
    void aTakeoverNeedsReusePortOnBothSides() throws Exception {
        assertThatThrownBy(() -> ProxyMain.start(config(false), new Properties(), true))
                .isInstanceOf(StartupException.class)
                .hasMessage("--takeover: server.reuse-port is false (expected: true, here and in the running proxy)");

        first = ProxyMain.start(config(false), new Properties(), false);
        assertThatThrownBy(() -> ProxyMain.start(config(true), new Properties(), true))
                .isInstanceOf(StartupException.class)
                .hasMessageStartingWith("server.port: " + port
                        + " (expected: a port the running proxy holds with server.reuse-port=true, or a free one,"
                        + " on 127.0.0.1; Address already in use");
    }

    @Test
    void theHandOverServesARequestOnAKeptAliveConnectionWithConnectionCloseThenClosesIt() throws Exception {
        first = ProxyMain.start(config(true), new Properties(), false);
        try (Socket kept = new Socket(InetAddress.getLoopbackAddress(), port)) {
            kept.setSoTimeout(10_000);
            assertThat(exchange(kept)).startsWith("HTTP/1.1 200 ").doesNotContain("Connection: close");

            second = ProxyMain.start(config(true), new Properties(), true);
            assertThat(exchange(kept)).startsWith("HTTP/1.1 200 ");
            CompletableFuture<Void> stopping = CompletableFuture.runAsync(first::stop);
            Awaitility.await()
                    .atMost(Duration.ofSeconds(5))
                    .until(() -> first.engine().draining());
            // A connection in use is never cut: each request is served (the plain SIGTERM would answer 503)
            // until a response says Connection: close, once the listener is closed; then it ends.
            String response;
            int served = 0;
            do {
                response = exchange(kept);
                assertThat(response).startsWith("HTTP/1.1 200 ").endsWith("backend a\n");
                served++;
                Thread.sleep(20);
            } while (!response.contains("Connection: close") && served < 200);
            assertThat(response).contains("Connection: close");
            assertThat(kept.getInputStream().read())
                    .as("closed by the old process")
                    .isEqualTo(-1);
            stopping.get(10, TimeUnit.SECONDS);
        }
        // The new process serves alone.
        try (Socket fresh = new Socket(InetAddress.getLoopbackAddress(), port)) {
            fresh.setSoTimeout(10_000);
            assertThat(exchange(fresh)).startsWith("HTTP/1.1 200 ");
        }
    }

    @Test
    void aRequestWaitingForASlowBackendFinishesThroughTheHandOver() throws Exception {
        Backends.Delayed delayed = new Backends.Delayed("slow", 2_500);
        TestBackend slow = TestBackend.start("slow", delayed);
        try {
            Path file = Files.writeString(dir.resolve("slow.properties"), """
                    server.host=127.0.0.1
                    server.port=%d
                    server.reuse-port=true
                    server.shutdown-timeout=10s
                    admin.port=-1
                    pool.web.backend.a.url=%s
                    route.main.path=/
                    route.main.pool=web
                    """.formatted(port, slow.url()));
            CommandLine commandLine = CommandLine.parse(new String[] {"--config", file.toString()}, dir);
            first = ProxyMain.start(commandLine, new Properties(), false);
            try (Socket waiting = new Socket(InetAddress.getLoopbackAddress(), port)) {
                waiting.setSoTimeout(15_000);
                second = ProxyMain.start(commandLine, new Properties(), true);
                CompletableFuture<String> response = CompletableFuture.supplyAsync(() -> {
                    try {
                        return exchange(waiting);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> delayed.requests.get() == 1);
                long start = System.nanoTime();
                first.stop(); // the hand-over lowers idle timeouts to 1 s; this exchange is not idle
                assertThat(response.get(10, TimeUnit.SECONDS))
                        .startsWith("HTTP/1.1 200 ")
                        .contains("Connection: close")
                        .endsWith("slow");
                assertThat(System.nanoTime() - start).isGreaterThan(TimeUnit.MILLISECONDS.toNanos(1_000));
            }
        } finally {
            slow.close();
        }
    }

    /** One GET on the connection; the response head and body as text. */
    private String exchange(Socket socket) throws IOException {
        socket.getOutputStream()
                .write(("GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed after " + head);
            }
            head.write(b);
        }
        String text = head.toString(StandardCharsets.ISO_8859_1);
        int length = text.lines()
                .filter(l -> l.regionMatches(true, 0, "Content-Length:", 0, 15))
                .map(l -> Integer.parseInt(l.substring(15).trim()))
                .findFirst()
                .orElseThrow();
        return text + new String(in.readNBytes(length), StandardCharsets.ISO_8859_1);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }
}
