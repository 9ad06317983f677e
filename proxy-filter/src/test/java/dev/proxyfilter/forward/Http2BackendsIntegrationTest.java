package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.config.UpstreamProtocol;
import dev.proxyfilter.config.UpstreamTlsConfig;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.TestCertificates;
import dev.proxyfilter.testing.TestConfigs;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory;
import org.eclipse.jetty.http2.ErrorCode;
import org.eclipse.jetty.http2.api.Stream;
import org.eclipse.jetty.http2.api.server.ServerSessionListener;
import org.eclipse.jetty.http2.frames.HeadersFrame;
import org.eclipse.jetty.http2.frames.ResetFrame;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.http2.server.HTTP2ServerConnectionFactory;
import org.eclipse.jetty.http2.server.RawHTTP2ServerConnectionFactory;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** HTTP/2 backends beyond h2c: h2 over TLS with ALPN, and streams a backend resets or refuses. */
@Timeout(60)
class Http2BackendsIntegrationTest {
    @TempDir
    Path dir;

    private final List<AutoCloseable> resources = new ArrayList<>();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void stop() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private int backend(ConnectionFactory... factories) throws Exception {
        QueuedThreadPool threads = new QueuedThreadPool(16, 2);
        threads.setName("h2-backend");
        Server server = new Server(threads);
        ServerConnector connector = new ServerConnector(server, 1, 1, factories);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                Content.Sink.write(
                        response,
                        true,
                        request.getConnectionMetaData().getProtocol() + " "
                                + request.getHttpURI().getScheme(),
                        callback);
                return true;
            }
        });
        server.start();
        resources.add(server::stop);
        return connector.getLocalPort();
    }

    /** A backend that answers every stream with RST_STREAM {@code error}. */
    private int resetting(ErrorCode error) throws Exception {
        return backend(new RawHTTP2ServerConnectionFactory(new HttpConfiguration(), new ServerSessionListener() {
            @Override
            public Stream.Listener onNewStream(Stream stream, HeadersFrame frame) {
                stream.reset(new ResetFrame(stream.getId(), error.code), Callback.NOOP);
                return null;
            }
        }));
    }

    private ProxyAdapter.Running proxy(TestConfigs configs) {
        ProxyAdapter.Running proxy = ProxyAdapter.HANDLER_IN_JETTY.start(configs.build());
        resources.add(proxy);
        return proxy;
    }

    private HttpResponse<String> send(URI uri, String method) throws Exception {
        return http.send(
                HttpRequest.newBuilder(uri)
                        .version(HttpClient.Version.HTTP_1_1)
                        .method(method, HttpRequest.BodyPublishers.noBody())
                        .timeout(Duration.ofSeconds(20))
                        .build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    @Test
    void h2OverTlsWithAlpn() throws Exception {
        Path keyStore = TestCertificates.keyStore(dir, "backend", "ip:127.0.0.1,dns:localhost");
        Path trust = TestCertificates.trustStore(keyStore, dir.resolve("trust.p12"));
        SslContextFactory.Server tls = new SslContextFactory.Server();
        tls.setKeyStorePath(keyStore.toString());
        tls.setKeyStoreType("PKCS12");
        tls.setKeyStorePassword(TestCertificates.PASSWORD);
        HttpConfiguration config = new HttpConfiguration();
        config.addCustomizer(new SecureRequestCustomizer(false));
        HTTP2ServerConnectionFactory h2 = new HTTP2ServerConnectionFactory(config);
        ALPNServerConnectionFactory alpn = new ALPNServerConnectionFactory("h2");
        alpn.setDefaultProtocol("h2");
        int port = backend(new SslConnectionFactory(tls, alpn.getProtocol()), alpn, h2);

        ProxyAdapter.Running proxy = proxy(TestConfigs.builder()
                .pool("tls", StrategyName.ROUND_ROBIN, "a", "https://127.0.0.1:" + port, 1)
                .protocol("tls", new UpstreamProtocol(UpstreamProtocol.Kind.H2, 1, 16))
                .route("main", "/", "tls")
                .upstreamTls(new UpstreamTlsConfig(trust.toString(), TestCertificates.PASSWORD, true)));

        HttpResponse<String> response = send(proxy.uri().resolve("/x"), "GET");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("HTTP/2.0 https");
    }

    /** A reset after the backend saw the request is a 502, retried elsewhere for an idempotent method only. */
    @Test
    void aResetStreamIs502AndFollowsTheRetryRules() throws Exception {
        int resetting = resetting(ErrorCode.INTERNAL_ERROR);
        int good = backend(new HTTP2CServerConnectionFactory(new HttpConfiguration()));
        ProxyAdapter.Running proxy = proxy(TestConfigs.builder()
                .pool(
                        "h2",
                        StrategyName.ROUND_ROBIN,
                        "a",
                        "http://127.0.0.1:" + resetting,
                        1,
                        "b",
                        "http://127.0.0.1:" + good,
                        1)
                .protocol("h2", new UpstreamProtocol(UpstreamProtocol.Kind.H2C, 1, 16))
                .route("main", "/", "h2"));

        // Round-robin: one of the first two POSTs meets the resetting backend (passive health may eject it later).
        List<Integer> posts = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            posts.add(send(proxy.uri().resolve("/post"), "POST").statusCode());
        }
        assertThat(posts).containsExactlyInAnyOrder(200, 502);
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> get = send(proxy.uri().resolve("/get"), "GET");
            assertThat(get.statusCode()).isEqualTo(200);
            assertThat(get.body()).isEqualTo("HTTP/2.0 http");
        }
    }

    /** A refused stream never reached the application: any method goes to another backend. */
    @Test
    void aRefusedStreamIsRetriedForAnyMethod() throws Exception {
        int refusing = resetting(ErrorCode.REFUSED_STREAM_ERROR);
        int good = backend(new HTTP2CServerConnectionFactory(new HttpConfiguration()));
        ProxyAdapter.Running proxy = proxy(TestConfigs.builder()
                .pool(
                        "h2",
                        StrategyName.ROUND_ROBIN,
                        "a",
                        "http://127.0.0.1:" + refusing,
                        1,
                        "b",
                        "http://127.0.0.1:" + good,
                        1)
                .protocol("h2", new UpstreamProtocol(UpstreamProtocol.Kind.H2C, 1, 16))
                .route("main", "/", "h2"));

        for (int i = 0; i < 4; i++) {
            assertThat(send(proxy.uri().resolve("/post"), "POST").statusCode()).isEqualTo(200);
        }
    }
}
