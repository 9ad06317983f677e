package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.proxyfilter.config.BackendConfig;
import dev.proxyfilter.config.DemoConfig;
import dev.proxyfilter.config.HealthConfig;
import dev.proxyfilter.config.OutlierConfig;
import dev.proxyfilter.config.PoolConfig;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.config.RetryConfig;
import dev.proxyfilter.config.RetryConfig.RetryOn;
import dev.proxyfilter.config.RouteConfig;
import dev.proxyfilter.config.ServerConfig;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.reload.ReloadResult;
import dev.proxyfilter.testing.Backends;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.SocketBackend;
import dev.proxyfilter.testing.TestBackend;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Connection limits, the pending queue, and the retry policy, through the real proxy. */
@Timeout(60)
class LimitsAndRetriesIntegrationTest {
    private final List<AutoCloseable> resources = new ArrayList<>();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

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

    /** Holds every request (async, no thread) until {@link #releaseAll}. */
    static final class Hold extends HttpServlet {
        private static final long serialVersionUID = 1L;
        final ConcurrentLinkedQueue<AsyncContext> held = new ConcurrentLinkedQueue<>();
        final AtomicInteger requests = new AtomicInteger();

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) {
            requests.incrementAndGet();
            AsyncContext async = req.startAsync();
            async.setTimeout(30_000);
            held.add(async);
        }

