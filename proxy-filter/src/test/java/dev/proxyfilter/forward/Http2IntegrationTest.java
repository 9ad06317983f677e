package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.config.UpstreamProtocol;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.TestConfigs;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.client.AsyncRequestContent;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http2.HTTP2Connection;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.client.transport.HttpClientTransportOverHTTP2;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * HTTP/2 on both sides of the standalone handler: its h2c listener (prior knowledge and {@code Upgrade: h2c},
 * with real HTTP/2 clients), and h2c backends (multiplexing, a {@code GOAWAY} under load, trailers).
 */
@Timeout(60)
class Http2IntegrationTest {
    private Server backend;
    private ServerConnector backendConnector;
    private final AtomicInteger backendConnections = new AtomicInteger();
    /** Requests to /hold, answered once {@link #holdUntil} of them are in. */
    private final ConcurrentLinkedQueue<Runnable> held = new ConcurrentLinkedQueue<>();

    private volatile int holdUntil = Integer.MAX_VALUE;
    private ProxyAdapter.Running proxy;
    private HttpClient http1;

    @BeforeEach
    void start() throws Exception {
        QueuedThreadPool threads = new QueuedThreadPool(32, 4);
        threads.setName("h2-backend");
        backend = new Server(threads);
        backendConnector =
                new ServerConnector(backend, 1, 1, new HTTP2CServerConnectionFactory(new HttpConfiguration()));
        backendConnector.setHost("127.0.0.1");
        backendConnector.addEventListener(new Connection.Listener() {
            @Override
            public void onOpened(Connection connection) {
                backendConnections.incrementAndGet();
            }
        });
        backend.addConnector(backendConnector);
        backend.setHandler(new Backend());
        backend.start();
        proxy = ProxyAdapter.HANDLER_IN_JETTY.start(TestConfigs.builder()
                .pool("h2", StrategyName.ROUND_ROBIN, "b1", "http://127.0.0.1:" + backendConnector.getLocalPort(), 1)
                .protocol("h2", new UpstreamProtocol(UpstreamProtocol.Kind.H2C, 4, 128))
                .route("h2", "/", "h2")
                .build());
        http1 = new HttpClient();
        http1.setMaxConnectionsPerDestination(128);
        http1.start();
    }

    @AfterEach
    void stop() throws Exception {
        http1.stop();
        proxy.close();
        backend.stop();
    }

    private URI proxied(String path) {
        return proxy.uri().resolve(path);
    }

    // ---- the listener ----

    @Test
    void priorKnowledgeH2c() throws Exception {
        HttpClient h2 = new HttpClient(new HttpClientTransportOverHTTP2(new HTTP2Client()));
        h2.start();
        try {
            ContentResponse response = h2.GET(proxied("/echo?x=1"));
            assertThat(response.getStatus()).isEqualTo(200);
            assertThat(response.getVersion()).isEqualTo(HttpVersion.HTTP_2);
            assertThat(response.getContentAsString()).isEqualTo("GET /echo?x=1 ");

            // A body of unknown length: HTTP/2 says there is one with its framing, not a header.
            AsyncRequestContent body = new AsyncRequestContent();
            CompletableFuture<ContentResponse> posted = new org.eclipse.jetty.client.CompletableResponseListener(
                            h2.POST(proxied("/echo")).body(body).timeout(10, TimeUnit.SECONDS))
                    .send();
            body.write(ByteBuffer.wrap("abc".getBytes(StandardCharsets.UTF_8)), Callback.NOOP);
            body.close();
            assertThat(posted.get(10, TimeUnit.SECONDS).getContentAsString()).isEqualTo("POST /echo abc");

            // HTTP/1.1's strictness where HTTP/2 has the same thing: no ambiguous path.
            assertThat(h2.newRequest(proxied("/a/%2e%2e/b"))
                            .timeout(10, TimeUnit.SECONDS)
                            .send()
                            .getStatus())
                    .isEqualTo(400);
        } finally {
            h2.stop();
        }
    }

    @Test
    void upgradeToH2c() throws Exception {
        java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder()
                .version(java.net.http.HttpClient.Version.HTTP_2)
                .connectTimeout(java.time.Duration.ofSeconds(5))
                .build();
        java.net.http.HttpResponse<String> response = client.send(
                java.net.http.HttpRequest.newBuilder(proxied("/echo"))
                        .timeout(java.time.Duration.ofSeconds(10))
                        .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.version()).isEqualTo(java.net.http.HttpClient.Version.HTTP_2);
        assertThat(response.body()).isEqualTo("GET /echo ");
        // The upgraded connection carries the next request as an HTTP/2 stream.
        java.net.http.HttpResponse<String> second = client.send(
                java.net.http.HttpRequest.newBuilder(proxied("/echo"))
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofString("payload"))
                        .timeout(java.time.Duration.ofSeconds(10))
                        .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(second.version()).isEqualTo(java.net.http.HttpClient.Version.HTTP_2);
        assertThat(second.body()).isEqualTo("POST /echo payload");
    }

