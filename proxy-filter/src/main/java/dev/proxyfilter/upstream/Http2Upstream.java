package dev.proxyfilter.upstream;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.eclipse.jetty.http2.api.Session;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.frames.GoAwayFrame;
import org.eclipse.jetty.http2.frames.SettingsFrame;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.SocketAddressResolver;
import org.eclipse.jetty.util.component.ContainerLifeCycle;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP/2 to backends, multiplexed: {@code http://} backends in clear text with prior knowledge (h2c), {@code
 * https://} ones over TLS with ALPN (h2). It runs Jetty's low-level {@link HTTP2Client} (sessions and streams)
 * on the same {@link ClientConnector} as {@link UpstreamClient}, and makes the same {@link UpstreamExchange}s,
 * so the engine does not know which one carries a request.
 *
 * <p>Per backend address and limits, a {@link Destination} keeps at most {@code maxConnections} sessions and at
 * most {@code maxStreams} streams on each (lower if the backend's {@code SETTINGS_MAX_CONCURRENT_STREAMS} says
 * so); a new session opens only when every open one is full, one at a time, and exchanges wait in a bounded
 * queue meanwhile. A session that got a {@code GOAWAY} takes no new stream. A stream the backend never
 * processed (above the {@code GOAWAY}'s last stream id, or refused with {@code REFUSED_STREAM}, RFC 9113 §8.7)
 * is sent again on another session, whatever the method, as long as no byte of its request body was read.
 *
 * <p>Why not Jetty's {@code HttpClient} over {@code HttpClientTransportOverHTTP2}: its response content source
 * hands trailers to the {@code Response} object out of band, where the proxy needs them in order, as the last
 * chunk of the body (Jetty's own {@link org.eclipse.jetty.http.Trailers} chunk); it fails refused streams
 * instead of resending them; and its exchanges are not {@link UpstreamExchange}s, which would mean a second
 * forwarding path in the engine.
 */
public final class Http2Upstream extends ContainerLifeCycle {
    private static final Logger LOG = LoggerFactory.getLogger(Http2Upstream.class);

    /** How often a stream refused before any processing is sent again. */
    static final int MAX_RESENDS = 3;

    private final HTTP2Client client;
    private final Scheduler scheduler;
    private final int maxQueued;
    private final long streamIdleTimeoutMillis;
    private final SocketAddressResolver resolver;
    private final Map<String, Destination> destinations = new ConcurrentHashMap<>();
    private volatile boolean stopped;

    /**
     * @param connector        shared with the caller's other clients, started by its owner
     * @param idleTimeout      how long an HTTP/2 session without streams is kept, and a stream's default idle timeout
     * @param maxQueuedPerBackend most exchanges waiting for a stream to one backend address
     */
    public Http2Upstream(
            ClientConnector connector,
            Executor executor,
            Scheduler scheduler,
            Duration idleTimeout,
            int maxQueuedPerBackend) {
        this.scheduler = scheduler;
        this.maxQueued = maxQueuedPerBackend;
        this.streamIdleTimeoutMillis = idleTimeout.toMillis();
        this.client = new HTTP2Client(connector);
        client.unmanage(connector); // its owner starts and stops it
        client.setIdleTimeout(idleTimeout.toMillis());
        client.setStreamIdleTimeout(idleTimeout.toMillis());
        // A window per stream bounds what one slow client makes the proxy hold for its backend stream.
        client.setInitialStreamRecvWindow(1024 * 1024);
        client.setInitialSessionRecvWindow(16 * 1024 * 1024);
        client.setMaxConcurrentPushedStreams(0);
        client.setUseInputDirectByteBuffers(false);
        client.setUseOutputDirectByteBuffers(false);
        addBean(client);
        this.resolver = new SocketAddressResolver.Async(
                executor, scheduler, connector.getConnectTimeout().toMillis());
    }

    /** An {@link Upstream} with these per-backend limits: most sessions, and most streams on each. */
    public Upstream limited(int maxConnections, int maxStreams) {
        String limits = "#" + maxConnections + "/" + maxStreams;
        return (scheme, host, port, method, target) -> new UpstreamExchange(
                destination(scheme, host, port, limits, maxConnections, maxStreams), method, target);
    }

    private Destination destination(
            String scheme, String host, int port, String limits, int maxConnections, int maxStreams) {
        String key = UpstreamClient.key(scheme, host, port) + limits;
        Destination destination = destinations.get(key);
        if (destination == null) {
            destination = destinations.computeIfAbsent(
                    key, k -> new Destination(scheme, host, port, k, maxConnections, maxStreams));
        }
        return destination;
    }

    /**
     * Lets go of backend addresses not in {@code keep} ({@link UpstreamClient#key}s): their idle sessions
     * close, busy ones close once their streams end; the address is forgotten.
     */
    public void retainDestinations(Set<String> keep) {
        for (Destination destination : List.copyOf(destinations.values())) {
            if (!keep.contains(UpstreamClient.key(destination.scheme, destination.host, destination.port))) {
                destinations.remove(destination.key, destination);
                destination.shutdown();
            }
        }
    }

    /** Backend addresses (with their limits) this client holds sessions for. */
    public int destinations() {
        return destinations.size();
    }

    /** Sessions open or opening to a backend address, over all its limits: for tests and diagnostics. */
    public int connections(String scheme, String host, int port) {
        String prefix = UpstreamClient.key(scheme, host, port) + "#";
        int count = 0;
        for (Destination destination : destinations.values()) {
            if (destination.key.startsWith(prefix)) {
                count += destination.connections();
            }
        }
        return count;
    }

    /** Sessions carrying a stream, or opening, over every backend address: 0 once every exchange ended. */
    public int busyConnections() {
        int busy = 0;
        for (Destination destination : destinations.values()) {
            busy += destination.busyConnections();
        }
        return busy;
    }

    /** Streams open over every backend address: 0 once every exchange ended. */
    public int activeStreams() {
        int streams = 0;
        for (Destination destination : destinations.values()) {
            streams += destination.activeStreams();
        }
        return streams;
    }

    /** Exchanges waiting for a stream, over every backend address. */
    public int waitingExchanges() {
        int waiting = 0;
        for (Destination destination : destinations.values()) {
            waiting += destination.waitingExchanges();
        }
        return waiting;
    }

    @Override
    protected void doStart() throws Exception {
        stopped = false;
        super.doStart();
    }

    @Override
    protected void doStop() throws Exception {
        stopped = true;
        for (Destination destination : List.copyOf(destinations.values())) {
            destination.close();
        }
        destinations.clear();
        super.doStop();
    }

    /** One backend address with one set of limits: its sessions and the exchanges waiting for a stream. */
    final class Destination implements ExchangeRoute {
        final String scheme;
        final String host;
        final int port;
        final String key;
        final String authority;
        private final int maxConnections;
        private final int maxStreams;
        /** Guarded by {@code this}. */
        private final List<Connection> connections = new ArrayList<>();

        private final ArrayDeque<UpstreamExchange> waiting = new ArrayDeque<>();
        private int opening;
        private boolean closed;

        Destination(String scheme, String host, int port, String key, int maxConnections, int maxStreams) {
            this.scheme = scheme;
            this.host = host;
            this.port = port;
            this.key = key;
            this.maxConnections = maxConnections;
            this.maxStreams = maxStreams;
            boolean defaultPort = ("https".equalsIgnoreCase(scheme) && port == 443)
                    || ("http".equalsIgnoreCase(scheme) && port == 80);
            String name = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
            this.authority = defaultPort || port <= 0 ? name : name + ":" + port;
        }

        @Override
        public Scheduler scheduler() {
            return scheduler;
        }

        /** A stream's idle timeout when the exchange sets none. */
        long streamIdleTimeout() {
            return streamIdleTimeoutMillis;
        }

        /** A stream on a session with room, or a place in the queue (opening a session if none is opening). */
        @Override
        public void send(UpstreamExchange exchange) {
            Connection carrier = null;
            boolean open = false;
            synchronized (this) {
                if (closed || stopped) {
                    exchange.failed(UpstreamClient.stopped());
                    return;
                }
                carrier = withRoom();
                if (carrier == null) {
                    if (waiting.size() >= maxQueued) {
                        exchange.failed(new RejectedExecutionException(
                                "more than " + maxQueued + " requests queued for " + this));
                        return;
                    }
                    waiting.addLast(exchange);
                    open = shouldOpen();
                }
            }
            if (carrier != null) {
                new Http2Stream(this, carrier, exchange).start();
            }
            if (open) {
                connect();
            }
        }

        /** A session taking new streams with room under both limits; reserves a stream on it. Holds the lock. */
        private Connection withRoom() {
            for (Connection connection : connections) {
                if (connection.session != null
                        && !connection.draining
                        && !connection.session.isClosed()
                        && connection.active < Math.min(maxStreams, connection.remoteMaxStreams)) {
                    connection.active++;
                    return connection;
                }
            }
            return null;
        }

        /** Whether to open a session for the waiting exchanges: none opening, and room for one. Holds the lock. */
        private boolean shouldOpen() {
            if (opening > 0 || waiting.isEmpty()) {
                return false;
            }
            int live = 0;
            for (Connection connection : connections) {
                if (!connection.draining) {
                    live++;
                }
            }
            // A draining session still counts against the limit while its streams finish, but never blocks
            // the first live one: a GOAWAY must not leave requests waiting for streams that take long.
            if (connections.size() >= maxConnections && live > 0) {
                return false;
            }
            opening++;
            return true;
        }

        @Override
        public synchronized void dequeue(UpstreamExchange exchange) {
            waiting.remove(exchange);
        }

        private void connect() {
            resolver.resolve(host, port, Map.of(), new Promise<>() {
                @Override
                public void succeeded(List<InetSocketAddress> addresses) {
                    Connection connection = new Connection(Destination.this);
                    Promise<Session> opened = Promise.from(connection::opened, Destination.this::connectFailed);
                    if ("https".equalsIgnoreCase(scheme)) {
                        client.connect(
                                client.getClientConnector().getSslContextFactory(),
                                addresses.get(0),
                                connection,
                                opened);
                    } else {
                        client.connect(addresses.get(0), connection, opened);
                    }
                }

                @Override
                public void failed(Throwable failure) {
                    connectFailed(failure);
                }
            });
        }

        /** The session could not be made: every waiting exchange fails with why (nothing reached the backend). */
        private void connectFailed(Throwable failure) {
            List<UpstreamExchange> failed;
            synchronized (this) {
                opening--;
                failed = List.copyOf(waiting);
                waiting.clear();
            }
            LOG.debug("HTTP/2 connect to {} failed", this, failure);
            for (UpstreamExchange exchange : failed) {
                exchange.failed(failure);
            }
        }

        /** A session is ready: it takes its share of the waiting exchanges. */
        void opened(Connection connection) {
            boolean close;
            synchronized (this) {
                opening--;
                close = closed || stopped;
                if (!close) {
                    connections.add(connection);
                }
            }
            if (close) {
                connection.session.close(0, "stopping", Callback.NOOP);
                return;
            }
            drain();
        }

        /** Sends waiting exchanges on sessions with room; opens another session if some still wait. */
        void drain() {
            while (true) {
                UpstreamExchange next;
                Connection carrier;
                boolean open = false;
                synchronized (this) {
                    next = waiting.peekFirst();
                    carrier = next == null ? null : withRoom();
                    if (carrier != null) {
                        waiting.pollFirst();
                    } else {
                        open = shouldOpen();
                    }
                }
                if (carrier == null) {
                    if (open) {
                        connect();
                    }
                    return;
                }
                new Http2Stream(this, carrier, next).start();
            }
        }

        /** A stream of {@code connection} ended: its room goes to the next waiting exchange. */
        void released(Connection connection) {
            boolean close;
            synchronized (this) {
                connection.active--;
                close = connection.draining && connection.active == 0 || closed && connection.active == 0;
            }
            if (close && connection.session != null) {
                connection.session.close(0, "no more streams", Callback.NOOP);
            }
            drain();
        }

        /** The session closed or will take no new stream. */
        void gone(Connection connection, boolean closedNow) {
            synchronized (this) {
                connection.draining = true;
                if (closedNow) {
                    connections.remove(connection);
                }
            }
            drain();
        }

        synchronized int connections() {
            return connections.size() + opening;
        }

        synchronized int busyConnections() {
            int busy = opening;
            for (Connection connection : connections) {
                if (connection.active > 0) {
                    busy++;
                }
            }
            return busy;
        }

        synchronized int activeStreams() {
            int streams = 0;
            for (Connection connection : connections) {
                streams += connection.active;
            }
            return streams;
        }

        synchronized int waitingExchanges() {
            return waiting.size();
        }

        /** Forgotten by the client: idle sessions close now, busy ones after their last stream. */
        void shutdown() {
            List<Connection> idle = new ArrayList<>();
            synchronized (this) {
                closed = true;
                for (Connection connection : connections) {
                    connection.draining = true;
                    if (connection.active == 0) {
                        idle.add(connection);
                    }
                }
            }
            for (Connection connection : idle) {
                connection.session.close(0, "backend removed", Callback.NOOP);
            }
        }

        /** The client stops: every session closes, waiting exchanges fail. */
        void close() {
            List<Connection> open;
            List<UpstreamExchange> failed;
            synchronized (this) {
                closed = true;
                open = List.copyOf(connections);
                failed = List.copyOf(waiting);
                waiting.clear();
            }
            for (UpstreamExchange exchange : failed) {
                exchange.failed(UpstreamClient.stopped());
            }
            for (Connection connection : open) {
                connection.session.close(0, "stopping", Callback.NOOP);
            }
        }

        @Override
        public String toString() {
            return key;
        }
    }

    /** One HTTP/2 session to a backend, and its stream count (guarded by the destination). */
    static final class Connection implements Session.Listener {
        private final Destination destination;
        volatile Session session;
        int active;
        int remoteMaxStreams = Integer.MAX_VALUE;
        boolean draining;

        Connection(Destination destination) {
            this.destination = destination;
        }

        void opened(Session session) {
            this.session = session;
            destination.opened(this);
        }

        @Override
        public void onSettings(Session session, SettingsFrame frame) {
            Integer max = frame.getSettings().get(SettingsFrame.MAX_CONCURRENT_STREAMS);
            if (max != null) {
                synchronized (destination) {
                    remoteMaxStreams = Math.max(0, max);
                }
                destination.drain();
            }
        }

        @Override
        public void onGoAway(Session session, GoAwayFrame frame) {
            LOG.debug("GOAWAY from {}: {}", destination, frame);
            destination.gone(this, false);
        }

        @Override
        public void onClose(Session session, GoAwayFrame frame, Callback callback) {
            destination.gone(this, true);
            callback.succeeded();
        }

        @Override
        public void onFailure(Session session, Throwable failure, Callback callback) {
            LOG.debug("HTTP/2 session to {} failed", destination, failure);
            destination.gone(this, true);
            callback.succeeded();
        }

        @Override
        public boolean onIdleTimeout(Session session) {
            synchronized (destination) {
                if (active > 0) {
                    return false; // its streams have their own idle timeouts
                }
                draining = true;
            }
            return true;
        }

        @Override
        public String toString() {
            return "Http2Upstream.Connection[" + destination + ", " + session + "]";
        }
    }
}
