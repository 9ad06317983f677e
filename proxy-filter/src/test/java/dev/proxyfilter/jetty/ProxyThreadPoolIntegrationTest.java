package dev.proxyfilter.jetty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.testing.Backends;
import dev.proxyfilter.testing.RawHttp;
import dev.proxyfilter.testing.TestBackend;
import dev.proxyfilter.testing.TestConfigs;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link ProxyThreadPool} under a real Jetty server running {@link ProxyHandler} against real backends:
 * a connection whose proxied response completed resumes on the completing thread, with no pool job, and
 * what the client sent meanwhile (pipelined requests) is answered in order. The behaviour suites run over
 * this pool too ({@code HANDLER_IN_JETTY}).
 */
@Timeout(60)
class ProxyThreadPoolIntegrationTest {
    private final List<AutoCloseable> resources = new ArrayList<>();
    private ProxyThreadPool threads;
    private int port;

    @AfterEach
    void stop() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private void startProxy(TestBackend backend) throws Exception {
        threads = new ProxyThreadPool(32, 4);
        threads.setName("pool-test");
        Server server = new Server(threads);
        ServerConnector connector = new ServerConnector(server, 1, 1);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(new ProxyHandler(TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "a", backend.url(), 1)
                .route("main", "/", "web")
                .build()));
        server.start();
        resources.add(server::stop);
        port = connector.getLocalPort();
    }

    @Test
    void aConnectionWhoseResponseCompletedLaterResumesOnTheCompletingThread() throws Exception {
        // The backend answers 50 ms later: the handler has returned by then, so a response completes on
        // the thread that read the backend's answer, and that thread resumes the connection. (Not every
        // one need: a handling thread descheduled for longer than the delay on a loaded machine sees its
        // response complete before it returns, and Jetty then carries on without a resume.)
        TestBackend backend = TestBackend.start("a", new Backends.Delayed("alpha", 50));
        resources.add(backend);
        startProxy(backend);
        long before = threads.resumedInline();

        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            for (int i = 0; i < 10; i++) {
                out.write(("GET /r" + i + " HTTP/1.1\r\nHost: h\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                RawHttp.Response response = RawHttp.read(in, false);
                assertThat(response.status()).isEqualTo(200);
                assertThat(response.bodyText()).isEqualTo("alpha");
            }
        }

        assertThat(threads.resumedInline() - before)
                .as("connections resumed without a pool job")
                .isPositive();
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        // Three requests in one write: the second and third wait in the connection's buffer while the
        // first is proxied, and are parsed when the connection resumes.
        TestBackend backend = TestBackend.start("a", new Backends.Echo("alpha"));
        resources.add(backend);
        startProxy(backend);

        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            for (int round = 0; round < 20; round++) {
                StringBuilder requests = new StringBuilder();
                for (int i = 0; i < 3; i++) {
                    requests.append("GET /p")
                            .append(round)
                            .append('-')
                            .append(i)
                            .append(" HTTP/1.1\r\nHost: h\r\n\r\n");
                }
                out.write(requests.toString().getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                for (int i = 0; i < 3; i++) {
                    RawHttp.Response response = RawHttp.read(in, false);
                    assertThat(response.status()).isEqualTo(200);
                    assertThat(response.header("X-Received-Path")).isEqualTo("/p" + round + "-" + i);
                }
            }
        }
    }

    @Test
    void otherJobsRunOnPoolThreads() throws Exception {
        TestBackend backend = TestBackend.start("a", new Backends.Echo("alpha"));
        resources.add(backend);
        startProxy(backend);
        long before = threads.resumedInline();

        CompletableFuture<String> ranOn = new CompletableFuture<>();
        threads.execute(() -> ranOn.complete(Thread.currentThread().getName()));

        assertThat(ranOn.get(5, TimeUnit.SECONDS))
                .startsWith("pool-test")
                .isNotEqualTo(Thread.currentThread().getName());
        assertThat(threads.resumedInline()).isEqualTo(before);
    }
}
