package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.proxyfilter.config.ConfigLoader;
import dev.proxyfilter.config.ConfigSource;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.config.RouteConfig;
import dev.proxyfilter.config.ServerConfig;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.config.WebSocketConfig;
import dev.proxyfilter.metrics.TunnelMetrics;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.SocketBackend;
import dev.proxyfilter.testing.TestConfigs;
import dev.proxyfilter.testing.WebSocketBackend;
import dev.proxyfilter.testing.WebSocketClients;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HostPortHttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpScheme;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.http2.api.Session;
import org.eclipse.jetty.http2.api.Stream;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.frames.HeadersFrame;
import org.eclipse.jetty.http2.frames.ResetFrame;
import org.eclipse.jetty.http2.frames.SettingsFrame;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.exceptions.UpgradeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * RFC 8441, WebSocket over HTTP/2 ({@link ExtendedConnect}), on the standalone listener (the core handler, with
 * h2c): a real Jetty {@code WebSocketClient} over HTTP/2 opens each WebSocket as an extended {@code CONNECT}
 * stream, and a real Jetty WebSocket backend gets an HTTP/1.1 upgrade with the proxy's own key. The tunnel is
 * {@link Tunnel}'s, with its caps, metrics and idle timeout.
 */
@Timeout(120)
class WebSocketOverHttp2IntegrationTest {
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

    private ProxyAdapter.Running proxy(ProxyConfig config) {
        return track(ProxyAdapter.HANDLER_IN_JETTY.start(config));
    }

    private WebSocketClients clients() throws Exception {
        return track(WebSocketClients.overHttp2());
    }

    private static TestConfigs pool(WebSocketBackend backend) {
        return TestConfigs.builder().pool("ws", StrategyName.ROUND_ROBIN, backend.name, backend.http(), 1);
    }

    private static RouteConfig route(String name, String path, String pool) {
        return new RouteConfig(
                name, null, path, pool, false, true, Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ZERO);
    }

    private static void awaitNoTunnel(ProxyAdapter.Running proxy) {
        await().atMost(Duration.ofSeconds(10)).until(() -> proxy.engine().openTunnels() == 0);
    }

    @Test
    void echoesTextAndBinaryByteForByteAndPassesCloseCodesBothWays() throws Exception {
        WebSocketBackend backend = backend("a");
        ProxyAdapter.Running proxy = proxy(pool(backend).route("ws", "/", "ws").build());
        WebSocketClients clients = clients();

        WebSocketClients.Socket socket = clients.connect(proxy.uri().resolve("/echo"));
        assertThat(socket.session.getUpgradeResponse().getStatusCode())
                .as("an extended CONNECT, answered 200 on its stream")
                .isEqualTo(200);
        assertThat(socket.roundTrip("hello")).isEqualTo("hello");
        assertThat(socket.roundTrip("who")).isEqualTo("a");
        String text = "é€\uD83D\uDE00ß".repeat(10_000);
        assertThat(socket.roundTrip(text)).isEqualTo(text);
        Random random = new Random(8441);
        for (int size : new int[] {0, 1, 125, 126, 65_535, 65_536, 1024 * 1024}) {
            byte[] sent = new byte[size];
            random.nextBytes(sent);
            sendBinary(socket, sent);
            assertThat((byte[]) socket.next()).as("%d bytes", size).isEqualTo(sent);
        }
        assertThat(proxy.engine().openTunnels()).isEqualTo(1);

        // The backend got an HTTP/1.1 upgrade with the proxy's key, from a client that spoke HTTP/2.
        HttpFields upgrade = backend.requests.get(0);
        assertThat(upgrade.get("Upgrade")).isEqualTo("websocket");
        assertThat(upgrade.get("Connection")).isEqualToIgnoringCase("Upgrade");
        assertThat(upgrade.get("Sec-WebSocket-Version")).isEqualTo("13");
        assertThat(upgrade.get("Sec-WebSocket-Key")).hasSize(24);
        assertThat(upgrade.get("Via")).startsWith("2 ");
        assertThat(upgrade.get("X-Forwarded-For")).isEqualTo("127.0.0.1");

        assertThat(socket.close(4002, "client-bye")).isEqualTo("4002 client-bye");
        assertThat(backend.closes.poll(10, TimeUnit.SECONDS)).isEqualTo("4002 client-bye");

        // The backend closes on the client's message, not at once: see WebSocketClients.overHttp2.
        WebSocketClients.Socket closing = clients.connect(proxy.uri().resolve("/close-on-message"));
        closing.send("bye?");
        assertThat(closing.closed.get(10, TimeUnit.SECONDS)).isEqualTo("4001 bye");
        awaitNoTunnel(proxy);

        TunnelMetrics.Series series = proxy.engine().metrics().tunnels().series("ws", "ws", "a");
        await().atMost(Duration.ofSeconds(10)).until(() -> series.closed() == 2);
        assertThat(series.opened()).isEqualTo(2);
        assertThat(series.open()).as("the open-tunnel gauge").isZero();
        long payload = 1024 * 1024 + 65_536 + 65_535 + 126 + 125 + 1;
        assertThat(series.bytesToBackend()).isGreaterThan(payload);
        assertThat(series.bytesToClient()).isGreaterThan(payload);
    }