        void releaseAll() throws IOException {
            AsyncContext async;
            while ((async = held.poll()) != null) {
                async.getResponse().getWriter().print("released");
                async.complete();
            }
        }
    }

    private static ProxyConfig config(List<PoolConfig> pools, RouteConfig route) {
        Map<String, PoolConfig> byName = new java.util.LinkedHashMap<>();
        pools.forEach(p -> byName.put(p.name(), p));
        return new ProxyConfig(
                new ServerConfig("127.0.0.1", 0),
                byName,
                List.of(route),
                DemoConfig.none(),
                "proxy-filter",
                List.of("test"));
    }

    private static RouteConfig route(RetryConfig retry) {
        return new RouteConfig(
                "main",
                null,
                "/",
                "web",
                false,
                true,
                Duration.ofSeconds(2),
                Duration.ofSeconds(10),
                Duration.ZERO,
                retry);
    }

    private static PoolConfig pool(int maxPending, Duration queueTimeout, BackendConfig... backends) {
        return new PoolConfig("web", StrategyName.ROUND_ROBIN, List.of(backends), null, null, maxPending, queueTimeout);
    }

    private HttpResponse<String> get(URI uri) throws Exception {
        return http.send(
                HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private CompletableFuture<HttpResponse<String>> getAsync(URI uri) {
        return http.sendAsync(
                HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @ParameterizedTest
    @EnumSource(
            value = ProxyAdapter.class,
            names = {"FILTER_IN_JETTY", "FILTER_IN_TOMCAT"})
    void aSaturatedBackendGivesFast503sAndTheQueueHandsOverFreedSlots(ProxyAdapter adapter) throws Exception {
        Hold hold = new Hold();
        TestBackend a = track(TestBackend.start("a", hold));
        ProxyAdapter.Running proxy = track(adapter.start(config(
                List.of(pool(1, Duration.ofSeconds(5), new BackendConfig("a", a.url(), 1, 2))),
                route(RetryConfig.DEFAULT))));

        CompletableFuture<HttpResponse<String>> first = getAsync(proxy.uri().resolve("/1"));
        CompletableFuture<HttpResponse<String>> second = getAsync(proxy.uri().resolve("/2"));
        await().atMost(Duration.ofSeconds(10)).until(() -> hold.requests.get() == 2);

        // The backend is at max-connections: one request may wait in the queue ...
        CompletableFuture<HttpResponse<String>> queued = getAsync(proxy.uri().resolve("/3"));
        await().atMost(Duration.ofSeconds(10)).until(() -> proxy.engine() != null && queueOf(proxy) == 1);
        // ... and the next one is refused at once, not left to time out.
        long start = System.nanoTime();
        HttpResponse<String> refused = get(proxy.uri().resolve("/4"));
        assertThat(refused.statusCode()).isEqualTo(503);
        assertThat(refused.body()).contains("pool 'web'").contains("connection limit");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(2_000);
        assertThat(hold.requests.get()).isEqualTo(2);

        hold.releaseAll();
        assertThat(first.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        assertThat(second.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        // The freed slot went to the queued request.
        await().atMost(Duration.ofSeconds(10)).until(() -> hold.requests.get() == 3);
        hold.releaseAll();
        HttpResponse<String> third = queued.get(10, TimeUnit.SECONDS);
        assertThat(third.statusCode()).isEqualTo(200);
        assertThat(third.body()).isEqualTo("released");
    }

    private static int queueOf(ProxyAdapter.Running proxy) {
        return proxy.engine().pending("web");
    }

    @Test
    void aQueuedRequestGets503AfterTheQueueTimeout() throws Exception {
        Hold hold = new Hold();
        TestBackend a = track(TestBackend.start("a", hold));
        ProxyAdapter.Running proxy = track(ProxyAdapter.FILTER_IN_JETTY.start(config(
                List.of(pool(4, Duration.ofMillis(300), new BackendConfig("a", a.url(), 1, 1))),
                route(RetryConfig.DEFAULT))));

        CompletableFuture<HttpResponse<String>> first = getAsync(proxy.uri().resolve("/1"));
        await().atMost(Duration.ofSeconds(10)).until(() -> hold.requests.get() == 1);
        long start = System.nanoTime();
        HttpResponse<String> waited = get(proxy.uri().resolve("/2"));
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(waited.statusCode()).isEqualTo(503);
        assertThat(waited.body()).contains("queue timeout");
        assertThat(millis).isBetween(250L, 5_000L);
        hold.releaseAll();
        assertThat(first.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        assertThat(queueOf(proxy)).isZero();
    }

    @Test
    void aRequestQueuedAfterAReloadGetsTheSlotFreedByARequestOfTheOldConfiguration() throws Exception {
        Hold hold = new Hold();
        TestBackend a = track(TestBackend.start("a", hold));
        // A queue timeout far above what the test waits: a request left asleep shows as a timeout here, not a 503.
        ProxyAdapter.Running proxy = track(ProxyAdapter.FILTER_IN_JETTY.start(config(
                List.of(pool(4, Duration.ofSeconds(20), new BackendConfig("a", a.url(), 1, 1))),
                route(RetryConfig.DEFAULT))));
        CompletableFuture<HttpResponse<String>> old = getAsync(proxy.uri().resolve("/old"));
        await().atMost(Duration.ofSeconds(10)).until(() -> hold.requests.get() == 1);

        ReloadResult reload = proxy.engine()
                .reload(config(
                        List.of(pool(5, Duration.ofSeconds(20), new BackendConfig("a", a.url(), 1, 1))),
                        route(RetryConfig.DEFAULT)));
        assertThat(reload.outcome()).isEqualTo(ReloadResult.Outcome.APPLIED);
        // The old request's connection counts on the new configuration: the next request waits.
        CompletableFuture<HttpResponse<String>> queued = getAsync(proxy.uri().resolve("/new"));
        await().atMost(Duration.ofSeconds(10)).until(() -> queueOf(proxy) == 1);
        assertThat(hold.requests.get()).isEqualTo(1);

        long start = System.nanoTime();
        hold.releaseAll();
        assertThat(old.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        // The slot the old request freed goes to the request queued on the new configuration at once.
        await().atMost(Duration.ofSeconds(5)).until(() -> hold.requests.get() == 2);
        hold.releaseAll();
        HttpResponse<String> served = queued.get(10, TimeUnit.SECONDS);
        assertThat(served.statusCode()).isEqualTo(200);
        assertThat(served.body()).isEqualTo("released");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(10_000);
        assertThat(queueOf(proxy)).isZero();
    }

    /** A backend that resets every connection after reading the request head, counting them. */
    private SocketBackend resetting() {
        return track(SocketBackend.start(socket -> {
            SocketBackend.readHead(socket.getInputStream());
            SocketBackend.reset(socket);
        }));
    }

    @Test
    void retriesFollowTheConfiguredCountAndNeverRepeatABackend() throws Exception {
        SocketBackend r1 = resetting();
        SocketBackend r2 = resetting();
        Backends.Echo good = new Backends.Echo("good");
        TestBackend g = track(TestBackend.start("good", good));
        List<BackendConfig> backends = List.of(
                new BackendConfig("a", r1.url(), 1),
                new BackendConfig("b", r2.url(), 1),
                new BackendConfig("c", g.url(), 1));
        RetryConfig two = new RetryConfig(2, Duration.ZERO, EnumSet.of(RetryOn.CONNECT_FAILURE, RetryOn.RESET));
        ProxyAdapter.Running proxy = track(ProxyAdapter.FILTER_IN_JETTY.start(
                config(List.of(new PoolConfig("web", StrategyName.ROUND_ROBIN, backends)), route(two))));

        for (int i = 0; i < 9; i++) {
            HttpResponse<String> response = get(proxy.uri().resolve("/r" + i));
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("good");
        }
        assertThat(good.requests.get()).isEqualTo(9);
        // Each request tried each resetting backend at most once: at most 9 connections each.
        assertThat(r1.connections.get()).isLessThanOrEqualTo(9);
        assertThat(r2.connections.get()).isLessThanOrEqualTo(9);

        try (ProxyAdapter.Running once = ProxyAdapter.FILTER_IN_JETTY.start(config(
                List.of(new PoolConfig("web", StrategyName.ROUND_ROBIN, backends.subList(0, 2))),
                route(RetryConfig.DEFAULT)))) {
            int before = r1.connections.get() + r2.connections.get();
            assertThat(get(once.uri().resolve("/x")).statusCode()).isEqualTo(502);
            assertThat(r1.connections.get() + r2.connections.get() - before).isEqualTo(2); // one try, one retry
        }
    }

    @Test
    void aPerTryTimeoutMovesAnIdempotentRequestOnWhenRetryOnNamesIt() throws Exception {
        Hold stall = new Hold();
        TestBackend slow = track(TestBackend.start("a-slow", stall));
        TestBackend fast = track(TestBackend.start("b-fast", new Backends.Echo("fast")));
        List<BackendConfig> backends =
                List.of(new BackendConfig("a", slow.url(), 1), new BackendConfig("b", fast.url(), 1));
        RetryConfig onTimeout = new RetryConfig(1, Duration.ofMillis(300), EnumSet.of(RetryOn.TIMEOUT));
        ProxyAdapter.Running proxy = track(ProxyAdapter.FILTER_IN_JETTY.start(
                config(List.of(new PoolConfig("web", StrategyName.ROUND_ROBIN, backends)), route(onTimeout))));

        long start = System.nanoTime();
        HttpResponse<String> first = get(proxy.uri().resolve("/t")); // round-robin starts at a: times out, then b
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.body()).isEqualTo("fast");
        assertThat(millis).isBetween(250L, 5_000L);
        assertThat(stall.requests.get()).isEqualTo(1);

        // Without "timeout" in retry-on the per-try timeout answers 504.
        try (ProxyAdapter.Running strict = ProxyAdapter.FILTER_IN_JETTY.start(config(
                List.of(new PoolConfig("web", StrategyName.ROUND_ROBIN, backends.subList(0, 1))),
                route(new RetryConfig(1, Duration.ofMillis(300), EnumSet.of(RetryOn.RESET)))))) {
            assertThat(get(strict.uri().resolve("/t")).statusCode()).isEqualTo(504);
        }
        stall.releaseAll();
    }

    @Test
    void backend503IsRetriedForIdempotentMethodsOnlyWhenRetryOnNamesIt() throws Exception {
        Backends.Status unavailable = new Backends.Status(503);
        TestBackend a = track(TestBackend.start("a", unavailable));
        Backends.Echo echo = new Backends.Echo("b");
        TestBackend b = track(TestBackend.start("b", echo));
        List<BackendConfig> backends = List.of(new BackendConfig("a", a.url(), 1), new BackendConfig("b", b.url(), 1));
        RetryConfig on503 = new RetryConfig(1, Duration.ZERO, EnumSet.of(RetryOn.RESET, RetryOn.STATUS_503));
        // Retries only: outlier ejection would take the 503 backend out after five of them.
        ProxyAdapter.Running proxy = track(ProxyAdapter.FILTER_IN_JETTY.start(config(
                List.of(new PoolConfig(
                        "web",
                        StrategyName.ROUND_ROBIN,
                        backends,
                        null,
                        null,
                        HealthConfig.DEFAULT.withOutlier(OutlierConfig.OFF))),
                route(on503))));

        for (int i = 0; i < 4; i++) {
            HttpResponse<String> response = get(proxy.uri().resolve("/g" + i));
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("b");
        }
        int posts503 = 0;
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> post = http.send(
                    HttpRequest.newBuilder(proxy.uri().resolve("/p"))
                            .POST(HttpRequest.BodyPublishers.ofString("x"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            if (post.statusCode() == 503) {
                posts503++;
                assertThat(post.body()).isEqualTo("status 503"); // the backend's own answer, passed through
            }
        }
        assertThat(posts503).isEqualTo(2);

        try (ProxyAdapter.Running plain = ProxyAdapter.FILTER_IN_JETTY.start(config(
                List.of(new PoolConfig("web", StrategyName.ROUND_ROBIN, backends.subList(0, 1))),
                route(RetryConfig.DEFAULT)))) {
            HttpResponse<String> passed = get(plain.uri().resolve("/g"));
            assertThat(passed.statusCode()).isEqualTo(503);
            assertThat(passed.body()).isEqualTo("status 503");
        }
    }

    @Test
    void theRetryBudgetCapsTheExtraLoadOnAFailingPool() throws Exception {
        AtomicInteger attempts = new AtomicInteger();
        SocketBackend.Behaviour slowReset = socket -> {
            SocketBackend.readHead(socket.getInputStream());
            attempts.incrementAndGet();
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
            SocketBackend.reset(socket);
        };
        SocketBackend a = track(SocketBackend.start(slowReset));
        SocketBackend b = track(SocketBackend.start(slowReset));
        List<BackendConfig> backends = List.of(new BackendConfig("a", a.url(), 1), new BackendConfig("b", b.url(), 1));
        ProxyAdapter.Running proxy = track(ProxyAdapter.FILTER_IN_JETTY.start(config(
                List.of(new PoolConfig("web", StrategyName.ROUND_ROBIN, backends)), route(RetryConfig.DEFAULT))));

        int clients = 20;
        int perClient = 5;
        List<CompletableFuture<Void>> loops = new ArrayList<>();
        java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(clients);
        resources.add(threads::shutdownNow);
        for (int c = 0; c < clients; c++) {
            loops.add(CompletableFuture.runAsync(
                    () -> {
                        for (int i = 0; i < perClient; i++) {
                            try {
                                get(proxy.uri().resolve("/f"));
                            } catch (Exception e) {
                                throw new IllegalStateException(e);
                            }
                        }
                    },
                    threads));
        }
        CompletableFuture.allOf(loops.toArray(CompletableFuture[]::new)).get(40, TimeUnit.SECONDS);
        int requests = clients * perClient;
        int retries = attempts.get() - requests;
        // Every request failed; without a budget each would have been retried once (100 retries).
        assertThat(retries).isPositive();
        assertThat(retries).isLessThanOrEqualTo(requests * 35 / 100);
    }

    @Test
    void retryConfigRejectsNonsense() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new RetryConfig(11, Duration.ZERO, Set.of()))
                .hasMessageContaining("retries: 11");
    }
}
