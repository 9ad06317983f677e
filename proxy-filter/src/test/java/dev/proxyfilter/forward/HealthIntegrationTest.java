package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.balance.Backend;
import dev.proxyfilter.balance.BackendPool;
import dev.proxyfilter.balance.BackendState;
import dev.proxyfilter.config.ActiveCheckConfig;
import dev.proxyfilter.config.HealthConfig;
import dev.proxyfilter.config.OutlierConfig;
import dev.proxyfilter.config.StickyConfig;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.health.HealthChecker;
import dev.proxyfilter.testing.Backends;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.TestBackend;
import dev.proxyfilter.testing.TestConfigs;
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
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.eclipse.jetty.util.component.LifeCycle;
import org.eclipse.jetty.util.thread.Scheduler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Health through the whole proxy, with real backends on port 0: a backend killed in mid-stream costs no
 * request and comes back on its port, a backend answering 503 is ejected and readmitted, a drained backend
 * finishes its request and takes no other, and the checks ask what they are configured to ask. Time is
 * real here, in short durations; the exact timing is for the unit tests with a fake clock.
 */
@Timeout(60)
class HealthIntegrationTest {
    private static final Duration INTERVAL = Duration.ofMillis(200);
    private static final Duration CHECK_TIMEOUT = Duration.ofMillis(500);
    private static final int RISE = 2;
    private static final int FALL = 2;
    /** Scheduling on two shared cores is late at times: room on top of what the configuration promises. */
    private static final Duration SLACK = Duration.ofSeconds(3);

    private final List<AutoCloseable> resources = new ArrayList<>();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ExecutorService clients = Executors.newFixedThreadPool(2, r -> new Thread(r, "health-client"));

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

    private HttpResponse<String> get(URI uri, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HealthConfig checks(String path) {
        return HealthConfig.DEFAULT.withCheck(new ActiveCheckConfig(
                path, INTERVAL, CHECK_TIMEOUT, ActiveCheckConfig.DEFAULT_EXPECTED_STATUS, RISE, FALL));
    }

    private static Backend backendNamed(ProxyAdapter.Running proxy, String pool, String name) {
        return proxy.engine().pools().get(pool).backend(name).orElseThrow();
    }

    /**
     * (a) Three backends under a steady stream of GETs from two clients; one is stopped mid-stream. The
     * requests it had are retried on another backend and the checks take it out within interval x fall, so
     * no client sees a failure. Restarted on the same port, it is UP again after rise passed checks and
     * takes traffic again.
     */
    @Test
    void aBackendKilledMidStreamCostsNoRequestAndComesBackOnItsPort() throws Exception {
        TestBackend a = backend("a", new Backends.Echo("a"));
        TestBackend b = backend("b", new Backends.Echo("b"));
        TestBackend c = backend("c", new Backends.Echo("c"));
        ProxyAdapter.Running proxy = track(ProxyAdapter.FILTER_IN_JETTY.start(TestConfigs.builder()
                .pool("web", StrategyName.WEIGHTED_ROUND_ROBIN, "a", a.url(), 1, "b", b.url(), 1, "c", c.url(), 1)
                .health("web", checks("/health"))
                .route("main", "/", "web")
                .build()));
        Backend killed = backendNamed(proxy, "web", "b");
        URI uri = proxy.uri().resolve("/stream");

        AtomicBoolean streaming = new AtomicBoolean(true);
        AtomicInteger sent = new AtomicInteger();
        Queue<String> failures = new ConcurrentLinkedQueue<>();
        List<Future<?>> streams = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            streams.add(clients.submit(() -> {
                // Bounded: stops when told, or after 3000 requests, whichever comes first.
                for (int i = 0; i < 1500 && streaming.get(); i++) {
                    try {
                        HttpResponse<String> response = get(uri);
                        if (response.statusCode() != 200) {
                            failures.add(response.statusCode() + " " + response.body());
                        }
                    } catch (Exception e) {
                        failures.add(e.toString());
                    }
                    sent.incrementAndGet();
                }
                return null;
            }));
        }
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> sent.get() >= 100);

