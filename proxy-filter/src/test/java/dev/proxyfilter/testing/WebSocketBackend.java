package dev.proxyfilter.testing;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

/**
 * A real WebSocket server (Jetty's, on its core) for tests behind the proxy. By path:
 * <ul>
 *   <li>{@code /echo} (and any other): echoes each text and binary message; {@code who} is answered with the
 *       backend's name. It reads the next message only once its echo went out, so a client that does not read
 *       its echoes stops this backend's reads in turn.
 *   <li>{@code /close}: closes with 4001 "bye" as soon as it opens; {@code /close-on-message} on the client's
 *       first message.
 *   <li>{@code /flood}: sends 64 KiB binary messages back to back, each once the previous one went out,
 *       counting in {@link #floodSent} the bytes its socket took: how far a client that does not read lets it get.
 *       {@code /flood-on-message} does the same from the client's first message on.
 * </ul>
 * A request that is no WebSocket upgrade gets 200 "plain NAME" (so that an upgrade the proxy forwards without
 * {@code Upgrade} is visible). The first subprotocol a client offers is accepted. Messages up to 2 MiB.
 */
public final class WebSocketBackend implements AutoCloseable {
    /** The largest message either side takes. */
    public static final int MAX_MESSAGE = 2 * 1024 * 1024;

    public final String name;
    private final Server server;
    private final ServerConnector connector;
    /** "code reason" of each close frame the backend received. */
    public final BlockingQueue<String> closes = new LinkedBlockingQueue<>();
    /** Sessions open now. */
    public final AtomicInteger open = new AtomicInteger();
    /** Sessions opened so far. */
    public final AtomicInteger opened = new AtomicInteger();
    /** Bytes {@code /flood} got out. */
    public final AtomicLong floodSent = new AtomicLong();
    /** Headers of each upgrade request and plain request received. */
    public final List<HttpFields> requests = new CopyOnWriteArrayList<>();

    public WebSocketBackend(String name) throws Exception {
        this.name = name;
        QueuedThreadPool threads = new QueuedThreadPool(200, 4);
        threads.setName("ws-backend-" + name);
        server = new Server(threads);
        connector = new ServerConnector(server, 1, 1);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        WebSocketUpgradeHandler upgrades = WebSocketUpgradeHandler.from(server, container -> {
            container.setMaxTextMessageSize(MAX_MESSAGE);
            container.setMaxBinaryMessageSize(MAX_MESSAGE);
            container.setIdleTimeout(Duration.ofSeconds(60));
            container.addMapping("/*", (request, response, callback) -> {
                requests.add(request.getHeaders().asImmutable());
                if (!request.getSubProtocols().isEmpty()) {
                    response.setAcceptedSubProtocol(request.getSubProtocols().get(0));
                }
                return new Endpoint(request.getHttpURI().getPath());
            });
        });
        upgrades.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, org.eclipse.jetty.util.Callback callback) {
                requests.add(request.getHeaders().asImmutable());
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
                Content.Sink.write(response, true, "plain " + name, callback);
                return true;
            }
        });
        server.setHandler(upgrades);
        server.start();
    }

    /** {@code ws://127.0.0.1:PORT}. */
    public URI ws() {
        return URI.create("ws://127.0.0.1:" + connector.getLocalPort());
    }

    /** {@code http://127.0.0.1:PORT}, for the proxy's configuration. */
    public URI http() {
        return URI.create("http://127.0.0.1:" + connector.getLocalPort());
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }

    /** One session: what it does depends on the path it was opened on. */
    public final class Endpoint implements Session.Listener {
        private final String path;
        private volatile Session session;

        Endpoint(String path) {
            this.path = path;
        }

        @Override
        public void onWebSocketOpen(Session session) {
            this.session = session;
            open.incrementAndGet();
            opened.incrementAndGet();
            switch (path) {
                case "/close" -> session.close(4001, "bye", Callback.NOOP);
                case "/flood" -> flood();
                case "/flood-on-message", "/close-on-message" -> session.demand();
                default -> session.demand();
            }
        }

        private void flood() {
            ByteBuffer block = ByteBuffer.allocate(64 * 1024);
            session.sendBinary(
                    block.slice(),
                    Callback.from(
                            () -> {
                                floodSent.addAndGet(block.capacity());
                                if (session.isOpen()) {
                                    flood();
                                }
                            },
                            failure -> {}));
        }

        @Override
        public void onWebSocketText(String message) {
            if (path.equals("/flood-on-message")) {
                flood();
                return;
            }
            if (path.equals("/close-on-message")) {
                session.close(4001, "bye", Callback.NOOP);
                return;
            }
            String answer = message.equals("who") ? name : message;
            session.sendText(answer, Callback.from(session::demand, failure -> {}));
        }

        @Override
        public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
            ByteBuffer copy =
                    ByteBuffer.allocate(payload.remaining()).put(payload).flip();
            callback.succeed();
            session.sendBinary(copy, Callback.from(session::demand, failure -> {}));
        }

        @Override
        public void onWebSocketClose(int statusCode, String reason) {
            closes.add(statusCode + " " + reason);
            open.decrementAndGet();
        }

        @Override
        public void onWebSocketError(Throwable cause) {
            // closes follow
        }
    }

    /** Text as UTF-8 bytes, for tests that compare sizes. */
    public static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** For {@link IOException}-free signatures in tests. */
    static void ignore(Object unused) {}
}
