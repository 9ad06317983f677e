package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.proxyfilter.config.CacheConfig;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.config.RequestLimits;
import dev.proxyfilter.config.RouteConfig;
import dev.proxyfilter.config.ServerConfig;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.testing.Backends;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.RawHttp;
import dev.proxyfilter.testing.TestBackend;
import dev.proxyfilter.testing.TestConfigs;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Graceful shutdown of the engine ({@link ProxyEngine#close(Duration)}) and of the adapters that close it
 * when their container stops them: in-flight exchanges finish within the grace, new ones get 503, what
 * outlives the grace is cut, every way an exchange ends is counted once, and a persistent disk cache
 * reopens with what was stored before the close.
 */
@Timeout(60)
class GracefulShutdownIntegrationTest {
    private final List<AutoCloseable> resources = new ArrayList<>();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @TempDir
    Path temp;

    @AfterEach
    void close() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    /** Tomcat stops its connectors' accepting first, then the webapp (filter) or the pipeline (valve). */
    @ParameterizedTest
    @EnumSource(names = {"FILTER_IN_TOMCAT", "VALVE_IN_TOMCAT"})
    void stoppingTheContainerLetsInFlightExchangesFinish(ProxyAdapter adapter) throws Exception {
        Backends.Slow slow = new Backends.Slow();
        ProxyAdapter.Running proxy = adapter.start(config(backend(slow), Duration.ofSeconds(10)));
        List<CompletableFuture<HttpResponse<byte[]>>> inFlight = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            inFlight.add(sendAsync(proxy.uri(), "/slow/" + i + "?ms=1500"));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> slow.started.get() == 3);
        assertThat(proxy.engine().inFlightExchanges()).isEqualTo(3);

        proxy.close(); // blocks until the engine closed

        for (CompletableFuture<HttpResponse<byte[]>> response : inFlight) {
            assertThat(response.get(5, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            assertThat(response.get().body()).isEqualTo(Backends.slowBody());
        }
        assertThat(proxy.engine().inFlightExchanges()).isZero();
    }

    @Test
    void whileDrainingNewExchangesGet503AndTheCloseWaitsForTheOldOnes() throws Exception {
        Backends.Slow slow = new Backends.Slow();
        ProxyAdapter.Running proxy = start(config(backend(slow), Duration.ofSeconds(10)));
        CompletableFuture<HttpResponse<byte[]>> old = sendAsync(proxy.uri(), "/slow?ms=1500");
        await().atMost(Duration.ofSeconds(10)).until(() -> slow.started.get() == 1);

        CompletableFuture<Void> closing =
                CompletableFuture.runAsync(() -> proxy.engine().close(Duration.ofSeconds(10)));
        await().atMost(Duration.ofSeconds(5))
                .until(() -> send(proxy.uri(), "/new").statusCode() == 503);
        HttpResponse<byte[]> refused = send(proxy.uri(), "/new");
        assertThat(new String(refused.body())).contains("shutting down");
        assertThat(closing).isNotDone();

        assertThat(old.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        assertThat(old.get().body()).isEqualTo(Backends.slowBody());
        closing.get(10, TimeUnit.SECONDS);
        assertThat(proxy.engine().inFlightExchanges()).isZero();
        assertThat(slow.started).hasValue(1); // no 503 reached the backend
    }

    @Test
    void whatOutlivesTheGraceIsCut() throws Exception {
        Backends.Stall stall = new Backends.Stall();
        ProxyAdapter.Running proxy = start(config(backend(stall), Duration.ofSeconds(10)));
        CompletableFuture<HttpResponse<byte[]>> stalled = sendAsync(proxy.uri(), "/stalled");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> proxy.engine().inFlightExchanges() == 1 && stall.requests.get() == 1);

        long start = System.nanoTime();
        proxy.engine().close(Duration.ofMillis(300));
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(tookMillis)
                .as("the 300 ms grace, then the cut; bounded well below the 10 s route timeout")
                .isBetween(300L, 8_000L);
        assertThat(proxy.engine().inFlightExchanges()).isZero();
        // Cut before any response byte: the proxy answers itself (its stopped client rejects the exchange).
        assertThat(stalled.get(5, TimeUnit.SECONDS).statusCode()).isEqualTo(503);
    }

    @Test
    void everyWayAnExchangeEndsIsCountedOnce() throws Exception {
        AtomicInteger requests = new AtomicInteger();
        TestBackend cacheable = TestBackend.start("cacheable", new Cacheable(requests));
        resources.add(cacheable);
        Backends.Slow slow = new Backends.Slow();
        TestBackend stalling = backend(slow);
        TestBackend dead = TestBackend.start("dead", new Backends.Status(200));
        URI deadUrl = dead.url();
        dead.close();
        ProxyConfig config = TestConfigs.builder()
                .pool("cacheable", StrategyName.ROUND_ROBIN, "a", cacheable.url(), 1)
                .pool("stalling", StrategyName.ROUND_ROBIN, "a", stalling.url(), 1)
                .pool("dead", StrategyName.ROUND_ROBIN, "a", deadUrl, 1)
                .route(route("cached", "/cached", "cacheable").withCache(true))
                .route(new RouteConfig(
                        "slow",
                        null,
                        "/slow",
                        "stalling",
                        false,
                        true,
                        Duration.ofSeconds(2),
                        Duration.ofSeconds(30),
                        Duration.ofMillis(300)))
                .route(route("dead", "/dead", "dead"))
                .limits(new RequestLimits(20, 0, Duration.ZERO))
                .build()
                .withCache(CacheConfig.builder().build());
        ProxyAdapter.Running proxy = start(config);
        ProxyEngine engine = proxy.engine();

        assertThat(send(proxy.uri(), "/cached").statusCode()).isEqualTo(200); // miss, stored
        awaitIdle(engine);
        assertThat(send(proxy.uri(), "/cached").statusCode()).isEqualTo(200); // hit
        assertThat(requests).hasValue(1);
        awaitIdle(engine);
        assertThat(send(proxy.uri(), "/dead").statusCode()).isEqualTo(502); // error
        awaitIdle(engine);
        HttpRequest.Builder tooManyHeaders = HttpRequest.newBuilder(proxy.uri().resolve("/cached"));
        for (int i = 0; i < 30; i++) {
            tooManyHeaders.header("X-Many-" + i, "v");
        }
        assertThat(http.send(tooManyHeaders.build(), HttpResponse.BodyHandlers.discarding())
                        .statusCode())
                .isEqualTo(431); // refusal
        awaitIdle(engine);
        // timeout: the response head (and half the body) came, the rest not within the route's 300 ms
        assertThatThrownBy(() -> send(proxy.uri(), "/slow?ms=3000")).isInstanceOf(IOException.class); // cut short
        awaitIdle(engine);
        try (Socket socket = new Socket("127.0.0.1", proxy.uri().getPort())) {
            socket.getOutputStream().write("GET /slow?ms=200 HTTP/1.1\r\nHost: x\r\n\r\n".getBytes());
            assertThat(socket.getInputStream().read(new byte[1024])).isPositive();
            await().atMost(Duration.ofSeconds(5)).until(() -> engine.inFlightExchanges() == 1);
            socket.setSoLinger(true, 0); // reset: the proxy's next write fails
        }
        awaitIdle(engine); // client abort
    }

    @Test
    void aPersistentDiskCacheReopensWithWhatWasStoredBeforeTheClose() throws Exception {
        AtomicInteger requests = new AtomicInteger();
        TestBackend backend = TestBackend.start("cacheable", new Cacheable(requests));
        resources.add(backend);
        ProxyConfig config = TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "a", backend.url(), 1)
                .route(route("main", "/", "web").withCache(true))
                .build()
                .withCache(CacheConfig.builder()
                        .heapEntries(5)
                        .offHeapMb(1)
                        .disk(4, temp.resolve("disk"))
                        .persistent(true)
                        .build());
        // One Host for both proxies, whose ports differ: the cache key holds it.
        String get = "GET /page HTTP/1.1\r\nHost: proxy.test\r\nConnection: close\r\n\r\n";
        try (ProxyAdapter.Running first = ProxyAdapter.FILTER_IN_JETTY.start(config)) {
            assertThat(RawHttp.exchange(first.uri(), get).bodyText()).isEqualTo("cacheable 1");
            assertThat(RawHttp.exchange(first.uri(), get).bodyText()).isEqualTo("cacheable 1"); // a hit
            first.engine().close(Duration.ofSeconds(5));
        }
        try (ProxyAdapter.Running second = ProxyAdapter.FILTER_IN_JETTY.start(config)) {
            RawHttp.Response again = RawHttp.exchange(second.uri(), get);
            assertThat(again.status()).isEqualTo(200);
            assertThat(again.bodyText()).isEqualTo("cacheable 1");
        }
        assertThat(requests).hasValue(1);
    }

    /** Answers a fresh-for-a-minute body that counts the requests it got. */
    static final class Cacheable extends HttpServlet {
        private static final long serialVersionUID = 1L;
        private final AtomicInteger requests;

        Cacheable(AtomicInteger requests) {
            this.requests = requests;
        }

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            int n = requests.incrementAndGet();
            resp.setHeader("Cache-Control", "public, max-age=60");
            resp.setContentType("text/plain");
            resp.getWriter().print("cacheable " + n);
        }
    }

    private static void awaitIdle(ProxyEngine engine) {
        await().atMost(Duration.ofSeconds(5)).until(() -> engine.inFlightExchanges() == 0);
    }

    private static RouteConfig route(String name, String path, String pool) {
        return new RouteConfig(
                name, null, path, pool, false, true, Duration.ofSeconds(2), Duration.ofSeconds(30), Duration.ZERO);
    }

    private TestBackend backend(HttpServlet servlet) {
        TestBackend backend = TestBackend.start("a", servlet);
        resources.add(backend);
        return backend;
    }

    private static ProxyConfig config(TestBackend backend, Duration grace) {
        return TestConfigs.builder()
                .server(new ServerConfig("127.0.0.1", 0).withShutdownTimeout(grace))
                .pool("web", StrategyName.ROUND_ROBIN, "a", backend.url(), 1)
                .route(route("main", "/", "web"))
                .build();
    }

    private ProxyAdapter.Running start(ProxyConfig config) {
        ProxyAdapter.Running proxy = ProxyAdapter.FILTER_IN_JETTY.start(config);
        resources.add(proxy);
        return proxy;
    }

    private CompletableFuture<HttpResponse<byte[]>> sendAsync(URI base, String path) {
        return http.sendAsync(
                HttpRequest.newBuilder(base.resolve(path))
                        .timeout(Duration.ofSeconds(20))
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    private HttpResponse<byte[]> send(URI base, String path) throws Exception {
        return http.send(
                HttpRequest.newBuilder(base.resolve(path))
                        .timeout(Duration.ofSeconds(20))
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }
}