        int port = b.port();
        long killedAt = System.nanoTime();
        b.close();
        Awaitility.await()
                .atMost(INTERVAL.multipliedBy(FALL + 1).plus(CHECK_TIMEOUT).plus(SLACK))
                .until(() -> killed.state() == BackendState.DOWN);
        Duration detection = Duration.ofNanos(System.nanoTime() - killedAt);
        int atDetection = sent.get();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> sent.get() >= atDetection + 100);
        streaming.set(false);
        for (Future<?> stream : streams) {
            stream.get(20, TimeUnit.SECONDS);
        }

        assertThat(failures).as("failed client requests of %d", sent.get()).isEmpty();
        assertThat(killed.health().reason()).startsWith("after 2 failed checks (last: ");
        assertThat(detection)
                .isLessThan(INTERVAL.multipliedBy(FALL + 1).plus(CHECK_TIMEOUT).plus(SLACK));

        Backends.Echo revived = new Backends.Echo("b");
        track(TestBackend.startOn(port, "b", revived));
        Awaitility.await()
                .atMost(INTERVAL.multipliedBy(RISE + 1).plus(SLACK))
                .until(() -> killed.state() == BackendState.UP);
        assertThat(killed.health().reason()).isEqualTo("after 2 passed checks (last: status 200)");

        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            HttpResponse<String> response = get(uri);
            assertThat(response.statusCode()).isEqualTo(200);
            bodies.add(response.body());
        }
        assertThat(bodies).contains("a", "b", "c");
        assertThat(revived.requests.get()).isPositive();
    }

    /**
     * (b) A backend answering 503: after three in a row it is ejected and gets nothing, then readmitted
     * when the ejection time is over; failing again, it is ejected for twice as long.
     */
    @Test
    void aBackendAnswering503IsEjectedAndReadmittedAfterTheEjectionTime() throws Exception {
        Duration ejection = Duration.ofSeconds(1);
        Backends.Status failing = new Backends.Status(503);
        TestBackend bad = backend("bad", failing);
        TestBackend good = backend("good", new Backends.Echo("good"));
        ProxyAdapter.Running proxy = track(ProxyAdapter.FILTER_IN_JETTY.start(TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "bad", bad.url(), 1, "good", good.url(), 1)
                .health("web", HealthConfig.DEFAULT.withOutlier(new OutlierConfig(3, ejection, 50)))
                .route("main", "/", "web")
                .build()));
        Backend ejected = backendNamed(proxy, "web", "bad");
        URI uri = proxy.uri().resolve("/work");

        for (int i = 0; i < 20 && failing.requests.get() < 3; i++) {
            get(uri);
        }
        long ejectedAt = System.nanoTime();
        assertThat(failing.requests.get()).isEqualTo(3);
        assertThat(ejected.state()).isEqualTo(BackendState.EJECTED);
        assertThat(ejected.health().reason())
                .isEqualTo("after 3 consecutive failures (last: gateway error: status 503); ejected for 1s");

        for (int i = 0; i < 10; i++) {
            HttpResponse<String> response = get(uri);
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("good");
        }
        assertThat(failing.requests.get()).as("no request while ejected").isEqualTo(3);

        Awaitility.await()
                .atMost(ejection.plus(SLACK))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> {
                    get(uri);
                    return failing.requests.get() > 3;
                });
        assertThat(Duration.ofNanos(System.nanoTime() - ejectedAt)).isGreaterThanOrEqualTo(ejection.minusMillis(100));

        for (int i = 0; i < 20 && ejected.state() == BackendState.UP; i++) {
            get(uri);
        }
        assertThat(ejected.state()).isEqualTo(BackendState.EJECTED);
        assertThat(ejected.health().reason()).endsWith("ejected for 2s");
        assertThat(proxy.engine().metrics().backend("web", "bad").ejections()).isEqualTo(2);
    }

    /** Answers after the test releases it, counting the requests it took. */
    static final class Held extends HttpServlet {
        private static final long serialVersionUID = 1L;
        final AtomicInteger requests = new AtomicInteger();
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            requests.incrementAndGet();
            try {
                release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            resp.setContentType("text/plain");
            resp.getWriter().print("a");
        }
    }

    /**
     * (c) A request held by backend a; a is drained: no new request reaches it, sticky ones included, and
     * the held one completes with 200 and without a cookie that would pin its client to a.
     */
    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void aDrainedBackendFinishesItsRequestAndTakesNoOther(ProxyAdapter adapter) throws Exception {
        Held held = new Held();
        TestBackend a = backend("a", held);
        // Let a go before it is stopped, whatever happens.
        AutoCloseable release = held.release::countDown;
        track(release);
        TestBackend b = backend("b", new Backends.Echo("b"));
        ProxyAdapter.Running proxy = track(adapter.start(TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, null, new StickyConfig("SRV"), "a", a.url(), 1, "b", b.url(), 1)
                .route("main", "/", "web")
                .build()));
        BackendPool pool = proxy.engine().pools().get("web");
        Backend drained = pool.backend("a").orElseThrow();
        URI uri = proxy.uri().resolve("/slow");
        String pinnedToA = "SRV=" + stickyId(pool, "a");
        String pinnedToB = "SRV=" + stickyId(pool, "b");

        // Round-robin's first pick is a.
        CompletableFuture<HttpResponse<String>> inFlight = http.sendAsync(
                HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> held.requests.get() == 1);

        drained.drain();
        assertThat(drained.state()).isEqualTo(BackendState.DRAINING);
        assertThat(drained.inFlight()).isEqualTo(1);

        for (int i = 0; i < 10; i++) {
            HttpResponse<String> response = i % 2 == 0 ? get(uri) : get(uri, "Cookie", pinnedToA);
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("b");
            if (i % 2 == 1) {
                assertThat(response.headers().firstValue("Set-Cookie"))
                        .as("the session moves to b")
                        .hasValueSatisfying(cookie -> assertThat(cookie).startsWith(pinnedToB + ";"));
            }
        }
        assertThat(held.requests.get()).as("no new request reached a").isEqualTo(1);
        assertThat(drained.inFlight()).isEqualTo(1);

        held.release.countDown();
        HttpResponse<String> finished = inFlight.get(20, TimeUnit.SECONDS);
        assertThat(finished.statusCode()).isEqualTo(200);
        assertThat(finished.body()).isEqualTo("a");
        assertThat(finished.headers().allValues("Set-Cookie"))
                .as("no new session on a draining backend")
                .isEmpty();
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> drained.inFlight() == 0);
        assertThat(drained.state()).isEqualTo(BackendState.DRAINING);

        drained.enable();
        HttpResponse<String> again = get(uri, "Cookie", pinnedToA);
        assertThat(again.body()).as("enabled again, a takes its sessions").isEqualTo("a");
    }

    /** The id the sticky cookie of {@code pool} carries for {@code backend} in service, as its Set-Cookie shows it. */
    private static String stickyId(BackendPool pool, String backend) {
        String setCookie = pool.stickyCookie(
                dev.proxyfilter.balance.RequestView.NONE, pool.backend(backend).orElseThrow());
        return setCookie.substring(setCookie.indexOf('=') + 1, setCookie.indexOf(';'));
    }

    /** Records the checks it gets and answers them with a status the test sets. */
    static final class CheckTarget extends HttpServlet {
        private static final long serialVersionUID = 1L;
        final Queue<String> checks = new ConcurrentLinkedQueue<>();
        final AtomicInteger status = new AtomicInteger(200);

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) {
            String query = req.getQueryString();
            checks.add(req.getMethod() + " " + req.getRequestURI() + (query == null ? "" : "?" + query) + " Host="
                    + req.getHeader("Host") + " User-Agent=" + req.getHeader("User-Agent"));
            resp.setStatus(status.get());
        }
    }

    /**
     * Checks are GETs of the configured path with the backend's own Host, also for a pool no route uses;
     * a status outside the expected range fails them, and a backend that answers as expected again comes
     * back.
     */
    @Test
    void checksGetThePathWithTheBackendsHostAndJudgeTheStatus() throws Exception {
        CheckTarget routed = new CheckTarget();
        CheckTarget spare = new CheckTarget();
        TestBackend x = backend("x", routed);
        TestBackend y = backend("y", spare);
        ProxyAdapter.Running proxy = track(ProxyAdapter.FILTER_IN_JETTY.start(TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "x", x.url(), 1)
                .health("web", checks("/health"))
                .pool("spare", StrategyName.ROUND_ROBIN, "y", y.url(), 1)
                .health(
                        "spare",
                        HealthConfig.DEFAULT.withCheck(new ActiveCheckConfig(
                                "/ready?deep=1",
                                INTERVAL,
                                CHECK_TIMEOUT,
                                new ActiveCheckConfig.StatusRange(204, 204),
                                RISE,
                                FALL)))
                .route("main", "/", "web")
                .build()));
        Backend checkedX = backendNamed(proxy, "web", "x");
        Backend checkedY = backendNamed(proxy, "spare", "y");

        Awaitility.await()
                .atMost(INTERVAL.multipliedBy(FALL + 1).plus(SLACK))
                .until(() -> checkedY.state() == BackendState.DOWN);
        assertThat(checkedY.health().reason()).isEqualTo("after 2 failed checks (last: status 200 (expected 204))");
        assertThat(routed.checks)
                .isNotEmpty()
                .allSatisfy(check -> assertThat(check)
                        .isEqualTo(
                                "GET /health Host=127.0.0.1:" + x.port() + " User-Agent=" + HealthChecker.USER_AGENT));
        assertThat(spare.checks)
                .isNotEmpty()
                .allSatisfy(check -> assertThat(check)
                        .isEqualTo("GET /ready?deep=1 Host=127.0.0.1:" + y.port() + " User-Agent="
                                + HealthChecker.USER_AGENT));
        assertThat(checkedX.state()).isEqualTo(BackendState.UP);
        assertThat(checkedX.health().lastCheck()).hasValue("passed: status 200");
        assertThat(checkedX.health().sinceLastCheck())
                .hasValueSatisfying(since -> assertThat(since).isLessThan(INTERVAL.plus(SLACK)));

        spare.status.set(204);
        Awaitility.await()
                .atMost(INTERVAL.multipliedBy(RISE + 1).plus(SLACK))
                .until(() -> checkedY.state() == BackendState.UP);
        assertThat(get(proxy.uri().resolve("/")).statusCode()).isEqualTo(200);
    }

    /** Closing the engine stops the checks: a backend gets none afterwards. */
    @Test
    void closingTheEngineStopsTheChecks() throws Exception {
        CheckTarget target = new CheckTarget();
        TestBackend x = backend("x", target);
        ProxyAdapter.Running proxy = track(ProxyAdapter.FILTER_IN_JETTY.start(TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "x", x.url(), 1)
                .health("web", checks("/health"))
                .route("main", "/", "web")
                .build()));
        Awaitility.await().atMost(INTERVAL.plus(SLACK)).until(() -> !target.checks.isEmpty());
        Backend checked = backendNamed(proxy, "web", "x");

        Scheduler scheduler = proxy.engine().scheduler();
        proxy.close();

        // The checks are timer tasks on the engine's scheduler, and close() returns once it stopped: no check
        // can start any more, with no need to wait and see.
        assertThat(((LifeCycle) scheduler).isStopped()).isTrue();
        assertThat(checked.state()).as("the aborted checks were not counted").isEqualTo(BackendState.UP);
    }
}
