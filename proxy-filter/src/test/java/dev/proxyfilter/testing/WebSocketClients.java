package dev.proxyfilter.testing;

import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.eclipse.jetty.websocket.client.WebSocketClient;

/** A real WebSocket client (Jetty's) for tests, and the client-side session that records what it gets. */
public final class WebSocketClients implements AutoCloseable {
    private final WebSocketClient client;
    /** How long a new session waits before it is used; see {@link #overHttp2}. */
    private final long settleMillis;

    public WebSocketClients() throws Exception {
        this(new HttpClient(), "ws-client", 0);
    }

    /**
     * A client whose every connection is HTTP/2 in clear text (prior knowledge): it opens each WebSocket as an
     * extended {@code CONNECT} stream (RFC 8441), as Jetty's client does over HTTP/2.
     *
     * <p>A session this client opened waits 300 ms before {@link #connect} returns it. Jetty 12.1.14's client
     * over HTTP/2 sometimes loses what arrives on the stream right after the session opened (the echo of a
     * message sent at once never comes, and nothing closes): reproduced with Jetty's own WebSocket server over
     * h2c and no proxy in between (about one session in seven), and never with a 300 ms pause, nor with a raw
     * {@code HTTP2Client} stream against the proxy. A backend that must send first waits for a message instead.
     */
    public static WebSocketClients overHttp2() throws Exception {
        org.eclipse.jetty.http2.client.HTTP2Client http2 = new org.eclipse.jetty.http2.client.HTTP2Client();
        return new WebSocketClients(
                new HttpClient(new org.eclipse.jetty.http2.client.transport.HttpClientTransportOverHTTP2(http2)),
                "ws-h2-client",
                300);
    }

    private WebSocketClients(HttpClient http, String name, long settleMillis) throws Exception {
        this.settleMillis = settleMillis;
        QueuedThreadPool threads = new QueuedThreadPool(64, 4);
        threads.setName(name);
        http.setExecutor(threads);
        http.setConnectTimeout(5_000);
        http.setMaxConnectionsPerDestination(2048);
        client = new WebSocketClient(http);
        client.setMaxTextMessageSize(WebSocketBackend.MAX_MESSAGE);
        client.setMaxBinaryMessageSize(WebSocketBackend.MAX_MESSAGE);
        client.setIdleTimeout(Duration.ofSeconds(60));
        client.start();
    }

    /** Opens a session to {@code uri} ({@code http://} or {@code ws://}), waiting up to 10 s for the 101. */
    public Socket connect(URI uri) throws Exception {
        return connect(uri, true);
    }

    /**
     * Opens a session; with {@code reading} false it reads nothing until {@link Socket#read} asks (a slow
     * client: what it does not read stays in its socket, then in the proxy's, then in the backend's).
     */
    public Socket connect(URI uri, boolean reading) throws Exception {
        return connect(uri, reading, java.util.Map.of());
    }

    /** Opens a session whose upgrade request carries {@code headers} too. */
    public Socket connect(URI uri, boolean reading, java.util.Map<String, String> headers) throws Exception {
        Socket socket = new Socket(reading);
        URI ws = URI.create(uri.toString().replaceFirst("^http", "ws"));
        ClientUpgradeRequest request = new ClientUpgradeRequest(ws);
        headers.forEach(request::setHeader);
        client.connect(socket, request).get(10, TimeUnit.SECONDS);
        settle();
        return socket;
    }

    /** Opens a session whose upgrade request {@code customize} changes (subprotocols, extensions). */
    public Socket connect(URI uri, java.util.function.Consumer<ClientUpgradeRequest> customize) throws Exception {
        Socket socket = new Socket(true);
        ClientUpgradeRequest request =
                new ClientUpgradeRequest(URI.create(uri.toString().replaceFirst("^http", "ws")));
        customize.accept(request);
        client.connect(socket, request).get(10, TimeUnit.SECONDS);
        settle();
        return socket;
    }

    private void settle() throws InterruptedException {
        if (settleMillis > 0) {
            Thread.sleep(settleMillis); // a workaround, not a wait for a condition: see overHttp2()
        }
    }

    /** Opens a session without waiting; the future completes with it once the 101 came. */
    public CompletableFuture<Socket> connectAsync(URI uri) throws Exception {
        Socket socket = new Socket(true);
        URI ws = URI.create(uri.toString().replaceFirst("^http", "ws"));
        return client.connect(socket, new ClientUpgradeRequest(ws)).thenApply(session -> socket);
    }

    @Override
    public void close() throws Exception {
        client.stop();
    }

    /** The client's session: messages received in order, and how it closed. */
    public static final class Socket implements Session.Listener {
        private final boolean reading;
        public final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
        /** "code reason" once closed. */
        public final CompletableFuture<String> closed = new CompletableFuture<>();

        public volatile Session session;

        Socket(boolean reading) {
            this.reading = reading;
        }

        @Override
        public void onWebSocketOpen(Session session) {
            this.session = session;
            if (reading) {
                session.demand();
            }
        }

        /** Reads one more message (for a client opened with {@code reading} false). */
        public void read() {
            session.demand();
        }

        @Override
        public void onWebSocketText(String message) {
            received.add(message);
            if (reading) {
                session.demand();
            }
        }

        @Override
        public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
            byte[] bytes = new byte[payload.remaining()];
            payload.get(bytes);
            received.add(bytes);
            callback.succeed();
            if (reading) {
                session.demand();
            }
        }

        @Override
        public void onWebSocketClose(int statusCode, String reason) {
            closed.complete(statusCode + " " + reason);
        }

        /** The last error; a close with its code (1006 for a connection that just ended) follows it. */
        public volatile Throwable error;

        @Override
        public void onWebSocketError(Throwable cause) {
            error = cause;
        }

        /** Sends text and waits until it went out. */
        public void send(String text) throws Exception {
            CompletableFuture<Void> sent = new CompletableFuture<>();
            session.sendText(text, Callback.from(() -> sent.complete(null), sent::completeExceptionally));
            sent.get(10, TimeUnit.SECONDS);
        }

        /** Sends text and returns the next message received (the echo). */
        public Object roundTrip(String text) throws Exception {
            send(text);
            return next();
        }

        /** The next message received, within 10 s. */
        public Object next() throws InterruptedException {
            Object message = received.poll(10, TimeUnit.SECONDS);
            if (message == null) {
                throw new AssertionError("no message within 10 s");
            }
            return message;
        }

        /** Closes with a code and reason, and waits for the close handshake (up to 10 s). */
        public String close(int code, String reason) throws Exception {
            session.close(code, reason, Callback.NOOP);
            return closed.get(10, TimeUnit.SECONDS);
        }
    }
}
