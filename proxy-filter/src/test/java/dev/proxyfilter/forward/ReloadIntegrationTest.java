package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.admin.AdminOperations;
import dev.proxyfilter.balance.Backend;
import dev.proxyfilter.balance.BackendState;
import dev.proxyfilter.config.ConfigLoader;
import dev.proxyfilter.config.ConfigSource;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.config.ServerConfig;
import dev.proxyfilter.config.StickyConfig;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.reload.ReloadResult;
import dev.proxyfilter.testing.Backends;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.TestBackend;
import dev.proxyfilter.testing.TestConfigs;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Configuration reload under traffic (issue 7): a steady stream of requests while the configuration is
 * replaced 20 times loses none and follows each configuration at once; an invalid configuration changes
 * nothing; backends that stay keep their state, statistics and sticky sessions; a removed backend's slow
 * request completes; restart-only settings are reported. Real backends, real sockets, bounded load.
 */
@Timeout(60)
class ReloadIntegrationTest {
    private static final List<String> NAMES = List.of("a", "b", "c", "d");
    /** Concurrent clients of the steady stream; each stops at the end of the test or after {@link #MAX_REQUESTS}. */
    private static final int CLIENTS = 4;

    private static final int MAX_REQUESTS = 20_000;

    private final List<AutoCloseable> resources = new ArrayList<>();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ExecutorService clients = Executors.newFixedThreadPool(CLIENTS + 1);
    private final Map<String, TestBackend> backends = new ConcurrentHashMap<>();

    @TempDir
    Path temp;

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

    private void startBackends() {
        for (String name : NAMES) {
            backends.put(name, track(TestBackend.start(name, new Backends.Echo(name))));
        }
    }