    private static void sendBinary(WebSocketClients.Socket socket, byte[] bytes) throws Exception {
        CompletableFuture<Void> sent = new CompletableFuture<>();
        socket.session.sendBinary(
                ByteBuffer.wrap(bytes), Callback.from(() -> sent.complete(null), sent::completeExceptionally));
        sent.get(10, TimeUnit.SECONDS);
    }

    /** The client's subprotocols and extensions reach the backend, and the backend's choice the client. */
    @Test
    void subprotocolsAndExtensionsAreNegotiatedEndToEnd() throws Exception {
        WebSocketBackend backend = backend("a");
        ProxyAdapter.Running proxy = proxy(pool(backend).route("ws", "/", "ws").build());
        WebSocketClients.Socket socket = clients().connect(proxy.uri().resolve("/echo"), request -> {
            request.setSubProtocols("chat", "superchat");
            request.addExtensions("permessage-deflate");
        });

        assertThat(socket.session.getUpgradeResponse().getAcceptedSubProtocol()).isEqualTo("chat");
        assertThat(socket.session.getUpgradeResponse().getExtensions())
                .anySatisfy(extension -> assertThat(extension.getName()).isEqualTo("permessage-deflate"));
        HttpFields upgrade = backend.requests.get(0);
        assertThat(upgrade.getCSV("Sec-WebSocket-Protocol", false)).containsExactly("chat", "superchat");
        assertThat(upgrade.get("Sec-WebSocket-Extensions")).contains("permessage-deflate");
        String text = "compressible ".repeat(50_000);
        assertThat(socket.roundTrip(text)).isEqualTo(text);

        socket.close(1000, "done");
        awaitNoTunnel(proxy);
    }

