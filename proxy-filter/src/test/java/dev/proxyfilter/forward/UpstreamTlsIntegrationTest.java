package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.config.UpstreamTlsConfig;
import dev.proxyfilter.testing.Backends;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.TestCertificates;
import dev.proxyfilter.testing.TestConfigs;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code https://} backends: a Jetty backend with a self-signed certificate made at test time; the
 * proxy trusts it only through {@code proxy.tls.truststore}, and checks the host name by default.
 */
@Timeout(60)
class UpstreamTlsIntegrationTest {
    @TempDir
    static Path dir;

    private static Path rightName;
    private static Path wrongName;
    private static Path trustRight;
    private static Path trustWrong;

    private final List<AutoCloseable> resources = new ArrayList<>();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void certificates() throws Exception {
        rightName = TestCertificates.keyStore(dir, "backend", "ip:127.0.0.1,dns:localhost");
        wrongName = TestCertificates.keyStore(dir, "elsewhere", "dns:elsewhere.example");
        trustRight = TestCertificates.trustStore(rightName, dir.resolve("trust-backend.p12"));
        trustWrong = TestCertificates.trustStore(wrongName, dir.resolve("trust-elsewhere.p12"));
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private URI tlsBackend(Path keyStore) throws Exception {
        QueuedThreadPool threads = new QueuedThreadPool(16, 2);
        threads.setName("tls-backend");
        Server server = new Server(threads);
        SslContextFactory.Server tls = new SslContextFactory.Server();
        tls.setKeyStorePath(keyStore.toString());
        tls.setKeyStoreType("PKCS12");
        tls.setKeyStorePassword(TestCertificates.PASSWORD);
        HttpConfiguration config = new HttpConfiguration();
        config.addCustomizer(new SecureRequestCustomizer(false)); // the proxy sends the client's Host, not the SNI name
        ServerConnector connector = new ServerConnector(
                server, new SslConnectionFactory(tls, "http/1.1"), new HttpConnectionFactory(config));
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/");
        context.addServlet(new ServletHolder(new Backends.Echo("tls")), "/*");
        server.setHandler(context);
        server.start();
        resources.add(server::stop);
        return URI.create("https://127.0.0.1:" + connector.getLocalPort());
    }

    private HttpResponse<String> through(URI backend, UpstreamTlsConfig tls) throws Exception {
        ProxyAdapter.Running proxy = ProxyAdapter.PROXY_SERVLET_IN_JETTY.start(TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "a", backend, 1)
                .route("main", "/", "web")
                .upstreamTls(tls)
                .build());
        resources.add(proxy);
        return http.send(
                HttpRequest.newBuilder(proxy.uri().resolve("/secure"))
                        .timeout(Duration.ofSeconds(20))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aTrustedBackendAnswers() throws Exception {
        HttpResponse<String> response = through(
                tlsBackend(rightName), new UpstreamTlsConfig(trustRight.toString(), TestCertificates.PASSWORD, true));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("tls");
        assertThat(response.headers().firstValue("X-Echo-X-Forwarded-Proto")).hasValue("http");
    }

    @Test
    void withoutTheTrustStoreTheBackendIsNotTrusted() throws Exception {
        HttpResponse<String> response = through(tlsBackend(rightName), UpstreamTlsConfig.DEFAULT);

        assertThat(response.statusCode()).isEqualTo(502);
    }

    @Test
    void aCertificateForAnotherHostIsRefused() throws Exception {
        HttpResponse<String> response = through(
                tlsBackend(wrongName), new UpstreamTlsConfig(trustWrong.toString(), TestCertificates.PASSWORD, true));

        assertThat(response.statusCode()).isEqualTo(502);
    }

    @Test
    void hostNameVerificationCanBeTurnedOff() throws Exception {
        HttpResponse<String> response = through(
                tlsBackend(wrongName), new UpstreamTlsConfig(trustWrong.toString(), TestCertificates.PASSWORD, false));

        assertThat(response.statusCode()).isEqualTo(200);
    }
}