    // ---- HTTP/2 backends ----

    @Test
    void hundredConcurrentStreamsShareOneBackendConnection() throws Exception {
        holdUntil = 100;
        List<CompletableFuture<Result>> results = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            CompletableFuture<Result> result = new CompletableFuture<>();
            http1.newRequest(proxied("/hold/" + i))
                    .timeout(20, TimeUnit.SECONDS)
                    .send(new org.eclipse.jetty.client.BufferingResponseListener() {
                        @Override
                        public void onComplete(Result r) {
                            result.complete(r);
                        }
                    });
            results.add(result);
        }
        for (CompletableFuture<Result> result : results) {
            Result done = result.get(30, TimeUnit.SECONDS);
            assertThat(done.isSucceeded()).as("%s", done.getFailure()).isTrue();
            assertThat(done.getResponse().getStatus()).isEqualTo(200);
        }
        assertThat(backendConnections.get()).isEqualTo(1);
    }

    @Test
    void aBackendGoawayUnderLoadFailsNoIdempotentRequest() throws Exception {
        int total = 400;
        Semaphore window = new Semaphore(32);
        AtomicInteger completed = new AtomicInteger();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        CompletableFuture<Void> all = new CompletableFuture<>();
        for (int i = 0; i < total; i++) {
            window.acquire();
            if (i == total / 3 || i == 2 * total / 3) {
                goAway(); // graceful: what a backend restarting or draining sends
            }
            http1.newRequest(proxied("/slow/" + i))
                    .timeout(20, TimeUnit.SECONDS)
                    .send(result -> {
                        if (!result.isSucceeded() || result.getResponse().getStatus() != 200) {
                            failures.add(
                                    result.getFailure() != null
                                            ? result.getFailure().toString()
                                            : String.valueOf(
                                                    result.getResponse().getStatus()));
                        }
                        window.release();
                        if (completed.incrementAndGet() == total) {
                            all.complete(null);
                        }
                    });
        }
        all.get(60, TimeUnit.SECONDS);
        assertThat(failures).isEmpty();
        assertThat(backendConnections.get()).isGreaterThanOrEqualTo(2);
    }

    private void goAway() {
        for (EndPoint endPoint : backendConnector.getConnectedEndPoints()) {
            if (endPoint.getConnection() instanceof HTTP2Connection h2) {
                h2.getSession().shutdown();
            }
        }
    }

    @Test
    void trailersReachAnHttp11ClientInChunkedEncodingAndAnHttp2Client() throws Exception {
        ContentResponse response = http1.GET(proxied("/trailers"));
        assertThat(response.getContentAsString()).isEqualTo("body");
        assertThat(response.getTrailers()).isNotNull();
        assertThat(response.getTrailers().get("x-checksum")).isEqualTo("abc");

        HttpClient h2 = new HttpClient(new HttpClientTransportOverHTTP2(new HTTP2Client()));
        h2.start();
        try {
            ContentResponse viaH2 = h2.newRequest(proxied("/trailers"))
                    .timeout(5, TimeUnit.SECONDS)
                    .send();
            assertThat(viaH2.getVersion()).isEqualTo(HttpVersion.HTTP_2);
            assertThat(viaH2.getContentAsString()).isEqualTo("body");
            assertThat(viaH2.getTrailers().get("x-checksum")).isEqualTo("abc");
        } finally {
            h2.stop();
        }
    }

    /** /echo: method, target and body; /hold: answered once enough are held; /slow: after 5 ms; /trailers. */
    private final class Backend extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            String path = request.getHttpURI().getPath();
            if (path.startsWith("/hold/")) {
                held.add(() -> Content.Sink.write(response, true, "held", callback));
                if (held.size() >= holdUntil) {
                    Runnable next;
                    while ((next = held.poll()) != null) {
                        next.run();
                    }
                }
                return true;
            }
            if (path.startsWith("/slow/")) {
                request.getComponents()
                        .getScheduler()
                        .schedule(() -> Content.Sink.write(response, true, "ok", callback), 5, TimeUnit.MILLISECONDS);
                return true;
            }
            if (path.equals("/trailers")) {
                HttpFields.Mutable trailers = HttpFields.build().put("x-checksum", "abc");
                response.setTrailersSupplier(() -> trailers);
                response.write(
                        false,
                        ByteBuffer.wrap("bo".getBytes(StandardCharsets.UTF_8)),
                        Callback.from(
                                () -> response.write(
                                        true, ByteBuffer.wrap("dy".getBytes(StandardCharsets.UTF_8)), callback),
                                callback::failed));
                return true;
            }
            String target = request.getHttpURI().getPathQuery();
            Content.Source.asString(request, StandardCharsets.UTF_8, new org.eclipse.jetty.util.Promise<>() {
                @Override
                public void succeeded(String body) {
                    Content.Sink.write(response, true, request.getMethod() + " " + target + " " + body, callback);
                }

                @Override
                public void failed(Throwable failure) {
                    callback.failed(failure);
                }
            });
            return true;
        }
    }
}
