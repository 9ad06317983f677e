package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.proxyfilter.config.HealthConfig;
import dev.proxyfilter.config.OutlierConfig;
import dev.proxyfilter.config.RouteConfig;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.testing.Backends;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.RawHttp;
import dev.proxyfilter.testing.SocketBackend;
import dev.proxyfilter.testing.TestBackend;
import dev.proxyfilter.testing.TestConfigs;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The proxy's behaviour, run over every adapter: the filter in Jetty and in Tomcat, the Jetty proxy
 * servlet and the Tomcat valve. Real backends, real sockets.
 */
@Timeout(60)
class ProxyBehaviourIntegrationTest {
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

    private TestBackend backend(String name, HttpServlet servlet) {
        return track(TestBackend.start(name, servlet));
    }

    private ProxyAdapter.Running proxy(ProxyAdapter adapter, TestConfigs config) {
        return track(adapter.start(config.build()));
    }

    private HttpResponse<String> get(URI uri) throws Exception {
        return http.send(
                HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static RouteConfig route(
            String name, String path, String pool, boolean strip, boolean preserveHost, Duration idle) {
        return new RouteConfig(name, null, path, pool, strip, preserveHost, Duration.ofSeconds(2), idle, Duration.ZERO);
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void forwardsRoutedPathsAndPassesOnTheRest(ProxyAdapter adapter) throws Exception {
        TestBackend a = backend("a", new Backends.Echo("a"));
        ProxyAdapter.Running proxy = proxy(
                adapter,
                TestConfigs.builder()
                        .pool("web", StrategyName.ROUND_ROBIN, "a", a.url(), 1)
                        .route("api", "/api", "web"));

        HttpResponse<String> routed = get(proxy.uri().resolve("/api/items/7?x=1&y=%2F"));
        assertThat(routed.statusCode()).isEqualTo(200);
        assertThat(routed.body()).isEqualTo("a");
        assertThat(routed.headers().firstValue("X-Received-Path")).hasValue("/api/items/7");
        assertThat(routed.headers().firstValue("X-Received-Query")).hasValue("x=1&y=%2F");

        HttpResponse<String> segment = get(proxy.uri().resolve("/apix"));
        HttpResponse<String> other = get(proxy.uri().resolve("/static/page"));
        if (adapter.passesOn()) {
            assertThat(other.statusCode()).isEqualTo(200);
            assertThat(other.body()).isEqualTo("local /static/page");
            assertThat(segment.body()).isEqualTo("local /apix");
        } else {
            assertThat(other.statusCode()).isEqualTo(404);
            assertThat(segment.statusCode()).isEqualTo(404);
        }
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void smoothWeightedRoundRobinGivesNginxSequenceAndRatio(ProxyAdapter adapter) throws Exception {
        TestBackend a = backend("a", new Backends.Echo("a"));
        TestBackend b = backend("b", new Backends.Echo("b"));
        TestBackend c = backend("c", new Backends.Echo("c"));
        ProxyAdapter.Running proxy = proxy(
                adapter,
                TestConfigs.builder()
                        .pool(
                                "web",
                                StrategyName.WEIGHTED_ROUND_ROBIN,
                                "a",
                                a.url(),
                                5,
                                "b",
                                b.url(),
                                1,
                                "c",
                                c.url(),
                                1)
                        .pool(
                                "ratio",
                                StrategyName.WEIGHTED_ROUND_ROBIN,
                                "a",
                                a.url(),
                                3,
                                "b",
                                b.url(),
                                1,
                                "c",
                                c.url(),
                                0)
                        .route("seq", "/seq", "web")
                        .route("ratio", "/ratio", "ratio"));

        StringBuilder sequence = new StringBuilder();
        for (int i = 0; i < 14; i++) {
            sequence.append(get(proxy.uri().resolve("/seq")).body());
        }
        assertThat(sequence.toString()).isEqualTo("aabacaa" + "aabacaa");

        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 1000; i++) {
            counts.merge(get(proxy.uri().resolve("/ratio")).body(), 1, Integer::sum);
        }
        assertThat(counts.get("a") / 1000.0).isCloseTo(0.75, org.assertj.core.data.Offset.offset(0.02));
        assertThat(counts.get("b") / 1000.0).isCloseTo(0.25, org.assertj.core.data.Offset.offset(0.02));
        assertThat(counts).doesNotContainKey("c");
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void requestHeaderHygiene(ProxyAdapter adapter) throws Exception {
        TestBackend a = backend("a", new Backends.Echo("a"));
        ProxyAdapter.Running proxy = proxy(
                adapter,
                TestConfigs.builder()
                        .pool("web", StrategyName.ROUND_ROBIN, "a", a.url(), 1)
                        .route("main", "/", "web"));

        RawHttp.Response response = RawHttp.exchange(
                proxy.uri(),
                "GET /h HTTP/1.1\r\n"
                        + "Host: shop.example:8443\r\n"
                        + "Connection: keep-alive, X-Hop-Secret\r\n"
                        + "X-Hop-Secret: do-not-forward\r\n"
                        + "Keep-Alive: timeout=5\r\n"
                        + "Proxy-Authorization: Basic Zm9vOmJhcg==\r\n"
                        + "Proxy-Connection: keep-alive\r\n"
                        + "TE: trailers\r\n"
                        + "X-Forwarded-For: 203.0.113.9\r\n"
                        + "X-Forwarded-Proto: https\r\n"
                        + "Forwarded: for=203.0.113.9\r\n"
                        + "Via: 1.0 upstream-cdn\r\n"
                        + "X-Custom: kept\r\n"
                        + "\r\n");
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.header("X-Echo-X-Hop-Secret")).isNull();
        assertThat(response.header("X-Echo-Keep-Alive")).isNull();
        assertThat(response.header("X-Echo-Proxy-Authorization")).isNull();
        assertThat(response.header("X-Echo-Proxy-Connection")).isNull();
        assertThat(response.header("X-Echo-TE")).isNull();
        assertThat(response.header("X-Echo-Upgrade")).isNull();
        assertThat(response.header("X-Echo-X-Custom")).isEqualTo("kept");
        assertThat(response.header("X-Echo-Host")).isEqualTo("shop.example:8443");
        // The peer is no trusted proxy (security.trusted-proxies is empty): its chain is dropped, not extended.
        assertThat(response.header("X-Echo-X-Forwarded-For")).isEqualTo("127.0.0.1");
        assertThat(response.header("X-Echo-X-Forwarded-Proto")).isEqualTo("http");
        assertThat(response.header("X-Echo-X-Forwarded-Host")).isEqualTo("shop.example:8443");
        assertThat(response.header("X-Echo-X-Forwarded-Port"))
                .isEqualTo(Integer.toString(proxy.uri().getPort()));
        assertThat(response.header("X-Echo-Forwarded"))
                .isEqualTo("for=127.0.0.1;host=\"shop.example:8443\";proto=http");
        assertThat(response.header("X-Echo-Via")).isEqualTo("1.0 upstream-cdn, 1.1 proxy-filter");
    }

    /** Answers with hop-by-hop headers and a Location pointing at itself. */
    static final class HopByHop extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            String self = "http://127.0.0.1:" + req.getLocalPort();
            resp.setStatus(302);
            resp.setHeader("Connection", "X-Backend-Hop");
            resp.setHeader("X-Backend-Hop", "secret");
            resp.setHeader("Keep-Alive", "timeout=5");
            resp.setHeader("Proxy-Authenticate", "Basic");
            resp.setHeader("Upgrade", "h2c");
            resp.setHeader("Location", self + "/login?next=%2Fhome");
            resp.setHeader("Content-Location", self + "/moved");
            resp.setHeader("Via", "1.1 origin-cache");
            resp.setHeader("X-Kept", "yes");
            resp.getWriter().print("moved");
        }
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void responseHeaderHygieneAndLocationRewrite(ProxyAdapter adapter) throws Exception {
        TestBackend a = backend("a", new HopByHop());
        ProxyAdapter.Running proxy = proxy(
                adapter,
                TestConfigs.builder()
                        .pool("web", StrategyName.ROUND_ROBIN, "a", a.url(), 1)
                        .route(route("main", "/", "web", false, false, Duration.ofSeconds(10))));

        RawHttp.Response response =
                RawHttp.exchange(proxy.uri(), "GET /go HTTP/1.1\r\nHost: www.example\r\nConnection: close\r\n\r\n");
        assertThat(response.status()).isEqualTo(302);
        assertThat(response.header("X-Backend-Hop")).isNull();
        assertThat(response.header("Keep-Alive")).isNull();
        assertThat(response.header("Proxy-Authenticate")).isNull();
        assertThat(response.header("Upgrade")).isNull();
        assertThat(response.header("X-Kept")).isEqualTo("yes");
        assertThat(response.header("Location")).isEqualTo("http://www.example/login?next=%2Fhome");
        assertThat(response.header("Content-Location")).isEqualTo("http://www.example/moved");
        assertThat(response.all("Via")).containsExactly("1.1 origin-cache, 1.1 proxy-filter");
        assertThat(response.all("Date")).hasSizeLessThanOrEqualTo(1);
        assertThat(response.all("Content-Length")).containsExactly("5");
        assertThat(response.bodyText()).isEqualTo("moved");
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void sendsTheBackendsHostAndStripsThePrefixWhenConfigured(ProxyAdapter adapter) throws Exception {
        TestBackend a = backend("a", new Backends.Echo("a"));
        ProxyAdapter.Running proxy = proxy(
                adapter,
                TestConfigs.builder()
                        .pool("web", StrategyName.ROUND_ROBIN, "a", a.url(), 1)
                        .route(route("svc", "/svc", "web", true, false, Duration.ofSeconds(10))));

        HttpResponse<String> response = get(proxy.uri().resolve("/svc/orders?id=3"));
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("X-Received-Path")).hasValue("/orders");
        assertThat(response.headers().firstValue("X-Echo-Host")).hasValue("127.0.0.1:" + a.port());
        assertThat(response.headers().firstValue("X-Echo-X-Forwarded-Host"))
                .hasValue("127.0.0.1:" + proxy.uri().getPort());
        assertThat(get(proxy.uri().resolve("/svc")).headers().firstValue("X-Received-Path"))
                .hasValue("/");
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void postBodyAndHeadRoundTrip(ProxyAdapter adapter) throws Exception {
        TestBackend a = backend("a", new Backends.Echo("a"));
        ProxyAdapter.Running proxy = proxy(
                adapter,
                TestConfigs.builder()
                        .pool("web", StrategyName.ROUND_ROBIN, "a", a.url(), 1)
                        .route("main", "/", "web"));

        HttpResponse<String> post = http.send(
                HttpRequest.newBuilder(proxy.uri().resolve("/echo"))
                        .POST(HttpRequest.BodyPublishers.ofString("hello=world"))
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(200);
        assertThat(post.body()).isEqualTo("hello=world");
        assertThat(post.headers().firstValue("X-Echo-Content-Type")).hasValue("application/x-www-form-urlencoded");

        RawHttp.Response head =
                RawHttp.exchange(proxy.uri(), "HEAD /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.header("X-Received-Method")).isEqualTo("HEAD");
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void backendDownGives502AndGetsFailOverToAnotherBackend(ProxyAdapter adapter) throws Exception {
        TestBackend down = backend("down", new Backends.Echo("down"));
        URI downUrl = down.url();
        down.close();
        TestBackend up = backend("up", new Backends.Echo("up"));
        ProxyAdapter.Running proxy = proxy(
                adapter,
                TestConfigs.builder()
                        .pool("solo", StrategyName.ROUND_ROBIN, "down", downUrl, 1)
                        .pool("pair", StrategyName.ROUND_ROBIN, "down", downUrl, 1, "up", up.url(), 1)
                        .route("solo", "/solo", "solo")
                        .route("pair", "/pair", "pair"));

        HttpResponse<String> solo = get(proxy.uri().resolve("/solo"));
        assertThat(solo.statusCode()).isEqualTo(502);
        assertThat(solo.body()).contains("backend 'down' of pool 'solo'").doesNotContain("127.0.0.1");

        for (int i = 0; i < 10; i++) {
            HttpResponse<String> pair = get(proxy.uri().resolve("/pair"));
            assertThat(pair.statusCode()).isEqualTo(200);
            assertThat(pair.body()).isEqualTo("up");
        }
        // A POST that never reached the dead backend is retried too.
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> post = http.send(
                    HttpRequest.newBuilder(proxy.uri().resolve("/pair"))
                            .POST(HttpRequest.BodyPublishers.ofString("p" + i))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(post.statusCode()).isEqualTo(200);
            assertThat(post.body()).isEqualTo("p" + i);
        }
    }

    /**
     * A reset before any response byte: a GET is retried on the other backend, a POST is not (the backend
     * may have acted on it). Each request has its own path and both backends note what reached them, so the
     * verdict is per request: it does not count on which backend the round robin starts the POSTs with.
     */
    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void resetBeforeResponseRetriesGetButNotPost(ProxyAdapter adapter) throws Exception {
        Queue<String> reachedReset = new ConcurrentLinkedQueue<>();
        SocketBackend resetting = track(SocketBackend.start(socket -> {
            InputStream in = socket.getInputStream();
            String head = SocketBackend.readHead(in);
            int length = head.toLowerCase().contains("content-length: 4") ? 4 : 0;
            in.readNBytes(length);
            reachedReset.add(head.substring(0, Math.max(0, head.indexOf(" HTTP/")))); // before the reset is seen
            SocketBackend.reset(socket);
        }));
        Recording recording = new Recording("good");
        TestBackend good = backend("good", recording);
        // The resetting backend comes first in round-robin order: sorted by name "a-reset" < "b-good".
        ProxyAdapter.Running proxy = proxy(
                adapter,
                TestConfigs.builder()
                        .pool("web", StrategyName.ROUND_ROBIN, "a-reset", resetting.url(), 1, "b-good", good.url(), 1)
                        // Retries only: outlier ejection would take the resetting backend out half-way.
                        .health("web", HealthConfig.DEFAULT.withOutlier(OutlierConfig.OFF))
                        .route("main", "/", "web"));

        for (int i = 0; i < 6; i++) {
            HttpResponse<String> response = get(proxy.uri().resolve("/r" + i));
            assertThat(response.statusCode()).as("GET /r%d", i).isEqualTo(200);
            assertThat(response.body()).isEqualTo("good");
            assertThat(recording.requests).containsOnlyOnce("GET /r" + i);
        }
        // The GETs the resetting backend got first were retried on the good one, above.
        assertThat(reachedReset).anyMatch(request -> request.startsWith("GET "));

        Map<String, Integer> statuses = new LinkedHashMap<>();
        for (int i = 0; i < 6; i++) {
            HttpResponse<String> post = http.send(
                    HttpRequest.newBuilder(proxy.uri().resolve("/p" + i))
                            .timeout(Duration.ofSeconds(20))
                            .POST(HttpRequest.BodyPublishers.ofString("data"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            statuses.put("POST /p" + i, post.statusCode());
        }
        String seen = "statuses " + statuses + "; the resetting backend got " + reachedReset + "; the good backend got "
                + recording.requests;
        for (Map.Entry<String, Integer> answered : statuses.entrySet()) {
            String request = answered.getKey();
            if (reachedReset.contains(request)) {
                // Reset once the backend had it all: 502, and not replayed on the good backend.
                assertThat(answered.getValue()).as(seen).isEqualTo(502);
                assertThat(reachedReset).as(seen).containsOnlyOnce(request);
                assertThat(recording.requests).as(seen).doesNotContain(request);
            } else {
                assertThat(answered.getValue()).as(seen).isEqualTo(200);
                assertThat(recording.requests).as(seen).containsOnlyOnce(request);
            }
        }
        // Round robin over two backends: the POSTs went to both.
        assertThat(statuses.values()).as(seen).contains(502, 200);
    }

    /** Notes the method and path of every request it gets and answers its name. */
    static final class Recording extends HttpServlet {
        private static final long serialVersionUID = 1L;
        private final String name;
        final Queue<String> requests = new ConcurrentLinkedQueue<>();

        Recording(String name) {
            this.name = name;
        }

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            requests.add(req.getMethod() + " " + req.getRequestURI());
            req.getInputStream().readAllBytes();
            resp.setContentType("text/plain");
            resp.getWriter().print(name);
        }
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void resetInTheMiddleOfTheBodyNeverLooksComplete(ProxyAdapter adapter) throws Exception {
        SocketBackend midBody = track(SocketBackend.start(socket -> {
            SocketBackend.readHead(socket.getInputStream());
            boolean chunked = true;
            socket.getOutputStream()
                    .write(SocketBackend.ascii("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                            + "Content-Type: text/plain\r\n\r\n" + "a\r\n0123456789\r\n"));
            socket.getOutputStream().flush();
            sleep(200);
            if (chunked) {
                SocketBackend.reset(socket);
            }
        }));
        SocketBackend shortLength = track(SocketBackend.start(socket -> {
            SocketBackend.readHead(socket.getInputStream());
            socket.getOutputStream()
                    .write(SocketBackend.ascii("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n"
                            + "Content-Type: text/plain\r\n\r\n" + "0123456789"));
            socket.getOutputStream().flush();
            sleep(200);
            SocketBackend.reset(socket);
        }));
        ProxyAdapter.Running proxy = proxy(
                adapter,
                TestConfigs.builder()
                        .pool("chunked", StrategyName.ROUND_ROBIN, "c", midBody.url(), 1)
                        .pool("length", StrategyName.ROUND_ROBIN, "l", shortLength.url(), 1)
                        .route("chunked", "/chunked", "chunked")
                        .route("length", "/length", "length"));

        assertThatThrownBy(() -> get(proxy.uri().resolve("/chunked"))).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> get(proxy.uri().resolve("/length"))).isInstanceOf(IOException.class);
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void stalledBackendGives504WithinTheIdleTimeout(ProxyAdapter adapter) throws Exception {
        Backends.Stall stall = new Backends.Stall();
        TestBackend a = backend("a", stall);
        ProxyAdapter.Running proxy = proxy(
                adapter,
                TestConfigs.builder()
                        .pool("web", StrategyName.ROUND_ROBIN, "a", a.url(), 1)
                        .route(route("main", "/", "web", false, true, Duration.ofMillis(500))));

        long start = System.nanoTime();
        HttpResponse<String> response = get(proxy.uri().resolve("/slow"));
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(response.statusCode()).isEqualTo(504);
        assertThat(response.body()).contains("pool 'web'");
        assertThat(millis).isBetween(400L, 5_000L);
        assertThat(stall.requests.get()).isEqualTo(1); // a timeout is not retried
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void totalTimeoutGives504EvenWhenTheIdleTimeoutIsLonger(ProxyAdapter adapter) throws Exception {
        Backends.Stall stall = new Backends.Stall();
        TestBackend a = backend("a", stall);
        ProxyAdapter.Running proxy = proxy(
                adapter,
                TestConfigs.builder()
                        .pool("web", StrategyName.ROUND_ROBIN, "a", a.url(), 1)
                        .route(new RouteConfig(
                                "main",
                                null,
                                "/",
                                "web",
                                false,
                                true,
                                Duration.ofSeconds(2),
                                Duration.ofSeconds(30),
                                Duration.ofMillis(700))));

        long start = System.nanoTime();
        HttpResponse<String> response = get(proxy.uri().resolve("/slow"));
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(response.statusCode()).isEqualTo(504);
        assertThat(millis).isBetween(600L, 10_000L);
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void noBackendThatCanTakeTheRequestGives503NamingThePool(ProxyAdapter adapter) throws Exception {
        TestBackend a = backend("a", new Backends.Echo("a"));
        ProxyAdapter.Running proxy = proxy(
                adapter,
                TestConfigs.builder()
                        .pool("empty", StrategyName.WEIGHTED_ROUND_ROBIN, "a", a.url(), 0)
                        .route("main", "/", "empty"));

        HttpResponse<String> response = get(proxy.uri().resolve("/x"));
        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(response.body()).contains("no backend available in pool 'empty'");
    }

    /** Sends three events, each only after the test says it saw the one before. */
    static final class EventSource extends HttpServlet {
        private static final long serialVersionUID = 1L;
        final List<CountDownLatch> seen = List.of(new CountDownLatch(1), new CountDownLatch(1), new CountDownLatch(1));

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            resp.setContentType("text/event-stream");
            var out = resp.getOutputStream();
            for (int i = 0; i < 3; i++) {
                out.write(("data: event " + i + "\n\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
                try {
                    if (!seen.get(i).await(10, TimeUnit.SECONDS)) {
                        return; // the proxy held the event back
                    }
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void serverSentEventsArriveOneAtATime(ProxyAdapter adapter) throws Exception {
        EventSource events = new EventSource();
        TestBackend a = backend("a", events);
        ProxyAdapter.Running proxy = proxy(
                adapter,
                TestConfigs.builder()
                        .pool("web", StrategyName.ROUND_ROBIN, "a", a.url(), 1)
                        .route("main", "/", "web"));

        HttpResponse<InputStream> response = http.send(
                HttpRequest.newBuilder(proxy.uri().resolve("/events")).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(response.headers().firstValue("Content-Type"))
                .hasValueSatisfying(v -> assertThat(v).startsWith("text/event-stream"));
        List<String> received = new ArrayList<>();
        try (BufferedReader reader =
                new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            for (int i = 0; i < 3; i++) {
                String line = reader.readLine();
                assertThat(line).isEqualTo("data: event " + i);
                assertThat(reader.readLine()).isEmpty();
                received.add(line);
                events.seen.get(i).countDown();
            }
            assertThat(reader.readLine()).isNull();
        }
        assertThat(received).hasSize(3);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
