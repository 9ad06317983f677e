package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.balance.Backend;
import dev.proxyfilter.config.HashKey;
import dev.proxyfilter.config.StickyConfig;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.testing.Backends;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.TestBackend;
import dev.proxyfilter.testing.TestConfigs;
import jakarta.servlet.http.HttpServlet;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The selection strategies of issue 3 through the whole proxy, over every adapter: least request and
 * response time steer traffic away from a slow backend, the sticky cookie pins a client and moves it
 * when its backend goes, and consistent hashing keeps a user on one backend. Real backends, real sockets.
 */
@Timeout(60)
class StrategyIntegrationTest {
    /** Concurrent clients and requests in all for the slow-backend tests: bounded, about a second of work. */
    private static final int CLIENTS = 8;

    private static final int REQUESTS = 320;
    private static final long SLOW_MILLIS = 200;
    private static final Pattern STICKY = Pattern.compile("SRV=([0-9a-f]{16}); Path=/; HttpOnly");

    private final List<AutoCloseable> resources = new ArrayList<>();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final AtomicInteger clientIds = new AtomicInteger();
    private final ExecutorService clients =
            Executors.newFixedThreadPool(CLIENTS, r -> new Thread(r, "strategy-client-" + clientIds.incrementAndGet()));

    @AfterEach
    void stop() throws Exception {
        clients.shutdownNow();
        assertThat(clients.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private <T extends AutoCloseable> T track(T resource) {
        resources.add(resource);
        return resource;
    }

    private TestBackend backend(String name, HttpServlet servlet) {
        return track(TestBackend.start(name, servlet));
    }

    private ProxyAdapter.Running proxy(ProxyAdapter adapter, TestConfigs config) {
        return track(adapter.start(config.build()));
    }

    private HttpResponse<String> get(URI uri, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * {@link #CLIENTS} threads, started together, sending GETs until {@link #REQUESTS} have been sent between
     * them; bodies counted. A shared budget rather than a count per thread keeps all clients busy to the
     * end, so the proxy sees {@link #CLIENTS} concurrent requests throughout instead of a lone straggler.
     */
    private Map<String, Integer> load(URI uri) throws Exception {
        CyclicBarrier start = new CyclicBarrier(CLIENTS);
        AtomicInteger budget = new AtomicInteger(REQUESTS);
        Map<String, Integer> counts = new ConcurrentHashMap<>();
        List<Future<?>> done = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            done.add(clients.submit(() -> {
                start.await(10, TimeUnit.SECONDS);
                while (budget.getAndDecrement() > 0) {
                    HttpResponse<String> response = get(uri);
                    assertThat(response.statusCode()).isEqualTo(200);
                    counts.merge(response.body(), 1, Integer::sum);
                }
                return null;
            }));
        }
        for (Future<?> future : done) {
            future.get(40, TimeUnit.SECONDS);
        }
        assertThat(counts.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(REQUESTS);
        return counts;
    }

    private static Backend backendNamed(ProxyAdapter.Running proxy, String pool, String name) {
        return proxy.engine().pools().get(pool).backends().stream()
                .filter(b -> b.name().equals(name))
                .findFirst()
                .orElseThrow();
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void leastRequestSendsLessToASlowBackend(ProxyAdapter adapter) throws Exception {
        TestBackend slow = backend("slow", new Backends.Delayed("slow", SLOW_MILLIS));
        TestBackend fast = backend("fast", new Backends.Echo("fast"));
        ProxyAdapter.Running proxy = proxy(
                adapter,
                TestConfigs.builder()
                        .pool("web", StrategyName.LEAST_REQUEST, "slow", slow.url(), 1, "fast", fast.url(), 1)
                        .route("main", "/", "web"));

        Map<String, Integer> counts = load(proxy.uri().resolve("/work"));

        int total = REQUESTS;
        // Round-robin would give the slow backend half; least request gives it what its in-flight count allows.
        assertThat(counts.getOrDefault("slow", 0))
                .as("requests to the slow backend, of %d: %s", total, counts)
                .isLessThan(total * 35 / 100);
        // Every request the engine counted in was counted out (the last ones may end just after the client read them).
        Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(
                        () -> assertThat(proxy.engine().pools().get("web").backends())
                                .extracting(Backend::inFlight)
                                .containsOnly(0));
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void responseTimeSendsMostToTheFastBackend(ProxyAdapter adapter) throws Exception {
        TestBackend slow = backend("slow", new Backends.Delayed("slow", SLOW_MILLIS));
        TestBackend fast = backend("fast", new Backends.Echo("fast"));
        ProxyAdapter.Running proxy = proxy(
                adapter,
                TestConfigs.builder()
                        .pool("web", StrategyName.RESPONSE_TIME, "slow", slow.url(), 1, "fast", fast.url(), 1)
                        .route("main", "/", "web"));

        Map<String, Integer> counts = load(proxy.uri().resolve("/work"));

        int total = REQUESTS;
        assertThat(counts.getOrDefault("fast", 0))
                .as("requests to the fast backend, of %d: %s", total, counts)
                .isGreaterThan(total * 60 / 100);
        assertThat(counts.getOrDefault("slow", 0)).isLessThan(counts.getOrDefault("fast", 0));
        // The engine reported each backend's time to response headers.
        double slowMillis = backendNamed(proxy, "web", "slow").latencyNanos() / 1e6;
        double fastMillis = backendNamed(proxy, "web", "fast").latencyNanos() / 1e6;
        assertThat(slowMillis).isBetween(SLOW_MILLIS * 0.5, SLOW_MILLIS * 20.0);
        assertThat(fastMillis).isLessThan(slowMillis);
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void stickyCookiePinsTheClientAndMovesItWhenItsBackendGoes(ProxyAdapter adapter) throws Exception {
        TestBackend a = backend("a", new Backends.Echo("a"));
        TestBackend b = backend("b", new Backends.Echo("b"));
        TestBackend c = backend("c", new Backends.Echo("c"));
        ProxyAdapter.Running proxy = proxy(
                adapter,
                TestConfigs.builder()
                        .pool(
                                "web",
                                StrategyName.ROUND_ROBIN,
                                null,
                                new StickyConfig("SRV"),
                                "a",
                                a.url(),
                                1,
                                "b",
                                b.url(),
                                1,
                                "c",
                                c.url(),
                                1)
                        .route("main", "/", "web"));
        URI uri = proxy.uri().resolve("/cart");

        HttpResponse<String> first = get(uri);
        String pinned = first.body();
        String id = stickyId(first);
        assertThat(id).isEqualTo(documentedStickyId("web", pinned));
        assertThat(first.headers().allValues("Set-Cookie").toString()).doesNotContain("127.0.0.1");

        for (int i = 0; i < 20; i++) {
            HttpResponse<String> again = get(uri, "Cookie", "theme=dark; SRV=" + id);
            assertThat(again.body()).isEqualTo(pinned);
            assertThat(again.headers().allValues("Set-Cookie"))
                    .as("the cookie is already right")
                    .isEmpty();
            // The cookie reaches the backend unchanged.
            assertThat(again.headers().firstValue("X-Echo-Cookie")).hasValue("theme=dark; SRV=" + id);
        }

        backendNamed(proxy, "web", pinned).available(false);
        HttpResponse<String> moved = get(uri, "Cookie", "SRV=" + id);
        String movedTo = moved.body();
        assertThat(movedTo).isNotEqualTo(pinned).isIn("a", "b", "c");
        String newId = stickyId(moved);
        assertThat(newId).isNotEqualTo(id).isEqualTo(documentedStickyId("web", movedTo));

        for (int i = 0; i < 10; i++) {
            assertThat(get(uri, "Cookie", "SRV=" + newId).body()).isEqualTo(movedTo);
        }
    }

    private static String stickyId(HttpResponse<String> response) {
        List<String> cookies = response.headers().allValues("Set-Cookie");
        assertThat(cookies).hasSize(1);
        Matcher matcher = STICKY.matcher(cookies.get(0));
        assertThat(matcher.matches()).as("Set-Cookie %s", cookies.get(0)).isTrue();
        return matcher.group(1);
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void consistentHashKeepsEachUserOnOneBackend(ProxyAdapter adapter) throws Exception {
        TestBackend a = backend("a", new Backends.Echo("a"));
        TestBackend b = backend("b", new Backends.Echo("b"));
        TestBackend c = backend("c", new Backends.Echo("c"));
        ProxyAdapter.Running proxy = proxy(
                adapter,
                TestConfigs.builder()
                        .pool(
                                "web",
                                StrategyName.CONSISTENT_HASH,
                                HashKey.header("X-User"),
                                null,
                                "a",
                                a.url(),
                                1,
                                "b",
                                b.url(),
                                1,
                                "c",
                                c.url(),
                                1)
                        .route("main", "/", "web"));
        URI uri = proxy.uri().resolve("/profile");

        Map<String, String> backendOfUser = new HashMap<>();
        for (int round = 0; round < 3; round++) {
            for (int user = 0; user < 30; user++) {
                String body = get(uri, "X-User", "user-" + user).body();
                String first = backendOfUser.putIfAbsent("user-" + user, body);
                assertThat(body).as("user-%d in round %d", user, round).isEqualTo(first == null ? body : first);
            }
        }
        Set<String> reached = new HashSet<>(backendOfUser.values());
        assertThat(reached).as("30 users spread over the backends").hasSize(3);
    }

    /** The sticky id of a backend as {@code BackendPool} documents it: 16 hex of SHA-256 over pool and name. */
    private static String documentedStickyId(String pool, String backend) throws Exception {
        byte[] digest = MessageDigest.getInstance("SHA-256")
                .digest(("proxy-filter sticky\0" + pool + "\0" + backend).getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(digest, 0, 8);
    }
}
