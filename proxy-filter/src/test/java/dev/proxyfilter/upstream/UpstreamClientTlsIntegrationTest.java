package dev.proxyfilter.upstream;

import static dev.proxyfilter.upstream.UpstreamTestSupport.chain;
import static dev.proxyfilter.upstream.UpstreamTestSupport.hasCause;
import static dev.proxyfilter.upstream.UpstreamTestSupport.patternSha;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.testing.Backends;
import dev.proxyfilter.testing.TestCertificates;
import dev.proxyfilter.upstream.UpstreamTestSupport.Recorder;
import jakarta.servlet.http.HttpServlet;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLHandshakeException;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.io.ArrayByteBufferPool;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The upstream client to {@code https://} backends: Jetty backends with self-signed certificates made at
 * test time, trusted through the connector's TLS context, with the host name checked.
 */
@Timeout(60)
class UpstreamClientTlsIntegrationTest {
    @TempDir
    static Path dir;

    private static Path rightName;
    private static Path wrongName;
    private static Path trustRight;
    private static Path trustWrong;

    private final List<AutoCloseable> resources = new ArrayList<>();
    private QueuedThreadPool executor;
    private ScheduledExecutorScheduler scheduler;

    @BeforeAll
    static void certificates() throws Exception {
        rightName = TestCertificates.keyStore(dir, "backend", "ip:127.0.0.1,dns:localhost");
        wrongName = TestCertificates.keyStore(dir, "elsewhere", "dns:elsewhere.example");
        trustRight = TestCertificates.trustStore(rightName, dir.resolve("trust-backend.p12"));
        trustWrong = TestCertificates.trustStore(wrongName, dir.resolve("trust-elsewhere.p12"));
    }

    @BeforeEach
    void threads() throws Exception {
        executor = new QueuedThreadPool(16, 2);
        executor.setName("upstream-tls-test");
        executor.start();
        scheduler = new ScheduledExecutorScheduler("upstream-tls-test-scheduler", true);
        scheduler.start();
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception ignored) {
                // stopping what is left
            }
        }
        scheduler.stop();
        executor.stop();
    }

    /** A TLS backend; {@code connections} counts the TCP connections it accepts. */
    private URI tlsBackend(Path keyStore, HttpServlet servlet, AtomicInteger connections) throws Exception {
        QueuedThreadPool threads = new QueuedThreadPool(16, 2);
        threads.setName("tls-backend");
        Server server = new Server(threads);
        SslContextFactory.Server tls = new SslContextFactory.Server();
        tls.setKeyStorePath(keyStore.toString());
        tls.setKeyStoreType("PKCS12");
        tls.setKeyStorePassword(TestCertificates.PASSWORD);
        HttpConfiguration config = new HttpConfiguration();
        config.addCustomizer(new SecureRequestCustomizer(false));
        ServerConnector connector = new ServerConnector(
                server, new SslConnectionFactory(tls, "http/1.1"), new HttpConnectionFactory(config));
        connector.setHost("127.0.0.1");
        connector.addEventListener(new Connection.Listener() {
            @Override
            public void onOpened(Connection connection) {
                if (connection instanceof org.eclipse.jetty.io.ssl.SslConnection) {
                    connections.incrementAndGet();
                }
            }
        });
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/");
        context.addServlet(new ServletHolder(servlet), "/*");
        server.setHandler(context);
        server.start();
        resources.add(server::stop);
        return URI.create("https://127.0.0.1:" + connector.getLocalPort());
    }

    private UpstreamClient client(Path trustStore, boolean verifyHostname) throws Exception {
        SslContextFactory.Client tls = new SslContextFactory.Client();
        if (trustStore != null) {
            tls.setTrustStorePath(trustStore.toString());
            tls.setTrustStoreType("PKCS12");
            tls.setTrustStorePassword(TestCertificates.PASSWORD);
        }
        tls.setEndpointIdentificationAlgorithm(verifyHostname ? "HTTPS" : null);
        ArrayByteBufferPool buffers = new ArrayByteBufferPool();
        ClientConnector connector = new ClientConnector();
        connector.setSelectors(1);
        connector.setExecutor(executor);
        connector.setScheduler(scheduler);
        connector.setByteBufferPool(buffers);
        connector.setSslContextFactory(tls);
        connector.setConnectTimeout(Duration.ofSeconds(5));
        connector.start();
        resources.add(connector::stop);
        UpstreamClient client =
                new UpstreamClient(connector, executor, scheduler, buffers, Duration.ofSeconds(30), 4, 16);
        client.start();
        resources.add(client::stop);
        return client;
    }

    private static Recorder send(UpstreamClient client, URI backend, String method, String target) {
        Recorder recorder = new Recorder();
        client.newExchange(backend.getScheme(), backend.getHost(), backend.getPort(), method, target)
                .send(recorder);
        return recorder;
    }

    private static Recorder succeed(Recorder recorder) throws Exception {
        assertThat(recorder.failure()).as("onComplete failure").isNull();
        if (recorder.contentCalls.get() > 0) {
            recorder.bodyEnd.get(5, TimeUnit.SECONDS);
        }
        assertThat(recorder.completeCalls).hasValue(1);
        return recorder;
    }

    @Test
    void aTrustedBackendAnswersOverOneReusedConnection() throws Exception {
        AtomicInteger connections = new AtomicInteger();
        URI backend = tlsBackend(rightName, new Backends.Echo("tls"), connections);
        UpstreamClient client = client(trustRight, true);

        List<Recorder> answers = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            answers.add(succeed(send(client, backend, "GET", "/secure?i=" + i)));
        }

        for (Recorder answer : answers) {
            assertThat(answer.headers.get()).isEqualTo(200);
            assertThat(answer.text()).isEqualTo("tls");
        }
        assertThat(connections).as("TLS connections").hasValue(1);
    }

    @Test
    void aLargeBodyBothWaysArrivesIntactOverTls() throws Exception {
        URI backend = tlsBackend(rightName, new Backends.Digest(), new AtomicInteger());
        UpstreamClient client = client(trustRight, true);
        long size = 4L * 1024 * 1024;

        Recorder download = succeed(send(client, backend, "GET", "/?size=" + size));
        byte[] upload = new byte[1024 * 1024];
        Backends.Digest.pattern(upload, 0, upload.length);
        Recorder uploaded = new Recorder();
        client.newExchange("https", "127.0.0.1", backend.getPort(), "POST", "/")
                .body(Content.Source.from(ByteBuffer.wrap(upload)), -1)
                .send(uploaded);
        succeed(uploaded);

        assertThat(download.bytes).hasValue(size);
        assertThat(download.sha()).isEqualTo(patternSha(size));
        assertThat(uploaded.text()).isEqualTo(upload.length + " " + patternSha(upload.length));
    }

    @Test
    void anUntrustedBackendFailsTheHandshake() throws Exception {
        URI backend = tlsBackend(rightName, new Backends.Echo("tls"), new AtomicInteger());
        UpstreamClient client = client(null, true);

        Recorder recorder = send(client, backend, "GET", "/");
        Throwable failure = recorder.failure();

        assertThat(failure).isNotNull();
        assertThat(recorder.headersCalls).hasValue(0);
        assertThat(recorder.completeCalls).hasValue(1);
        org.awaitility.Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(client.connections("https", "127.0.0.1", backend.getPort()))
                        .as("the failed connection's slot")
                        .isZero());
    }

    @Test
    void aCertificateForAnotherHostIsRefused() throws Exception {
        URI backend = tlsBackend(wrongName, new Backends.Echo("tls"), new AtomicInteger());
        UpstreamClient client = client(trustWrong, true);

        Recorder recorder = send(client, backend, "GET", "/");
        Throwable failure = recorder.failure();

        assertThat(failure).isNotNull();
        assertThat(recorder.headersCalls).hasValue(0);
    }

    @Test
    void aHandshakeFailureIsReportedAsSuchNotAsAClosedConnection() throws Exception {
        // What the proxy logs for a 502: "certificate not trusted / wrong name", not "backend closed the
        // connection". Several tries, as the failure reaches the client by a read or by a write.
        URI untrusted = tlsBackend(rightName, new Backends.Echo("tls"), new AtomicInteger());
        URI otherHost = tlsBackend(wrongName, new Backends.Echo("tls"), new AtomicInteger());
        UpstreamClient noTrust = client(null, true);
        UpstreamClient wrongTrust = client(trustWrong, true);

        List<String> misreported = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            for (Recorder recorder :
                    List.of(send(noTrust, untrusted, "GET", "/"), send(wrongTrust, otherHost, "GET", "/"))) {
                Throwable failure = recorder.failure();
                assertThat(failure).isNotNull();
                if (!hasCause(failure, SSLHandshakeException.class)) {
                    misreported.add(String.valueOf(chain(failure)));
                }
            }
        }

        assertThat(misreported).isEmpty();
    }

    @Test
    void hostNameVerificationCanBeTurnedOff() throws Exception {
        URI backend = tlsBackend(wrongName, new Backends.Echo("tls"), new AtomicInteger());
        UpstreamClient client = client(trustWrong, false);

        Recorder recorder = succeed(send(client, backend, "GET", "/"));

        assertThat(recorder.text()).isEqualTo("tls");
    }

    @Test
    void theHostNameOfTheUrlIsCheckedNotJustTheAddress() throws Exception {
        // The certificate names localhost and 127.0.0.1: both URLs pass, through the same address.
        URI backend = tlsBackend(rightName, new Backends.Echo("tls"), new AtomicInteger());
        UpstreamClient client = client(trustRight, true);

        Recorder byName = succeed(send(client, URI.create("https://localhost:" + backend.getPort()), "GET", "/"));

        assertThat(byName.text()).isEqualTo("tls");
    }
}
