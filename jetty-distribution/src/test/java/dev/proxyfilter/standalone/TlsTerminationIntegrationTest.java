package dev.proxyfilter.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.proxyfilter.testing.TestCertificates;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTPS termination by the standalone proxy, from a PKCS12 key store made at test time: HTTP/2 over
 * ALPN, HTTP/1.1 still, TLS 1.2+ with AEAD suites only, and the plain port that redirects.
 */
@Timeout(60)
class TlsTerminationIntegrationTest {
    @TempDir
    static Path certificates;

    private static Path keyStore;
    private static SSLContext trusting;

    @TempDir
    Path dir;

    private NamedBackend backend;
    private RunningProxy proxy;

    @BeforeAll
    static void certificate() throws Exception {
        keyStore = TestCertificates.keyStore(certificates, "proxy", "ip:127.0.0.1,dns:localhost");
        trusting = TestCertificates.clientContext(
                TestCertificates.trustStore(keyStore, certificates.resolve("trust.p12")));
    }

    @BeforeEach
    void start() throws Exception {
        backend = NamedBackend.start("a");
        proxy = ProxyMain.start(
                "--config",
                config("""
                server.tls.keystore=%s
                server.tls.keystore-password=%s
                server.tls.redirect-port=0
                """.formatted(keyStore, TestCertificates.PASSWORD)).toString());
    }

    @AfterEach
    void stop() throws Exception {
        if (proxy != null) {
            proxy.stop();
        }
        backend.close();
    }

    private Path config(String tls) throws IOException {
        return Files.writeString(
                dir.resolve("proxy.properties"), """
                server.host=127.0.0.1
                server.port=0
                admin.port=-1
                pool.web.backend.a.url=%s
                route.main.path=/
                route.main.pool=web
                """.formatted(backend.uri()) + tls, StandardCharsets.UTF_8);
    }

    private HttpResponse<String> get(HttpClient.Version version) throws Exception {
        HttpClient client = HttpClient.newBuilder()
                .sslContext(trusting)
                .version(version)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
        return client.send(
                HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + proxy.port() + "/x"))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void terminatesHttpsWithHttp2OverAlpn() throws Exception {
        HttpResponse<String> response = get(HttpClient.Version.HTTP_2);

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(response.body()).isEqualTo("backend a\n");
        assertThat(backend.requests()).isEqualTo(1);
    }

    @Test
    void stillSpeaksHttp11OverTls() throws Exception {
        HttpResponse<String> response = get(HttpClient.Version.HTTP_1_1);

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
    }

    @Test
    void refusesOldProtocolsAndCbcSuites() throws Exception {
        assertThatThrownBy(() -> handshake(new String[] {"TLSv1.2"}, new String[] {
                    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"
                }))
                .isInstanceOf(SSLHandshakeException.class);
        assertThat(handshake(new String[] {"TLSv1.2"}, new String[] {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"}))
                .isEqualTo("TLSv1.2");
        assertThat(handshake(new String[] {"TLSv1.3"}, null)).isEqualTo("TLSv1.3");
    }

    /** The negotiated protocol of a handshake with only these protocols and suites offered. */
    private String handshake(String[] protocols, String[] suites) throws Exception {
        try (SSLSocket socket = (SSLSocket) trusting.getSocketFactory().createSocket("127.0.0.1", proxy.port())) {
            socket.setSoTimeout(5_000);
            socket.setEnabledProtocols(protocols);
            if (suites != null) {
                socket.setEnabledCipherSuites(suites);
            }
            socket.startHandshake();
            return socket.getSession().getProtocol();
        }
    }

    @Test
    void plainHttpIsRedirectedToHttps() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", proxy.redirectPort())) {
            socket.setSoTimeout(5_000);
            socket.getOutputStream()
                    .write("GET /x?y=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                            .getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = socket.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(response).startsWith("HTTP/1.1 308 ");
            assertThat(response).contains("Location: https://127.0.0.1:" + proxy.port() + "/x?y=1");
        }
        assertThat(backend.requests()).isZero();
    }

    @Test
    void aWrongKeyStorePasswordIsNamedAtStartUp() throws Exception {
        proxy.stop();
        proxy = null;
        Path bad = config("""
                server.tls.keystore=%s
                server.tls.keystore-password=wrong
                """.formatted(keyStore));

        assertThatThrownBy(() -> ProxyMain.start("--config", bad.toString()))
                .isInstanceOf(StartupException.class)
                .hasMessageStartingWith("server.tls.keystore: " + keyStore
                        + " (expected: a PKCS12 key store that opens " + "with server.tls.keystore-password;")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("wrong"));
    }
}