    /**
     * A backend whose 101 has a wrong {@code Sec-WebSocket-Accept} fails the stream with 502, no tunnel; one
     * that answers something else than 101 has its status passed on, except a 2xx (which would tell the client
     * that its tunnel opened): 502.
     */
    @Test
    void theBackendsHandshakeIsChecked() throws Exception {
        SocketBackend fake = track(SocketBackend.start(socket -> {
            String head = SocketBackend.readHead(socket.getInputStream());
            String path = head.substring(head.indexOf(' ') + 1, head.indexOf(' ', head.indexOf(' ') + 1));
            OutputStream out = socket.getOutputStream();
            String answer = switch (path) {
                case "/wrong-accept" ->
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
                case "/right-accept" ->
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            + "Sec-WebSocket-Accept: " + acceptFor(head) + "\r\n\r\n";
                case "/ok" -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                default -> "HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope";
            };
            out.write(answer.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            try {
                socket.getInputStream().read(); // until the proxy closes
            } catch (IOException ignored) {
                // closed
            }
        }));
        ProxyConfig config = TestConfigs.builder()
                .pool("fake", StrategyName.ROUND_ROBIN, "f", fake.url(), 1)
                .route("fake", "/", "fake")
                .build();
        ProxyAdapter.Running proxy = proxy(config);
        WebSocketClients clients = clients();

        // The control: the same backend with the key's accept opens a tunnel.
        WebSocketClients.Socket right = clients.connect(proxy.uri().resolve("/right-accept"));
        assertThat(proxy.engine().openTunnels()).isEqualTo(1);
        right.session.disconnect();
        awaitNoTunnel(proxy);

        assertThat(upgradeStatus(clients, proxy, "/wrong-accept")).isEqualTo(502);
        assertThat(upgradeStatus(clients, proxy, "/forbidden")).isEqualTo(403);
        assertThat(upgradeStatus(clients, proxy, "/ok")).isEqualTo(502);
        awaitNoTunnel(proxy); // a refused stream's place under the caps is given back as its exchange ends
        assertThat(proxy.engine()
                        .metrics()
                        .tunnels()
                        .series("fake", "fake", "f")
                        .opened())
                .as("only the control opened a tunnel")
                .isEqualTo(1);
    }

    /** RFC 6455's accept for the key in a request head, computed here independently of the proxy. */
    private static String acceptFor(String head) {
        String key = head.lines()
                .filter(line -> line.regionMatches(true, 0, "Sec-WebSocket-Key:", 0, 18))
                .findFirst()
                .orElseThrow()
                .substring(18)
                .strip();
        try {
            byte[] sha1 = java.security.MessageDigest.getInstance("SHA-1")
                    .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII));
            return java.util.Base64.getEncoder().encodeToString(sha1);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * {@code route.NAME.websocket=false} cannot forward an extended CONNECT as a plain request, as it does an
     * HTTP/1.1 upgrade: 501, as RFC 9220 §3 asks for a {@code :protocol} not supported (see {@link
     * ExtendedConnect}).
     */
    @Test
    void aRouteWithoutWebSocketRefusesExtendedConnect() throws Exception {
        WebSocketBackend backend = backend("a");
        ProxyConfig config = pool(backend)
                .route(route("off", "/off", "ws").withWebSocket(false, 0))
                .route("ws", "/", "ws")
                .build();
        ProxyAdapter.Running proxy = proxy(config);
        WebSocketClients clients = clients();

        assertThat(upgradeStatus(clients, proxy, "/off")).isEqualTo(501);
        assertThat(backend.opened.get()).isZero();
        WebSocketClients.Socket on = clients.connect(proxy.uri().resolve("/on"));
        assertThat(on.roundTrip("who")).isEqualTo("a");
        on.close(1000, "done");
        awaitNoTunnel(proxy);
    }

    /** {@code route.NAME.max-tunnels} and {@code proxy.max-tunnels}: 503 past either, room once one closes. */
    @Test
    void tunnelsAreCappedPerRouteAndInTotal() throws Exception {
        WebSocketBackend backend = backend("a");
        ProxyConfig config = pool(backend)
                .route(route("capped", "/capped", "ws").withWebSocket(true, 1))
                .route(route("ws", "/", "ws"))
                .websocket(new WebSocketConfig(Duration.ofMinutes(1), 2))
                .build();
        ProxyAdapter.Running proxy = proxy(config);
        WebSocketClients clients = clients();

        WebSocketClients.Socket first = clients.connect(proxy.uri().resolve("/capped"));
        assertThat(upgradeStatus(clients, proxy, "/capped")).isEqualTo(503);
        WebSocketClients.Socket second = clients.connect(proxy.uri().resolve("/other"));
        assertThat(upgradeStatus(clients, proxy, "/other")).isEqualTo(503);
        assertThat(proxy.engine().openTunnels()).isEqualTo(2);

        first.close(1000, "done");
        await().atMost(Duration.ofSeconds(10)).until(() -> proxy.engine().openTunnels() == 1);
        WebSocketClients.Socket third = clients.connect(proxy.uri().resolve("/capped"));
        assertThat(third.roundTrip("who")).isEqualTo("a");

        second.close(1000, "done");
        third.close(1000, "done");
        awaitNoTunnel(proxy);
        assertThat(proxy.engine()
                        .metrics()
                        .tunnels()
                        .series("capped", "ws", "a")
                        .open())
                .isZero();
    }

    /** Access rules (403), rate limits (429) and the pool's affinity (consistent-hash on a header) apply. */
    @Test
    void theStreamGoesThroughSecurityAndAffinity() throws Exception {
        WebSocketBackend a = backend("a");
        WebSocketBackend b = backend("b");
        Map<String, String> keys = new HashMap<>();
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
        ProxyConfig config = ConfigLoader.load(List.of(new ConfigSource("test", keys)));
        ProxyAdapter.Running proxy = proxy(config);
        WebSocketClients clients = clients();

        assertThat(upgradeStatus(clients, proxy, "/denied")).isEqualTo(403);
        WebSocketClients.Socket limited = clients.connect(proxy.uri().resolve("/limited"));
        assertThat(upgradeStatus(clients, proxy, "/limited")).isEqualTo(429);

        Set<Object> backends = new HashSet<>();
        List<WebSocketClients.Socket> alice = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            WebSocketClients.Socket socket =
                    clients.connect(proxy.uri().resolve("/echo"), request -> request.setHeader("X-User", "alice"));
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

    /** {@code proxy.websocket-idle-timeout}, not the listener's stream idle timeout, closes a quiet tunnel. */
    @Test
    void anIdleTunnelCloses() throws Exception {
        WebSocketBackend backend = backend("a");
        ProxyConfig config = pool(backend)
                .route("ws", "/", "ws")
                .websocket(new WebSocketConfig(Duration.ofMillis(500), 0))
                .build();
        ProxyAdapter.Running proxy = proxy(config);
        WebSocketClients.Socket socket = clients().connect(proxy.uri().resolve("/echo"));
        assertThat(socket.roundTrip("hello")).isEqualTo("hello");

        assertThat(socket.closed.get(10, TimeUnit.SECONDS)).startsWith("1006");
        awaitNoTunnel(proxy);
        await().atMost(Duration.ofSeconds(10)).until(() -> backend.open.get() == 0);
    }

    /**
     * The listener's idle timeout (the stream's and the connection's) does not cut a tunnel, which has {@code
     * proxy.websocket-idle-timeout} instead.
     */
    @Test
    void theListenersIdleTimeoutLeavesATunnelAlone() throws Exception {
        WebSocketBackend backend = backend("a");
        ProxyConfig config = pool(backend)
                .route("ws", "/", "ws")
                .server(new ServerConfig(
                        "127.0.0.1",
                        0,
                        ServerConfig.DEFAULT_MAX_HEADER_BYTES,
                        ServerConfig.DEFAULT_MAX_URI_BYTES,
                        ServerConfig.DEFAULT_HEADER_TIMEOUT,
                        Duration.ofMillis(500),
                        null))
                .build();
        ProxyAdapter.Running proxy = proxy(config);
        WebSocketClients.Socket socket = clients().connect(proxy.uri().resolve("/echo"));
        assertThat(socket.roundTrip("hello")).isEqualTo("hello");

        // Quiet for three of the listener's idle timeouts: a timeout that does not fire can only be waited out.
        await().pollDelay(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(5)).until(() -> true);
        assertThat(socket.closed).isNotDone();
        assertThat(socket.roundTrip("still there")).isEqualTo("still there");
        socket.close(1000, "done");
        awaitNoTunnel(proxy);
    }

    /**
     * A client that reads nothing: HTTP/2's flow control stops the proxy's writes on the stream, the proxy then
     * stops reading from the backend, whose sends stop once the sockets are full; when the client reads, the
     * backend goes on.
     */
    @Test
    void aSlowClientThrottlesTheBackend() throws Exception {
        WebSocketBackend backend = backend("a");
        ProxyAdapter.Running proxy = proxy(pool(backend).route("ws", "/", "ws").build());
        // The flood starts on the client's message, not at once: see WebSocketClients.overHttp2.
        WebSocketClients.Socket socket = clients().connect(proxy.uri().resolve("/flood-on-message"), false);
        socket.send("go");

        long stalled = awaitStalled(backend.floodSent::get);
        TunnelMetrics.Series series = proxy.engine().metrics().tunnels().series("ws", "ws", "a");
        assertThat(stalled).isPositive().isLessThan(128L * 1024 * 1024);
        assertThat(series.bytesToClient()).isLessThanOrEqualTo(stalled);

        for (int i = 0; i < 200; i++) { // the client reads: 200 messages of 64 KiB, 12.5 MiB
            socket.read();
            assertThat(socket.next()).isInstanceOf(byte[].class);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> backend.floodSent.get() > stalled);

        // Jetty's client ends its stream (END_STREAM, no RST_STREAM) and opens no more window: the direction
        // towards it stays blocked, and the tunnel closes once Tunnel.LINGER_MILLIS passed after the other ended.
        socket.session.disconnect();
        await().atMost(Duration.ofMillis(Tunnel.LINGER_MILLIS + 10_000))
                .until(() -> proxy.engine().openTunnels() == 0);
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

    /**
     * The listener advertises {@code SETTINGS_ENABLE_CONNECT_PROTOCOL}; a plain CONNECT is still refused with
     * 405, and an extended one for another protocol with 501.
     */
    @Test
    void theListenerAdvertisesExtendedConnectAndRefusesOtherTunnels() throws Exception {
        WebSocketBackend backend = backend("a");
        ProxyAdapter.Running proxy = proxy(pool(backend).route("ws", "/", "ws").build());
        HTTP2Client http2 = new HTTP2Client();
        http2.start();
        track(http2::stop);
        CompletableFuture<Map<Integer, Integer>> settings = new CompletableFuture<>();
        Session session = http2.connect(
                        new InetSocketAddress("127.0.0.1", proxy.uri().getPort()), new Session.Listener() {
                            @Override
                            public void onSettings(Session session, SettingsFrame frame) {
                                settings.complete(frame.getSettings());
                            }
                        })
                .get(10, TimeUnit.SECONDS);
        assertThat(settings.get(10, TimeUnit.SECONDS)).containsEntry(SettingsFrame.ENABLE_CONNECT_PROTOCOL, 1);

        HostPortHttpField authority =
                new HostPortHttpField("127.0.0.1:" + proxy.uri().getPort());
        assertThat(status(
                        session,
                        new MetaData.ConnectRequest(
                                (HttpScheme) null,
                                new HostPortHttpField("evil.example:443"),
                                null,
                                HttpFields.EMPTY,
                                null)))
                .isEqualTo(405);
        assertThat(status(
                        session,
                        new MetaData.ConnectRequest(
                                HttpScheme.HTTP, authority, "/echo", HttpFields.EMPTY, "bytestream")))
                .isEqualTo(501);
        assertThat(backend.requests).isEmpty();
        assertThat(proxy.engine().openTunnels()).isZero();
    }

    /** The status the proxy answers a stream opened with {@code request}. */
    private static int status(Session session, MetaData.Request request) throws Exception {
        CompletableFuture<Integer> status = new CompletableFuture<>();
        session.newStream(new HeadersFrame(request, null, false), new Stream.Listener() {
                    @Override
                    public void onHeaders(Stream stream, HeadersFrame frame) {
                        if (frame.getMetaData() instanceof MetaData.Response response) {
                            status.complete(response.getStatus());
                        }
                    }

                    @Override
                    public void onReset(Stream stream, ResetFrame frame, org.eclipse.jetty.util.Callback callback) {
                        status.completeExceptionally(new IOException("stream reset: " + frame.getError()));
                        callback.succeeded();
                    }
                })
                .get(10, TimeUnit.SECONDS);
        return status.get(10, TimeUnit.SECONDS);
    }

    /** The status of a refused WebSocket stream. */
    private static int upgradeStatus(WebSocketClients clients, ProxyAdapter.Running proxy, String path) {
        URI uri = proxy.uri().resolve(path);
        Throwable failure = org.assertj.core.api.Assertions.catchThrowable(() -> clients.connect(uri));
        while (failure != null && !(failure instanceof UpgradeException)) {
            failure = failure.getCause();
        }
        assertThat(failure).as("a WebSocket refused with a status").isInstanceOf(UpgradeException.class);
        return ((UpgradeException) failure).getResponseStatusCode();
    }
}
