package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.config.RouteConfig;
import dev.proxyfilter.config.ServerConfig;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.config.WebSocketConfig;
import dev.proxyfilter.metrics.TunnelMetrics;
import dev.proxyfilter.testing.Backends;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.RawHttp;
import dev.proxyfilter.testing.TestBackend;
import dev.proxyfilter.testing.TestConfigs;
import dev.proxyfilter.testing.WebSocketBackend;
import dev.proxyfilter.testing.WebSocketClients;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.exceptions.UpgradeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * WebSocket through the proxy (step 9, {@link Tunnel}), with a real WebSocket backend (Jetty's server) and a
 * real client (Jetty's {@code WebSocketClient}), in the adapters that switch protocols: the core handler, the
 * filter in Jetty and in Tomcat, and, for the basics, the valve and the proxy servlet.
 */
@Timeout(120)
class WebSocketTunnelIntegrationTest {
    private final List<AutoCloseable> resources = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private <T extends AutoCloseable> T track(T resource) {
        resources.add(resource);
        return resource;
    }

    private WebSocketBackend backend(String name) throws Exception {
        return track(new WebSocketBackend(name));
    }

    private ProxyAdapter.Running proxy(ProxyAdapter adapter, ProxyConfig config) {
        return track(adapter.start(config));
    }

    private WebSocketClients clients() throws Exception {
        return track(new WebSocketClients());
    }

    private static TestConfigs pool(WebSocketBackend... backends) {
        Object[] triples = new Object[backends.length * 3];
        for (int i = 0; i < backends.length; i++) {
            triples[i * 3] = backends[i].name;
            triples[i * 3 + 1] = backends[i].http();
            triples[i * 3 + 2] = 1;
        }
        return TestConfigs.builder().pool("ws", StrategyName.ROUND_ROBIN, triples);
    }

    private static ProxyConfig config(WebSocketBackend... backends) {
        return pool(backends).route("ws", "/", "ws").build();
    }

    private static RouteConfig route(String name, String path) {
        return new RouteConfig(
                name, null, path, "ws", false, true, Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ZERO);
    }

    private static void awaitNoTunnel(ProxyAdapter.Running proxy) {
        await().atMost(Duration.ofSeconds(10)).until(() -> proxy.engine().openTunnels() == 0);
    }

    @ParameterizedTest
    @EnumSource
    void echoesThroughTheTunnelAndPassesCloseCodesBothWays(ProxyAdapter adapter) throws Exception {
        WebSocketBackend backend = backend("a");
        ProxyAdapter.Running proxy = proxy(adapter, config(backend));
        WebSocketClients clients = clients();

        WebSocketClients.Socket socket = clients.connect(proxy.uri().resolve("/echo"));
        assertThat(socket.roundTrip("hello")).isEqualTo("hello");
        assertThat(socket.roundTrip("who")).isEqualTo("a");
        assertThat(proxy.engine().openTunnels()).isEqualTo(1);
        assertThat(proxy.engine().inUse().tunnels()).isEqualTo(1);
        // The backend saw the handshake as the client sent it, plus the forwarding headers.
        assertThat(backend.requests.get(0).get("Sec-WebSocket-Key")).isNotBlank();
        assertThat(backend.requests.get(0).get("X-Forwarded-For")).isEqualTo("127.0.0.1");

        assertThat(socket.close(4002, "client-bye")).isEqualTo("4002 client-bye");
        assertThat(backend.closes.poll(10, TimeUnit.SECONDS)).isEqualTo("4002 client-bye");

        WebSocketClients.Socket closing = clients.connect(proxy.uri().resolve("/close"));
        assertThat(closing.closed.get(10, TimeUnit.SECONDS)).isEqualTo("4001 bye");
        awaitNoTunnel(proxy);

        TunnelMetrics.Series series = proxy.engine().metrics().tunnels().series("ws", "ws", "a");
        assertThat(series.opened()).isEqualTo(2);
        assertThat(series.closed()).isEqualTo(2);
        assertThat(series.open()).isZero();
        assertThat(series.bytesToBackend()).isGreaterThan("hellowho".length());
        assertThat(series.bytesToClient()).isGreaterThan("helloa".length());
        ByteArrayOutputStream scrape = new ByteArrayOutputStream();
        proxy.engine().metrics().writePrometheus(scrape);
        assertThat(scrape.toString(StandardCharsets.UTF_8))
                .contains("proxyfilter_tunnels_opened_total{backend=\"a\",pool=\"ws\",route=\"ws\"} 2.0")
                .contains("proxyfilter_tunnels_open{backend=\"a\",pool=\"ws\",route=\"ws\"} 0.0")
                .contains("proxyfilter_tunnel_bytes_total{backend=\"a\",direction=\"to_client\"");
    }

    /**
     * 10,000 messages, text and binary alternately, most small, one in 500 between 64 KiB and 1 MiB, the last 1 MiB,
     * with up to 32 in flight, each echo checked byte for byte against what was sent.
     */
    @ParameterizedTest
    @EnumSource(names = {"HANDLER_IN_JETTY", "FAST_PATH", "FILTER_IN_JETTY", "FILTER_IN_TOMCAT"})
    void echoesTenThousandMessagesByteForByte(ProxyAdapter adapter) throws Exception {
        WebSocketBackend backend = backend("a");
        ProxyAdapter.Running proxy = proxy(adapter, config(backend));
        WebSocketClients.Socket socket = clients().connect(proxy.uri().resolve("/echo"));

        Random random = new Random(16);
        int messages = 10_000;
        int window = 32;
        List<Object> inFlight = new ArrayList<>();
        long bytes = 0;
        for (int i = 0; i < messages; i++) {
            int size = i % 500 == 499
                    ? i == messages - 1 ? 1024 * 1024 : 64 * 1024 + random.nextInt(1024 * 1024 - 64 * 1024)
                    : random.nextInt(2049);
            Object message = i % 2 == 0 ? binary(random, size) : text(random, size);
            bytes += size;
            send(socket, message);
            inFlight.add(message);
            if (inFlight.size() == window || i == messages - 1) {
                for (Object expected : inFlight) {
                    Object echo = socket.next();
                    if (expected instanceof byte[] sent) {
                        assertThat(echo).isInstanceOf(byte[].class);
                        if (!Arrays.equals(sent, (byte[]) echo)) {
                            throw new AssertionError("binary echo differs (" + sent.length + " bytes sent, "
                                    + ((byte[]) echo).length + " received)");
                        }
                    } else if (!expected.equals(echo)) {
                        throw new AssertionError("text echo differs (" + ((String) expected).length() + " chars)");
                    }
                }
                inFlight.clear();
            }
        }
        assertThat(socket.received).isEmpty();
        TunnelMetrics.Series series = proxy.engine().metrics().tunnels().series("ws", "ws", "a");
        assertThat(series.bytesToBackend()).isGreaterThan(bytes);
        assertThat(series.bytesToClient()).isGreaterThan(bytes);
        socket.close(1000, "done");
        awaitNoTunnel(proxy);
    }

    private static byte[] binary(Random random, int size) {
        byte[] bytes = new byte[size];
        random.nextBytes(bytes);
        return bytes;
    }

    /** About {@code size} bytes of UTF-8, with two-, three- and four-byte characters among ASCII. */
    private static String text(Random random, int size) {
        String[] pieces = {"a", "Z", "0", " ", "é", "€", "\uD83D\uDE00", "ß", "\n"};
        StringBuilder text = new StringBuilder(size);
        int length = 0;
        while (length < size) {
            String piece = pieces[random.nextInt(pieces.length)];
            int pieceBytes = piece.getBytes(StandardCharsets.UTF_8).length;
            if (length + pieceBytes > size) {
                piece = "a";
                pieceBytes = 1;
            }
            text.append(piece);
            length += pieceBytes;
        }
        return text.toString();
    }

    private static void send(WebSocketClients.Socket socket, Object message) throws Exception {
        CompletableFuture<Void> sent = new CompletableFuture<>();
        Callback callback = Callback.from(() -> sent.complete(null), sent::completeExceptionally);
        if (message instanceof byte[] bytes) {
            socket.session.sendBinary(ByteBuffer.wrap(bytes), callback);
        } else {
            socket.session.sendText((String) message, callback);
        }
        sent.get(10, TimeUnit.SECONDS);
    }

    /**
     * A client that reads nothing: the backend's sends stop once the sockets on the way are full, because the
     * proxy reads from the backend only as fast as the client takes; when the client reads, the backend goes on.
     */
    @ParameterizedTest
    @EnumSource(names = {"HANDLER_IN_JETTY", "FAST_PATH", "FILTER_IN_JETTY", "FILTER_IN_TOMCAT"})
    void aSlowClientThrottlesTheBackend(ProxyAdapter adapter) throws Exception {
        WebSocketBackend backend = backend("a");
        ProxyAdapter.Running proxy = proxy(adapter, config(backend));
        WebSocketClients.Socket socket = clients().connect(proxy.uri().resolve("/flood"), false);

        long stalled = awaitStalled(() -> backend.floodSent.get());
        TunnelMetrics.Series series = proxy.engine().metrics().tunnels().series("ws", "ws", "a");
        // What the backend got out sits in four socket buffers and at most one chunk in the proxy: bounded.
        assertThat(stalled).isPositive().isLessThan(128L * 1024 * 1024);
        assertThat(series.bytesToClient()).isLessThanOrEqualTo(stalled);

        for (int i = 0; i < 200; i++) { // the client reads: 200 messages of 64 KiB, 12.5 MiB
            socket.read();
            assertThat(socket.next()).isInstanceOf(byte[].class);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> backend.floodSent.get() > stalled);

        socket.session.disconnect();
        awaitNoTunnel(proxy);
    }

    /** Waits until {@code value} stops growing for a second, and returns where it stopped. */
    private static long awaitStalled(java.util.function.LongSupplier value) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        long last = -1;
        while (System.nanoTime() < deadline) {
            long now = value.getAsLong();
            if (now > 0 && now == last) {
                return now;
            }
            last = now;
            Thread.sleep(1000);
        }
        throw new AssertionError("still growing after 60 s: " + value.getAsLong());
    }

    /** 500 tunnels open at once, each echoing, each counted, all released. */
    @ParameterizedTest
    @EnumSource(names = {"HANDLER_IN_JETTY", "FAST_PATH", "FILTER_IN_JETTY", "FILTER_IN_TOMCAT"})
    void fiveHundredConcurrentTunnels(ProxyAdapter adapter) throws Exception {
        WebSocketBackend backend = backend("a");
        ProxyConfig config = pool(backend)
                .route(new RouteConfig(
                        "ws",
                        null,
                        "/",
                        "ws",
                        false,
                        true,
                        Duration.ofSeconds(10),
                        Duration.ofSeconds(10),
                        Duration.ZERO))
                .build();
        ProxyAdapter.Running proxy = proxy(adapter, config);
        WebSocketClients clients = clients();
        int count = 500;
        List<WebSocketClients.Socket> sockets = new ArrayList<>();
        for (int batch = 0; batch < count; batch += 50) { // handshakes 50 at a time; the tunnels all stay open
            List<CompletableFuture<WebSocketClients.Socket>> connecting = new ArrayList<>();
            for (int i = batch; i < batch + 50; i++) {
                connecting.add(clients.connectAsync(proxy.uri().resolve("/echo/" + i)));
            }
            for (CompletableFuture<WebSocketClients.Socket> future : connecting) {
                sockets.add(future.get(60, TimeUnit.SECONDS));
            }
        }
        // A client can see its 101 a moment before the proxy counts the tunnel it hands over as open.
        await().atMost(Duration.ofSeconds(10)).until(() -> proxy.engine().openTunnels() == count);
        assertThat(backend.open.get()).isEqualTo(count);
        for (int i = 0; i < count; i++) {
            sockets.get(i).send("m" + i);
        }
        for (int i = 0; i < count; i++) {
            assertThat(sockets.get(i).next()).isEqualTo("m" + i);
        }
        for (WebSocketClients.Socket socket : sockets) {
            socket.session.close(1000, "done", Callback.NOOP);
        }
        for (WebSocketClients.Socket socket : sockets) {
            assertThat(socket.closed.get(30, TimeUnit.SECONDS)).isEqualTo("1000 done");
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> proxy.engine().openTunnels() == 0);
    }

    /** A reload keeps an open tunnel on the backend it removed; new tunnels go to the new backend. */
    @ParameterizedTest
    @EnumSource(names = {"HANDLER_IN_JETTY", "FAST_PATH", "FILTER_IN_JETTY", "FILTER_IN_TOMCAT"})
    void aReloadKeepsOpenTunnelsOnTheirBackend(ProxyAdapter adapter) throws Exception {
        WebSocketBackend a = backend("a");
        WebSocketBackend b = backend("b");
        ProxyAdapter.Running proxy = proxy(adapter, config(a));
        WebSocketClients clients = clients();
        WebSocketClients.Socket before = clients.connect(proxy.uri().resolve("/echo"));
        assertThat(before.roundTrip("who")).isEqualTo("a");

        assertThat(proxy.engine().reload(config(b)).ok()).isTrue();

        assertThat(before.roundTrip("who")).isEqualTo("a");
        WebSocketClients.Socket after = clients.connect(proxy.uri().resolve("/echo"));
        assertThat(after.roundTrip("who")).isEqualTo("b");
        assertThat(before.roundTrip("still there")).isEqualTo("still there");
        assertThat(proxy.engine().openTunnels()).isEqualTo(2);

        before.close(1000, "done");
        after.close(1000, "done");
        awaitNoTunnel(proxy);
    }

    /** A drained backend keeps its tunnels and gets no new ones. */
    @ParameterizedTest
    @EnumSource(names = {"HANDLER_IN_JETTY", "FAST_PATH", "FILTER_IN_JETTY", "FILTER_IN_TOMCAT"})
    void aDrainedBackendKeepsItsTunnelsAndGetsNoNewOnes(ProxyAdapter adapter) throws Exception {
        WebSocketBackend a = backend("a");
        WebSocketBackend b = backend("b");
        ProxyAdapter.Running proxy = proxy(adapter, config(a, b));
        WebSocketClients clients = clients();
        WebSocketClients.Socket kept = clients.connect(proxy.uri().resolve("/echo"));
        String drained = (String) kept.roundTrip("who");
        proxy.engine().pools().get("ws").backend(drained).orElseThrow().drain();

        List<WebSocketClients.Socket> later = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            WebSocketClients.Socket socket = clients.connect(proxy.uri().resolve("/echo"));
            assertThat(socket.roundTrip("who")).isNotEqualTo(drained);
            later.add(socket);
        }
        assertThat(kept.roundTrip("who")).isEqualTo(drained);
        assertThat(proxy.engine()
                        .pools()
                        .get("ws")
                        .backend(drained)
                        .orElseThrow()
                        .inFlight())
                .as("the tunnel still counts on its backend")
                .isEqualTo(1);

        kept.close(1000, "done");
        for (WebSocketClients.Socket socket : later) {
            socket.close(1000, "done");
        }
        awaitNoTunnel(proxy);
    }

    /** {@code route.NAME.max-tunnels} and {@code proxy.max-tunnels}: 503 past either, room again once one closes. */
    @ParameterizedTest
    @EnumSource(names = {"HANDLER_IN_JETTY", "FAST_PATH", "FILTER_IN_JETTY", "FILTER_IN_TOMCAT"})
    void tunnelsAreCappedPerRouteAndInTotal(ProxyAdapter adapter) throws Exception {
        WebSocketBackend backend = backend("a");
        ProxyConfig config = pool(backend)
                .route(route("capped", "/capped").withWebSocket(true, 1))
                .route(route("ws", "/"))
                .websocket(new WebSocketConfig(Duration.ofMinutes(1), 2))
                .build();
        ProxyAdapter.Running proxy = proxy(adapter, config);
        WebSocketClients clients = clients();

        WebSocketClients.Socket first = clients.connect(proxy.uri().resolve("/capped"));
        assertThat(upgradeStatus(clients, proxy, "/capped")).isEqualTo(503);
        WebSocketClients.Socket second = clients.connect(proxy.uri().resolve("/other"));
        assertThat(upgradeStatus(clients, proxy, "/other")).isEqualTo(503);
        assertThat(proxy.engine().openTunnels()).isEqualTo(2);

        first.close(1000, "done");
        awaitTunnels(proxy, 1);
        WebSocketClients.Socket third = clients.connect(proxy.uri().resolve("/capped"));
        assertThat(third.roundTrip("who")).isEqualTo("a");

        second.close(1000, "done");
        third.close(1000, "done");
        awaitNoTunnel(proxy);
    }

    /**
     * The upgrade goes through the pipeline like any request: access rules (403), rate limits (429), and the
     * pool's strategy with its affinity (consistent-hash on a header: one user, one backend).
     */
    @ParameterizedTest
    @EnumSource(names = {"HANDLER_IN_JETTY", "FAST_PATH", "FILTER_IN_JETTY", "FILTER_IN_TOMCAT"})
    void theUpgradeGoesThroughSecurityAndAffinity(ProxyAdapter adapter) throws Exception {
        WebSocketBackend a = backend("a");
        WebSocketBackend b = backend("b");
        java.util.Map<String, String> keys = new java.util.HashMap<>();
        keys.put("pool.ws.backend.a.url", a.http().toString());
        keys.put("pool.ws.backend.b.url", b.http().toString());
        keys.put("pool.ws.strategy", "consistent-hash");
        keys.put("pool.ws.hash-key", "header:X-User");
        keys.put("route.ws.path", "/");
        keys.put("route.ws.pool", "ws");
        keys.put("route.denied.path", "/denied");
        keys.put("route.denied.pool", "ws");
        keys.put("route.denied.deny", "127.0.0.1");
        keys.put("route.limited.path", "/limited");
        keys.put("route.limited.pool", "ws");
        keys.put("route.limited.rate-limit", "1/m");
        ProxyConfig config = dev.proxyfilter.config.ConfigLoader.load(
                List.of(new dev.proxyfilter.config.ConfigSource("test", keys)));
        ProxyAdapter.Running proxy = proxy(adapter, config);
        WebSocketClients clients = clients();

        assertThat(upgradeStatus(clients, proxy, "/denied")).isEqualTo(403);
        WebSocketClients.Socket limited = clients.connect(proxy.uri().resolve("/limited"));
        assertThat(upgradeStatus(clients, proxy, "/limited")).isEqualTo(429);

        List<WebSocketClients.Socket> alice = new ArrayList<>();
        java.util.Set<Object> backends = new java.util.HashSet<>();
        for (int i = 0; i < 4; i++) {
            WebSocketClients.Socket socket =
                    clients.connect(proxy.uri().resolve("/echo"), true, java.util.Map.of("X-User", "alice"));
            backends.add(socket.roundTrip("who"));
            alice.add(socket);
        }
        assertThat(backends).as("one user, one backend").hasSize(1);

        limited.close(1000, "done");
        for (WebSocketClients.Socket socket : alice) {
            socket.close(1000, "done");
        }
        awaitNoTunnel(proxy);
    }

    private static void awaitTunnels(ProxyAdapter.Running proxy, int count) {
        await().atMost(Duration.ofSeconds(10)).until(() -> proxy.engine().openTunnels() == count);
    }

    /** The status of a refused upgrade. */
    private static int upgradeStatus(WebSocketClients clients, ProxyAdapter.Running proxy, String path) {
        Throwable failure = org.assertj.core.api.Assertions.catchThrowable(
                () -> clients.connect(proxy.uri().resolve(path)));
        while (failure != null && !(failure instanceof UpgradeException)) {
            failure = failure.getCause();
        }
        assertThat(failure).as("an upgrade refused with a status").isInstanceOf(UpgradeException.class);
        return ((UpgradeException) failure).getResponseStatusCode();
    }

    /**
     * What is not a tunnel goes as a plain request: a backend's answer other than 101 reaches the client as a
     * normal response; an Upgrade other than websocket (and other than h2c, which an h2c listener answers) is forwarded without Upgrade; and a route with
     * {@code websocket=false} forwards even a WebSocket upgrade without Upgrade, as nginx does without {@code
     * proxy_set_header Upgrade}.
     */
    @ParameterizedTest
    @EnumSource(names = {"HANDLER_IN_JETTY", "FAST_PATH", "FILTER_IN_JETTY", "FILTER_IN_TOMCAT"})
    void whatIsNoTunnelIsForwardedAsAPlainRequest(ProxyAdapter adapter) throws Exception {
        TestBackend plain = track(TestBackend.start("plain", new Backends.Echo("plain")));
        ProxyConfig config = TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "plain", plain.url(), 1)
                .route(new RouteConfig(
                                "off",
                                null,
                                "/off",
                                "web",
                                false,
                                true,
                                Duration.ofSeconds(2),
                                Duration.ofSeconds(10),
                                Duration.ZERO)
                        .withWebSocket(false, 0))
                .route("web", "/", "web")
                .build();
        ProxyAdapter.Running proxy = proxy(adapter, config);

        RawHttp.Response declined = RawHttp.exchange(proxy.uri(), upgrade("/ws", "websocket"));
        assertThat(declined.status()).isEqualTo(200);
        assertThat(declined.bodyText()).isEqualTo("plain");
        assertThat(declined.header("X-Echo-Upgrade")).isEqualTo("websocket");
        assertThat(declined.header("X-Echo-Sec-WebSocket-Version")).isEqualTo("13");

        // Not h2c: a listener with server.h2c (the core handler's) answers an h2c upgrade itself, and Jetty
        // refuses one without HTTP2-Settings with 400 (RFC 9113 has retired the upgrade to h2c anyway).
        RawHttp.Response other = RawHttp.exchange(proxy.uri(), upgrade("/other", "example/1"));
        assertThat(other.status()).as(other.bodyText()).isEqualTo(200);
        assertThat(other.header("X-Echo-Upgrade")).isNull();

        RawHttp.Response off = RawHttp.exchange(proxy.uri(), upgrade("/off", "websocket"));
        assertThat(off.status()).isEqualTo(200);
        assertThat(off.header("X-Echo-Upgrade")).isNull();
        assertThat(off.header("X-Echo-Sec-WebSocket-Key")).isNotNull();
        assertThat(proxy.engine().openTunnels()).isZero();
    }

    private static String upgrade(String path, String protocol) {
        return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nUpgrade: " + protocol + "\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "Sec-WebSocket-Version: 13\r\n\r\n";
    }

    /** {@code proxy.websocket-idle-timeout}: a tunnel with no byte either way for that long closes. */
    @ParameterizedTest
    @EnumSource(names = {"HANDLER_IN_JETTY", "FAST_PATH", "FILTER_IN_JETTY", "FILTER_IN_TOMCAT"})
    void anIdleTunnelCloses(ProxyAdapter adapter) throws Exception {
        WebSocketBackend backend = backend("a");
        ProxyConfig config = pool(backend)
                .route("ws", "/", "ws")
                .websocket(new WebSocketConfig(Duration.ofMillis(500), 0))
                .build();
        ProxyAdapter.Running proxy = proxy(adapter, config);
        WebSocketClients.Socket socket = clients().connect(proxy.uri().resolve("/echo"));
        assertThat(socket.roundTrip("hello")).isEqualTo("hello");

        assertThat(socket.closed.get(10, TimeUnit.SECONDS)).startsWith("1006");
        awaitNoTunnel(proxy);
    }

    /**
     * A graceful stop lets an open tunnel work through the grace and closes it when the grace ends, not before.
     * Tomcat stops the webapp (or the pipeline), whose filter (or valve) closes the engine with {@code
     * server.shutdown-timeout}; the engine closed directly does the same in any adapter.
     */
    @ParameterizedTest
    @EnumSource(names = {"FILTER_IN_TOMCAT", "VALVE_IN_TOMCAT", "HANDLER_IN_JETTY", "FAST_PATH"})
    void aGracefulStopClosesTunnelsWhenTheGraceEnds(ProxyAdapter adapter) throws Exception {
        WebSocketBackend backend = backend("a");
        ProxyConfig config = pool(backend)
                .route("ws", "/", "ws")
                .server(new ServerConfig("127.0.0.1", 0).withShutdownTimeout(Duration.ofSeconds(2)))
                .build();
        ProxyAdapter.Running proxy = adapter.start(config);
        Runnable stop = adapter == ProxyAdapter.HANDLER_IN_JETTY || adapter == ProxyAdapter.FAST_PATH
                ? () -> proxy.engine().close(Duration.ofSeconds(2))
                : proxy::close;
        assertTunnelOutlivesNoGrace(proxy.uri(), stop);
        if (adapter == ProxyAdapter.HANDLER_IN_JETTY || adapter == ProxyAdapter.FAST_PATH) {
            proxy.close();
        }
    }

    /**
     * The standalone proxy's server: Jetty's graceful stop waits for the tunnels ({@code ProxyHandler} is a
     * {@code Graceful}) up to its stop timeout, then its connectors close them.
     */
    @org.junit.jupiter.api.Test
    void theStandaloneServersGracefulStopWaitsForTunnels() throws Exception {
        WebSocketBackend backend = backend("a");
        org.eclipse.jetty.server.Server server = new org.eclipse.jetty.server.Server();
        org.eclipse.jetty.server.ServerConnector connector = new org.eclipse.jetty.server.ServerConnector(server, 1, 1);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        dev.proxyfilter.jetty.ProxyHandler handler = new dev.proxyfilter.jetty.ProxyHandler(config(backend));
        server.setHandler(new org.eclipse.jetty.server.handler.GracefulHandler(handler));
        server.setStopTimeout(2000);
        server.start();
        try {
            assertTunnelOutlivesNoGrace(java.net.URI.create("http://127.0.0.1:" + connector.getLocalPort()), () -> {
                try {
                    server.stop();
                } catch (java.util.concurrent.TimeoutException expected) {
                    // the grace ended with the tunnel open: Jetty says so, as for a request still in flight
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
        } finally {
            server.stop();
        }
    }

    /** Opens a tunnel, runs {@code stop} (which takes 2 s of grace) and checks the tunnel lives until its end. */
    private void assertTunnelOutlivesNoGrace(java.net.URI proxy, Runnable stop) throws Exception {
        WebSocketClients.Socket socket = clients().connect(proxy.resolve("/echo"));
        assertThat(socket.roundTrip("hello")).isEqualTo("hello");

        long start = System.nanoTime();
        CompletableFuture<Void> stopping = CompletableFuture.runAsync(stop);
        Thread.sleep(1000);
        assertThat(socket.roundTrip("during the grace")).isEqualTo("during the grace");
        assertThat(socket.closed).isNotDone();

        stopping.get(30, TimeUnit.SECONDS);
        assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(1900));
        assertThat(socket.closed.get(10, TimeUnit.SECONDS)).startsWith("1006");
    }
}