    private HttpResponse<String> get(URI uri, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A steady stream of GETs from {@link #CLIENTS} threads until {@link Stream#stop}; bodies and failures recorded. */
    private final class Stream {
        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicInteger sent = new AtomicInteger();
        final AtomicInteger ok = new AtomicInteger();
        final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        final Map<String, Integer> bodies = new ConcurrentHashMap<>();
        final List<Future<?>> done = new ArrayList<>();

        Stream(URI uri) {
            for (int c = 0; c < CLIENTS; c++) {
                done.add(clients.submit(() -> {
                    while (running.get() && sent.incrementAndGet() <= MAX_REQUESTS) {
                        try {
                            HttpResponse<String> response = get(uri);
                            if (response.statusCode() == 200) {
                                ok.incrementAndGet();
                                bodies.merge(response.body(), 1, Integer::sum);
                            } else {
                                failures.add(response.statusCode() + " " + response.body());
                            }
                        } catch (Exception e) {
                            failures.add(e.toString());
                        }
                    }
                    return null;
                }));
            }
        }

        /** Waits until {@code more} requests more have succeeded, so that a check sees traffic, not a pause. */
        void awaitMore(int more) {
            int target = ok.get() + more;
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> ok.get() >= target || !failures.isEmpty());
        }

        void stop() throws Exception {
            running.set(false);
            for (Future<?> future : done) {
                future.get(30, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * Configuration {@code i} of the reload series: one of the four backends left out in turn, the other
     * three weighted 0, 1 and 2 in a rotating order, so that every reload adds, removes and re-weights.
     */
    private ProxyConfig series(int i) {
        List<Object> triples = new ArrayList<>();
        List<String> included = new ArrayList<>(NAMES);
        included.remove(i % NAMES.size());
        for (int j = 0; j < included.size(); j++) {
            String name = included.get(j);
            triples.addAll(List.of(name, backends.get(name).url(), (i + j) % 3));
        }
        return TestConfigs.builder()
                .pool("web", StrategyName.WEIGHTED_ROUND_ROBIN, triples.toArray())
                .route("main", "/", "web")
                .build();
    }

    /** The backends of configuration {@code i} that take traffic: weight above 0. */
    private Set<String> serving(ProxyConfig config) {
        Set<String> names = new java.util.HashSet<>();
        config.pools().get("web").backends().stream()
                .filter(b -> b.weight() > 0)
                .forEach(b -> names.add(b.name()));
        return names;
    }

    @org.junit.jupiter.api.Tag("slow")
    @ParameterizedTest
    @EnumSource(
            value = ProxyAdapter.class,
            names = {"FILTER_IN_JETTY", "VALVE_IN_TOMCAT"})
    void twentyReloadsUnderASteadyStreamLoseNoRequestAndTrafficFollowsEachConfiguration(ProxyAdapter adapter)
            throws Exception {
        startBackends();
        ProxyAdapter.Running proxy = track(adapter.start(series(0)));
        ProxyEngine engine = proxy.engine();
        Stream stream = new Stream(proxy.uri().resolve("/x"));
        stream.awaitMore(20);

        for (int i = 1; i <= 20; i++) {
            ProxyConfig next = series(i);
            ReloadResult result = engine.reload(next);
            assertThat(result.outcome())
                    .as("reload %d: %s", i, result.message())
                    .isEqualTo(ReloadResult.Outcome.APPLIED);
            assertThat(result.generation()).isEqualTo(1 + i);
            // A request that starts after the reload returned sees the new configuration and nothing else.
            Set<String> allowed = serving(next);
            for (int r = 0; r < 8; r++) {
                HttpResponse<String> response = get(proxy.uri().resolve("/check"));
                assertThat(response.statusCode()).isEqualTo(200);
                assertThat(response.body())
                        .as("reload %d, allowed %s", i, allowed)
                        .isIn(allowed);
            }
            stream.awaitMore(10);
        }
        stream.stop();

        assertThat(stream.failures).as("failed client requests").isEmpty();
        assertThat(stream.ok.get()).isGreaterThan(200);
        assertThat(engine.generation()).isEqualTo(21);
        assertThat(engine.metrics().registry().counter("proxy.reload.success").getCount())
                .isEqualTo(20);

        // The weights of the last configuration hold exactly: smooth weighted round robin over 3 rounds.
        ProxyConfig last = TestConfigs.builder()
                .pool(
                        "web",
                        StrategyName.WEIGHTED_ROUND_ROBIN,
                        "a",
                        backends.get("a").url(),
                        3,
                        "b",
                        backends.get("b").url(),
                        1)
                .route("main", "/", "web")
                .build();
        assertThat(engine.reload(last).outcome()).isEqualTo(ReloadResult.Outcome.APPLIED);
        Map<String, Integer> counts = new java.util.HashMap<>();
        for (int r = 0; r < 40; r++) {
            counts.merge(get(proxy.uri().resolve("/w")).body(), 1, Integer::sum);
        }
        assertThat(counts).isEqualTo(Map.of("a", 30, "b", 10));
        // Backends the last configuration dropped drained, and their series went with their last request.
        Awaitility.await()
                .atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(engine.metrics().registry().getNames())
                        .noneMatch(name ->
                                name.startsWith("proxy.backend.web.c.") || name.startsWith("proxy.backend.web.d.")));
    }

    private String properties(String... backendWeights) {
        StringBuilder text = new StringBuilder("route.main.path=/\nroute.main.pool=web\n");
        for (int i = 0; i < backendWeights.length; i += 2) {
            String name = backendWeights[i];
            text.append("pool.web.backend.")
                    .append(name)
                    .append(".url=")
                    .append(backends.get(name).url())
                    .append('\n');
            text.append("pool.web.backend.")
                    .append(name)
                    .append(".weight=")
                    .append(backendWeights[i + 1])
                    .append('\n');
        }
        return text.toString();
    }

    @Test
    void anInvalidConfigurationUnderLoadChangesNothingAndIsReported() throws Exception {
        startBackends();
        Path file = temp.resolve("proxy.properties");
        Files.writeString(file, properties("a", "1", "b", "1"));
        java.util.function.Supplier<ProxyConfig> loader = () -> ConfigLoader.load(List.of(ConfigSource.ofFile(file)));
        ProxyAdapter.Running proxy = track(ProxyAdapter.FILTER_IN_JETTY.start(loader.get()));
        ProxyEngine engine = proxy.engine();
        engine.configSource(loader);
        Stream stream = new Stream(proxy.uri().resolve("/x"));
        stream.awaitMore(20);

        Files.writeString(file, properties("a", "1", "b", "-1", "c", "1"));
        ReloadResult result = engine.reloadFromSource("test");

        assertThat(result.outcome()).isEqualTo(ReloadResult.Outcome.REJECTED);
        assertThat(result.message()).isEqualTo("pool.web.backend.b.weight: -1 (expected: integer >= 0) [" + file + "]");
        assertThat(result.generation()).isEqualTo(1);
        assertThat(engine.generation()).isEqualTo(1);
        assertThat(engine.lastReload()).isEqualTo(result);
        int before = stream.bodies.getOrDefault("c", 0);
        stream.awaitMore(50);
        stream.stop();
        assertThat(stream.failures).as("failed client requests").isEmpty();
        assertThat(stream.bodies.getOrDefault("c", 0)).isEqualTo(before).isZero();
        assertThat(stream.bodies.keySet()).containsExactlyInAnyOrder("a", "b");
        assertThat(engine.metrics().registry().counter("proxy.reload.failure").getCount())
                .isEqualTo(1);
        assertThat(gauge(engine, "proxy.reload.last_ok")).isEqualTo(0L);

        // Fixed, it applies; the gauge says so again.
        Files.writeString(file, properties("a", "1", "c", "1"));
        assertThat(engine.reloadFromSource("test").outcome()).isEqualTo(ReloadResult.Outcome.APPLIED);
        assertThat(gauge(engine, "proxy.reload.last_ok")).isEqualTo(1L);
        assertThat(gauge(engine, "proxy.reload.generation")).isEqualTo(2L);
        assertThat(get(proxy.uri().resolve("/y")).body()).isIn("a", "c");
    }

    private static Object gauge(ProxyEngine engine, String name) {
        return engine.metrics().registry().getGauges().get(name).getValue();
    }

    private static Backend backend(ProxyEngine engine, String name) {
        return engine.pools().get("web").backend(name).orElseThrow();
    }

    @Test
    void backendsThatStayKeepTheirStateStatisticsAndIdentity() throws Exception {
        startBackends();
        ProxyAdapter.Running proxy = track(ProxyAdapter.FILTER_IN_JETTY.start(TestConfigs.builder()
                .pool(
                        "web",
                        StrategyName.ROUND_ROBIN,
                        "a",
                        backends.get("a").url(),
                        1,
                        "b",
                        backends.get("b").url(),
                        1,
                        "c",
                        backends.get("c").url(),
                        1)
                .route("main", "/", "web")
                .build()));
        ProxyEngine engine = proxy.engine();
        for (int i = 0; i < 9; i++) {
            assertThat(get(proxy.uri().resolve("/x")).statusCode()).isEqualTo(200);
        }
        Backend a = backend(engine, "a");
        Backend b = backend(engine, "b");
        Backend c = backend(engine, "c");
        new AdminOperations(engine).disable("web", "a");
        new AdminOperations(engine).drain("web", "b");
        new AdminOperations(engine).weight("web", "c", 7);
        Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .until(() -> engine.metrics(c).requests().getCount() == 3);

        ReloadResult result = engine.reload(TestConfigs.builder()
                .pool(
                        "web",
                        StrategyName.ROUND_ROBIN,
                        "a",
                        backends.get("a").url(),
                        1,
                        "b",
                        backends.get("b").url(),
                        1,
                        "c",
                        backends.get("c").url(),
                        1,
                        "d",
                        backends.get("d").url(),
                        1)
                .route("main", "/", "web")
                .build());

        assertThat(result.outcome()).isEqualTo(ReloadResult.Outcome.APPLIED);
        assertThat(backend(engine, "a")).isSameAs(a);
        assertThat(backend(engine, "b")).isSameAs(b);
        assertThat(backend(engine, "c")).isSameAs(c);
        assertThat(a.state()).isEqualTo(BackendState.DISABLED);
        assertThat(b.state()).isEqualTo(BackendState.DRAINING);
        // The configured weight did not change, so the operator's weight stands.
        assertThat(c.weight()).isEqualTo(7);
        assertThat(engine.metrics(c).requests().getCount()).isEqualTo(3);
        assertThat(backend(engine, "d").state()).isEqualTo(BackendState.UP);
        for (int i = 0; i < 8; i++) {
            assertThat(get(proxy.uri().resolve("/x")).body()).isIn("c", "d");
        }
        // An operator's enable works on the carried-over backend, through the new pool.
        new AdminOperations(engine).enable("web", "a");
        assertThat(engine.pools().get("web").eligible(a)).isTrue();

        // A new configured weight does apply.
        engine.reload(TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "c", backends.get("c").url(), 2)
                .route("main", "/", "web")
                .build());
        assertThat(backend(engine, "c")).isSameAs(c);
        assertThat(c.weight()).isEqualTo(2);
        assertThat(a.state()).isEqualTo(BackendState.DRAINING);
    }

    @Test
    void anEjectedBackendStaysEjectedAcrossAReload() throws Exception {
        startBackends();
        TestBackend failing = track(TestBackend.start("f", new Backends.Status(503)));
        backends.put("f", failing);
        ProxyConfig config = TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "a", backends.get("a").url(), 1, "f", failing.url(), 1)
                .route("main", "/", "web")
                .build();
        ProxyAdapter.Running proxy = track(ProxyAdapter.FILTER_IN_JETTY.start(config));
        ProxyEngine engine = proxy.engine();
        Backend f = backend(engine, "f");
        for (int i = 0; i < 20 && f.state() != BackendState.EJECTED; i++) {
            get(proxy.uri().resolve("/x"));
        }
        assertThat(f.state()).isEqualTo(BackendState.EJECTED);

        engine.reload(TestConfigs.builder()
                .pool(
                        "web",
                        StrategyName.ROUND_ROBIN,
                        "a",
                        backends.get("a").url(),
                        1,
                        "f",
                        failing.url(),
                        1,
                        "b",
                        backends.get("b").url(),
                        1)
                .route("main", "/", "web")
                .build());

        assertThat(backend(engine, "f")).isSameAs(f);
        assertThat(f.state()).isEqualTo(BackendState.EJECTED);
        for (int i = 0; i < 6; i++) {
            assertThat(get(proxy.uri().resolve("/x")).body()).isIn("a", "b");
        }
    }

    @Test
    void aStickyCookieStillReachesTheSameBackendAfterAReload() throws Exception {
        startBackends();
        StickyConfig sticky = new StickyConfig("SRV");
        ProxyAdapter.Running proxy = track(ProxyAdapter.FILTER_IN_JETTY.start(TestConfigs.builder()
                .pool(
                        "web",
                        StrategyName.ROUND_ROBIN,
                        null,
                        sticky,
                        "a",
                        backends.get("a").url(),
                        1,
                        "b",
                        backends.get("b").url(),
                        1)
                .route("main", "/", "web")
                .build()));
        HttpResponse<String> first = get(proxy.uri().resolve("/x"));
        String pinned = first.body();
        String cookie = first.headers().firstValue("Set-Cookie").orElseThrow().split(";")[0];

        proxy.engine()
                .reload(TestConfigs.builder()
                        .pool(
                                "web",
                                StrategyName.ROUND_ROBIN,
                                null,
                                sticky,
                                "a",
                                backends.get("a").url(),
                                5,
                                "b",
                                backends.get("b").url(),
                                5,
                                "c",
                                backends.get("c").url(),
                                5)
                        .route("main", "/", "web")
                        .build());

        for (int i = 0; i < 10; i++) {
            HttpResponse<String> response = get(proxy.uri().resolve("/x"), "Cookie", cookie);
            assertThat(response.body()).isEqualTo(pinned);
            assertThat(response.headers().firstValue("Set-Cookie")).isEmpty();
        }
    }

    @Test
    void aRemovedBackendsSlowRequestCompletesAndItsSeriesGoAfterIt() throws Exception {
        startBackends();
        TestBackend slow = track(TestBackend.start("slow", new Backends.Delayed("slow", 1500)));
        ProxyAdapter.Running proxy = track(ProxyAdapter.FILTER_IN_JETTY.start(TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "slow", slow.url(), 1)
                .route("main", "/", "web")
                .build()));
        ProxyEngine engine = proxy.engine();
        Backend removed = backend(engine, "slow");
        CompletableFuture<HttpResponse<String>> inFlight = http.sendAsync(
                HttpRequest.newBuilder(proxy.uri().resolve("/slow"))
                        .timeout(Duration.ofSeconds(20))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> removed.inFlight() == 1);

        ReloadResult result = engine.reload(TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "a", backends.get("a").url(), 1)
                .route("main", "/", "web")
                .build());

        assertThat(result.outcome()).isEqualTo(ReloadResult.Outcome.APPLIED);
        assertThat(removed.state()).isEqualTo(BackendState.DRAINING);
        assertThat(get(proxy.uri().resolve("/fast")).body()).isEqualTo("a");
        assertThat(engine.metrics().registry().getNames()).anyMatch(name -> name.startsWith("proxy.backend.web.slow."));
        HttpResponse<String> response = inFlight.get(10, TimeUnit.SECONDS);
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("slow");
        Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(engine.metrics().registry().getNames())
                        .noneMatch(name -> name.startsWith("proxy.backend.web.slow.")));
        assertThat(removed.inFlight()).isZero();
    }

    @Test
    void aRequestInFlightKeepsTheSettingsOfItsOwnConfiguration() throws Exception {
        TestBackend slow = track(TestBackend.start("slow", new Backends.Delayed("slow", 1500)));
        ProxyAdapter.Running proxy = track(ProxyAdapter.FILTER_IN_JETTY.start(TestConfigs.builder()
                .via("first-proxy")
                .pool("web", StrategyName.ROUND_ROBIN, "slow", slow.url(), 1)
                .route("main", "/", "web")
                .build()));
        ProxyEngine engine = proxy.engine();
        Backend backend = backend(engine, "slow");
        CompletableFuture<HttpResponse<String>> inFlight = http.sendAsync(
                HttpRequest.newBuilder(proxy.uri().resolve("/slow"))
                        .timeout(Duration.ofSeconds(20))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> backend.inFlight() == 1);

        ReloadResult result = engine.reload(TestConfigs.builder()
                .via("second-proxy")
                .pool("web", StrategyName.ROUND_ROBIN, "slow", slow.url(), 1)
                .route("main", "/", "web")
                .build());

        assertThat(result.outcome()).isEqualTo(ReloadResult.Outcome.APPLIED);
        HttpResponse<String> response = inFlight.get(10, TimeUnit.SECONDS);
        assertThat(response.statusCode()).isEqualTo(200);
        // The response of a request that started before the reload carries the Via of its configuration.
        assertThat(response.headers().allValues("Via"))
                .anyMatch(via -> via.contains("first-proxy"))
                .noneMatch(via -> via.contains("second-proxy"));
        assertThat(get(proxy.uri().resolve("/after")).headers().allValues("Via"))
                .anyMatch(via -> via.contains("second-proxy"));
    }

    @Test
    void aRestartOnlyChangeIsReportedAndTheRestApplied() throws Exception {
        startBackends();
        ProxyConfig first = TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "a", backends.get("a").url(), 1)
                .route("main", "/", "web")
                .build();
        ProxyAdapter.Running proxy = track(ProxyAdapter.FILTER_IN_JETTY.start(first));
        ProxyEngine engine = proxy.engine();

        ReloadResult result = engine.reload(TestConfigs.builder()
                .server(new ServerConfig("127.0.0.1", 18080))
                .pool("web", StrategyName.ROUND_ROBIN, "b", backends.get("b").url(), 1)
                .route("main", "/", "web")
                .build());

        assertThat(result.outcome()).isEqualTo(ReloadResult.Outcome.APPLIED);
        assertThat(result.restartRequired()).containsExactly("server.*");
        assertThat(result.message()).contains("needs a restart: server.*");
        assertThat(engine.config().server()).isEqualTo(first.server());
        assertThat(get(proxy.uri().resolve("/x")).body()).isEqualTo("b");
        assertThat(gauge(engine, "proxy.reload.restart_required")).isEqualTo(1L);

        // Reading the same again is no change at all, but the pending restart is still named.
        ReloadResult again = engine.reload(TestConfigs.builder()
                .server(new ServerConfig("127.0.0.1", 18080))
                .pool("web", StrategyName.ROUND_ROBIN, "b", backends.get("b").url(), 1)
                .route("main", "/", "web")
                .build());
        assertThat(again.outcome()).isEqualTo(ReloadResult.Outcome.UNCHANGED);
        assertThat(again.generation()).isEqualTo(2);
        assertThat(again.restartRequired()).containsExactly("server.*");
    }

    @Test
    void aChangeOfWhereTheAccessLogGoesIsReportedAsNeedingARestart(@org.junit.jupiter.api.io.TempDir Path folder)
            throws Exception {
        startBackends();
        java.util.function.Function<String, ProxyConfig> load =
                to -> dev.proxyfilter.config.ConfigLoader.load(List.of(new dev.proxyfilter.config.ConfigSource(
                        "test.properties",
                        Map.of(
                                "pool.web.backend.a.url",
                                        backends.get("a").url().toString(),
                                "route.main.path", "/",
                                "route.main.pool", "web",
                                "log.access", "json",
                                "log.access.to", to))));
        ProxyAdapter.Running proxy = track(ProxyAdapter.HANDLER_IN_JETTY.start(load.apply("logger")));
        ProxyEngine engine = proxy.engine();

        ReloadResult result =
                engine.reload(load.apply(folder.resolve("access.log").toString()));

        assertThat(result.restartRequired()).containsExactly("log.access.*");
        assertThat(result.message()).contains("needs a restart: log.access.*");
        assertThat(engine.config().accessLogTarget()).isEqualTo(dev.proxyfilter.config.AccessLogTarget.LOGGER);
        assertThat(get(proxy.uri().resolve("/x")).statusCode()).isEqualTo(200);
        assertThat(folder.resolve("access.log"))
                .as("still the logger's until a restart")
                .doesNotExist();
    }

    @Test
    void aReloadThatCannotStartItsSecurityIsRejected() throws Exception {
        startBackends();
        Path file = temp.resolve("proxy.properties");
        Files.writeString(file, properties("a", "1"));
        java.util.function.Supplier<ProxyConfig> loader = () -> ConfigLoader.load(List.of(ConfigSource.ofFile(file)));
        ProxyAdapter.Running proxy = track(ProxyAdapter.FILTER_IN_JETTY.start(loader.get()));
        ProxyEngine engine = proxy.engine();
        engine.configSource(loader);
        Path users = temp.resolve("missing-users");
        Files.writeString(
                file, properties("b", "1") + "route.main.auth=basic\nroute.main.auth.users-file=" + users + "\n");

        ReloadResult result = engine.reloadFromSource("test");

        assertThat(result.outcome()).isEqualTo(ReloadResult.Outcome.REJECTED);
        assertThat(result.message()).contains("route.main.auth.users-file");
        assertThat(get(proxy.uri().resolve("/x")).body()).isEqualTo("a");
    }

    @Test
    void aFileChangeReloadsAndClosingStopsTheWatcher() throws Exception {
        startBackends();
        Path file = temp.resolve("proxy.properties");
        Files.writeString(file, properties("a", "1") + "reload.debounce=50ms\n");
        java.util.function.Supplier<ProxyConfig> loader = () -> ConfigLoader.load(List.of(ConfigSource.ofFile(file)));
        ProxyAdapter.Running proxy = ProxyAdapter.FILTER_IN_JETTY.start(loader.get());
        ProxyEngine engine = proxy.engine();
        try {
            engine.configSource(loader);
            engine.watch(file);

            // In place, as most editors save.
            Files.writeString(file, properties("b", "1") + "reload.debounce=50ms\n");
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> engine.generation() == 2);
            assertThat(engine.lastReload().trigger()).isEqualTo("file");
            assertThat(get(proxy.uri().resolve("/x")).body()).isEqualTo("b");

            // Replaced by a rename, as vim, Kubernetes and atomic deploy tools do.
            Path staged = temp.resolve("proxy.properties.tmp");
            Files.writeString(staged, properties("c", "1") + "reload.debounce=50ms\n");
            Files.move(
                    staged,
                    file,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> engine.generation() == 3);
            assertThat(get(proxy.uri().resolve("/x")).body()).isEqualTo("c");

            // Another file in the directory is none of its business.
            Files.writeString(temp.resolve("other.properties"), "x=y\n");
            Files.writeString(file, "pool.web.backend.a.weight=oops\n");
            Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> engine.lastReload().outcome() == ReloadResult.Outcome.REJECTED);
            assertThat(engine.generation()).isEqualTo(3);
        } finally {
            proxy.close();
            engine.close();
        }
        assertThat(Thread.getAllStackTraces().keySet())
                .noneMatch(t -> t.getName().equals("proxy-config-watcher") && t.isAlive());
    }

    @Test
    void aClientNoConfigurationUsesAnyMoreIsStoppedOnceItsRequestsEnded() throws Exception {
        startBackends();
        ProxyAdapter.Running proxy = track(ProxyAdapter.FILTER_IN_JETTY.start(TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "a", backends.get("a").url(), 1)
                .route("main", "/", "web")
                .build()));
        ProxyEngine engine = proxy.engine();
        assertThat(engine.clientCount()).isEqualTo(1);

        // Another connect timeout needs another client (Jetty sets it per client).
        engine.reload(TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "a", backends.get("a").url(), 1)
                .route(new dev.proxyfilter.config.RouteConfig(
                        "main",
                        null,
                        "/",
                        "web",
                        false,
                        true,
                        Duration.ofSeconds(3),
                        Duration.ofSeconds(10),
                        Duration.ZERO))
                .build());

        assertThat(engine.clientCount()).isEqualTo(2);
        assertThat(get(proxy.uri().resolve("/x")).body()).isEqualTo("a");
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> engine.clientCount() == 1);
        assertThat(get(proxy.uri().resolve("/x")).body()).isEqualTo("a");
    }

    @Test
    void aRemovedBackendsConnectionPoolGoesOnceNoGenerationRoutesToIt() throws Exception {
        // Backends whose address changes on every deploy must not leave a pool behind per old address.
        startBackends();
        ProxyAdapter.Running proxy = track(ProxyAdapter.FILTER_IN_JETTY.start(TestConfigs.builder()
                .pool(
                        "web",
                        StrategyName.ROUND_ROBIN,
                        "a",
                        backends.get("a").url(),
                        1,
                        "b",
                        backends.get("b").url(),
                        1)
                .route("main", "/", "web")
                .build()));
        ProxyEngine engine = proxy.engine();
        for (int i = 0; i < 4; i++) {
            assertThat(get(proxy.uri().resolve("/x")).statusCode()).isEqualTo(200);
        }
        assertThat(engine.upstreamDestinations()).isEqualTo(2);

        engine.reload(TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "a", backends.get("a").url(), 1)
                .route("main", "/", "web")
                .build());

        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> engine.upstreamDestinations() == 1);
        for (int i = 0; i < 4; i++) {
            assertThat(get(proxy.uri().resolve("/x")).body()).isEqualTo("a");
        }
        assertThat(engine.upstreamDestinations()).isEqualTo(1);
    }

    @Test
    void aBackendAddedToAPoolWithSlowStartRampsUp() throws Exception {
        startBackends();
        dev.proxyfilter.config.HealthConfig slowStart =
                dev.proxyfilter.config.HealthConfig.DEFAULT.withSlowStart(Duration.ofMinutes(5));
        ProxyAdapter.Running proxy = track(ProxyAdapter.FILTER_IN_JETTY.start(TestConfigs.builder()
                .pool(
                        "web",
                        StrategyName.WEIGHTED_ROUND_ROBIN,
                        "a",
                        backends.get("a").url(),
                        1)
                .health("web", slowStart)
                .route("main", "/", "web")
                .build()));
        ProxyEngine engine = proxy.engine();

        engine.reload(TestConfigs.builder()
                .pool(
                        "web",
                        StrategyName.WEIGHTED_ROUND_ROBIN,
                        "a",
                        backends.get("a").url(),
                        1,
                        "b",
                        backends.get("b").url(),
                        1)
                .health("web", slowStart)
                .route("main", "/", "web")
                .build());

        assertThat(backend(engine, "a").health().weightPercent()).isEqualTo(100);
        assertThat(backend(engine, "b").health().weightPercent()).isEqualTo(10);
        Map<String, Integer> counts = new java.util.HashMap<>();
        for (int r = 0; r < 22; r++) {
            counts.merge(get(proxy.uri().resolve("/x")).body(), 1, Integer::sum);
        }
        // Selection weights 10 and 1: the newcomer gets one request in eleven.
        assertThat(counts).isEqualTo(Map.of("a", 20, "b", 2));
    }

    /** Answers every GET with a response the cache may keep for a minute, and counts what reaches it. */
    private static final class Cacheable extends jakarta.servlet.http.HttpServlet {
        private static final long serialVersionUID = 1L;
        final AtomicInteger requests = new AtomicInteger();

        @Override
        protected void doGet(jakarta.servlet.http.HttpServletRequest req, jakarta.servlet.http.HttpServletResponse resp)
                throws java.io.IOException {
            requests.incrementAndGet();
            resp.setHeader("Cache-Control", "max-age=60");
            resp.setContentType("text/plain");
            resp.getWriter().print("cacheable");
        }
    }

    private static ProxyConfig cached(TestBackend backend, boolean routeCaches) {
        return TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "a", backend.url(), 1)
                .route(new dev.proxyfilter.config.RouteConfig(
                                "main",
                                null,
                                "/",
                                "web",
                                false,
                                true,
                                Duration.ofSeconds(2),
                                Duration.ofSeconds(10),
                                Duration.ZERO)
                        .withCache(routeCaches))
                .build()
                .withCache(dev.proxyfilter.config.CacheConfig.builder().build());
    }

    @Test
    void theCacheSurvivesReloadsAndARouteSwitchedOffStopsUsingIt() throws Exception {
        Cacheable servlet = new Cacheable();
        TestBackend backend = track(TestBackend.start("a", servlet));
        ProxyAdapter.Running proxy = track(ProxyAdapter.FILTER_IN_JETTY.start(cached(backend, true)));
        ProxyEngine engine = proxy.engine();
        get(proxy.uri().resolve("/page"));
        assertThat(get(proxy.uri().resolve("/page")).body()).isEqualTo("cacheable");
        assertThat(servlet.requests.get()).isEqualTo(1);

        assertThat(engine.reload(cached(backend, false)).outcome()).isEqualTo(ReloadResult.Outcome.APPLIED);
        get(proxy.uri().resolve("/page"));
        get(proxy.uri().resolve("/page"));
        assertThat(servlet.requests.get()).as("the route no longer caches").isEqualTo(3);

        assertThat(engine.reload(cached(backend, true)).outcome()).isEqualTo(ReloadResult.Outcome.APPLIED);
        HttpResponse<String> hit = get(proxy.uri().resolve("/page"));
        assertThat(hit.body()).isEqualTo("cacheable");
        assertThat(servlet.requests.get())
                .as("the entry stored before the reloads is still there")
                .isEqualTo(3);
        assertThat(hit.headers().firstValue("Cache-Status"))
                .hasValueSatisfying(v -> assertThat(v).contains("hit"));

        // Switching the whole cache off is a restart-only change: reported, and the cache stays.
        ReloadResult off =
                engine.reload(cached(backend, true).withCache(dev.proxyfilter.config.CacheConfig.disabled()));
        assertThat(off.restartRequired()).containsExactly("cache.*");
        assertThat(off.outcome()).isEqualTo(ReloadResult.Outcome.UNCHANGED);
        get(proxy.uri().resolve("/page"));
        assertThat(servlet.requests.get()).isEqualTo(3);
    }

    @Test
    void aBurstOfWritesMakesOneReloadOfTheLastContent() throws Exception {
        startBackends();
        Path file = temp.resolve("proxy.properties");
        Files.writeString(file, properties("a", "1") + "reload.debounce=500ms\n");
        java.util.function.Supplier<ProxyConfig> loader = () -> ConfigLoader.load(List.of(ConfigSource.ofFile(file)));
        ProxyAdapter.Running proxy = track(ProxyAdapter.FILTER_IN_JETTY.start(loader.get()));
        ProxyEngine engine = proxy.engine();
        engine.configSource(loader);
        engine.watch(file);

        // As an editor or a script saving several times in a row: half-written states never load.
        for (String name : List.of("b", "c", "d", "b", "c")) {
            Files.writeString(file, properties(name, "1") + "reload.debounce=500ms\n");
        }

        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> engine.generation() == 2);
        Awaitility.await()
                .during(Duration.ofMillis(1000))
                .atMost(Duration.ofSeconds(3))
                .until(() -> engine.generation() == 2);
        assertThat(engine.metrics().registry().counter("proxy.reload.success").getCount())
                .isEqualTo(1);
        assertThat(engine.metrics().registry().counter("proxy.reload.failure").getCount())
                .isZero();
        assertThat(get(proxy.uri().resolve("/x")).body()).isEqualTo("c");
    }

    @Test
    void withoutASourceAReloadFromSourceIsRejectedNotThrown() {
        startBackends();
        ProxyAdapter.Running proxy = track(ProxyAdapter.FILTER_IN_JETTY.start(TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "a", backends.get("a").url(), 1)
                .route("main", "/", "web")
                .build()));
        ReloadResult result = proxy.engine().reloadFromSource("admin");
        assertThat(result.outcome()).isEqualTo(ReloadResult.Outcome.REJECTED);
        assertThat(result.message()).startsWith("reload: no configuration source");
    }
}
