package dev.proxyfilter.upstream;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import javax.net.ssl.SSLEngine;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.ClientConnectionFactory;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.Transport;
import org.eclipse.jetty.io.ssl.SslClientConnectionFactory;
import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.SocketAddressResolver;
import org.eclipse.jetty.util.component.ContainerLifeCycle;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * A pooled HTTP/1.1 client for forwarding (see the package comment for why it is not Jetty's
 * {@code HttpClient}). One {@link Destination} per backend address keeps its idle connections, most
 * recently used first, opens new ones up to {@code maxConnectionsPerBackend}, and queues up to
 * {@code maxQueuedPerBackend} exchanges beyond that (then refuses with {@link RejectedExecutionException},
 * which the proxy answers with 503). Idle connections close after {@code poolIdleTimeout}, or when the
 * backend closes them.
 *
 * <p>It connects through a {@link ClientConnector} it does not own (the engine shares the one of its
 * health-check {@code HttpClient}); {@code https} backends go through the connector's TLS context, with
 * the backend's host name for SNI and verification.
 */
public final class UpstreamClient extends ContainerLifeCycle implements Upstream {
    private final ClientConnector connector;
    private final Executor executor;
    private final Scheduler scheduler;
    private final ByteBufferPool buffers;
    private final long poolIdleTimeoutMillis;
    private final int maxConnections;
    private final int maxQueued;
    private final SocketAddressResolver resolver;
    private final Map<String, Destination> destinations = new ConcurrentHashMap<>();
    private final ClientConnectionFactory plain = new Factory();
    private volatile ClientConnectionFactory tls;
    private volatile boolean stopped;
    private volatile org.eclipse.jetty.util.thread.Invocable.InvocationType readInvocationType =
            org.eclipse.jetty.util.thread.Invocable.InvocationType.BLOCKING;

    /**
     * @param connector               started by its owner before this client is used
     * @param poolIdleTimeout         how long an idle pooled connection is kept (also the default idle timeout of an exchange)
     * @param maxConnectionsPerBackend most connections open to one backend address
     * @param maxQueuedPerBackend     most exchanges waiting for a connection to one backend address
     */
    public UpstreamClient(
            ClientConnector connector,
            Executor executor,
            Scheduler scheduler,
            ByteBufferPool buffers,
            Duration poolIdleTimeout,
            int maxConnectionsPerBackend,
            int maxQueuedPerBackend) {
        this.connector = connector;
        this.executor = executor;
        this.scheduler = scheduler;
        this.buffers = buffers;
        this.poolIdleTimeoutMillis = poolIdleTimeout.toMillis();
        this.maxConnections = maxConnectionsPerBackend;
        this.maxQueued = maxQueuedPerBackend;
        this.resolver = new SocketAddressResolver.Async(
                executor, scheduler, connector.getConnectTimeout().toMillis());
    }

    /** A new exchange with {@code method} and {@code target} (path and query, as sent) to one backend address. */
    @Override
    public UpstreamExchange newExchange(String scheme, String host, int port, String method, String target) {
        return new UpstreamExchange(recentDestination(scheme, host, port), method, target);
    }

    /**
     * The destination of a backend address asked for lately, found without making its key: a few slots by host
     * and port, racy (a miss only looks the address up as before). A slot may hold a destination forgotten since
     * ({@code retainDestinations}): its {@code send} passes the exchange on to the address's new one.
     */
    private Destination recentDestination(String scheme, String host, int port) {
        int slot = (host.hashCode() * 31 + port) & (recent.length - 1);
        Destination destination = recent[slot];
        if (destination != null
                && destination.port == port
                && destination.host.equals(host)
                && destination.scheme.equals(scheme)
                && !destination.retired) {
            return destination;
        }
        destination = destination(scheme, host, port, key(scheme, host, port));
        recent[slot] = destination;
        return destination;
    }

    private final Destination[] recent = new Destination[16];

    /** How this client names a backend address: {@code scheme://host:port}, as {@link #retainDestinations} takes it. */
    public static String key(String scheme, String host, int port) {
        return scheme + "://" + host + ":" + port;
    }

    private Destination destination(String scheme, String host, int port, String key) {
        Destination destination = destinations.get(key);
        if (destination == null) {
            destination = destinations.computeIfAbsent(key, k -> new Destination(scheme, host, port, k));
        }
        return destination;
    }

    /**
     * Lets go of the backend addresses not in {@code keep} (their {@link #key}s): their idle connections
     * close now, a connection that finishes its exchange closes instead of going back to the pool, and the
     * address is forgotten once nothing is open or queued for it. A configuration reload that removes
     * backends calls this, so that addresses that come and go (a backend's IP changing on every deploy)
     * do not pile up. An address still asked for is served as usual and forgotten again later.
     */
    public void retainDestinations(java.util.Set<String> keep) {
        for (Destination destination : List.copyOf(destinations.values())) {
            if (keep.contains(destination.key)) {
                destination.wanted();
            } else {
                destination.unwanted();
            }
        }
    }

    /** Backend addresses this client holds a pool for: for tests and diagnostics. */
    public int destinations() {
        return destinations.size();
    }

    /** Connections open or opening to a backend address: for tests and diagnostics. */
    public int connections(String scheme, String host, int port) {
        Destination destination = destinations.get(scheme + "://" + host + ":" + port);
        return destination == null ? 0 : destination.connections();
    }

    /** Idle pooled connections to a backend address: for tests and diagnostics. */
    public int idleConnections(String scheme, String host, int port) {
        Destination destination = destinations.get(scheme + "://" + host + ":" + port);
        return destination == null ? 0 : destination.idleConnections();
    }

    /**
     * Connections open or opening and not idle in a pool, over every backend address: those carrying an
     * exchange, or about to. 0 once every exchange ended (a leak check's question).
     */
    public int busyConnections() {
        int busy = 0;
        for (Destination destination : destinations.values()) {
            busy += destination.connections() - destination.idleConnections();
        }
        return busy;
    }

    /** Exchanges waiting for a connection, over every backend address. */
    public int waitingExchanges() {
        int waiting = 0;
        for (Destination destination : destinations.values()) {
            waiting += destination.waitingExchanges();
        }
        return waiting;
    }

    /**
     * Why exchanges fail when the client stops: a {@link RejectedExecutionException}, which the proxy
     * answers with 503 (it is going away), as Jetty's {@code HttpClient} does.
     */
    static RejectedExecutionException stopped() {
        return new RejectedExecutionException("the upstream client stopped");
    }

    /**
     * How a response's bytes are handled when they arrive. {@code BLOCKING} (the default) hands them to
     * the executor; {@code NON_BLOCKING} parses them and runs the listener on the selector thread, which
     * saves a thread hand-off per read: only for listeners that never block (no disk, no lock held long).
     */
    public void setReadInvocationType(org.eclipse.jetty.util.thread.Invocable.InvocationType type) {
        this.readInvocationType = java.util.Objects.requireNonNull(type, "type");
    }

    org.eclipse.jetty.util.thread.Invocable.InvocationType readInvocationType() {
        return readInvocationType;
    }

    Scheduler scheduler() {
        return scheduler;
    }

    ByteBufferPool buffers() {
        return buffers;
    }

    long poolIdleTimeoutMillis() {
        return poolIdleTimeoutMillis;
    }

    @Override
    protected void doStart() throws Exception {
        stopped = false;
        super.doStart();
    }

    /** Closes every connection: exchanges in flight or queued fail (see {@link #stopped()}). */
    @Override
    protected void doStop() throws Exception {
        stopped = true;
        for (Destination destination : List.copyOf(destinations.values())) {
            destination.close();
        }
        destinations.clear();
        super.doStop();
    }

    private ClientConnectionFactory tlsFactory() {
        ClientConnectionFactory factory = tls;
        if (factory == null) {
            factory = new SslClientConnectionFactory(connector.getSslContextFactory(), buffers, executor, plain);
            tls = factory;
        }
        return factory;
    }

    private static final String DESTINATION_KEY = Destination.class.getName();

    /** Makes our connection on a new endpoint (below TLS, if any), and the TLS engine for the backend's host. */
    private final class Factory implements ClientConnectionFactory, SslClientConnectionFactory.SslEngineFactory {
        @Override
        public Connection newConnection(EndPoint endPoint, Map<String, Object> context) throws IOException {
            Destination destination = (Destination) context.get(DESTINATION_KEY);
            UpstreamConnection connection = new UpstreamConnection(endPoint, executor, destination);
            connection.pendingFirst = (UpstreamExchange) context.get(UpstreamConnection.PENDING_EXCHANGE);
            return connection;
        }

        @Override
        public SSLEngine newSslEngine(String host, int port, Map<String, Object> context) {
            Destination destination = (Destination) context.get(DESTINATION_KEY);
            SslContextFactory.Client factory = connector.getSslContextFactory();
            return factory.newSSLEngine(destination.host, destination.port);
        }
    }

    /** One backend address: its pool of connections and the exchanges waiting for one. */
    final class Destination implements ExchangeRoute {
        final UpstreamClient client = UpstreamClient.this;
        final String scheme;
        final String host;
        final int port;
        private final String key;
        /** The {@code Host} header for requests that bring none. */
        final String hostHeader;
        /** Guarded by {@code this}. */
        private final ArrayDeque<UpstreamConnection> idle = new ArrayDeque<>();

        private final ArrayDeque<UpstreamExchange> waiting = new ArrayDeque<>();
        /** Every open connection, idle or not, for {@link #close()}. */
        private final java.util.Set<UpstreamConnection> open = new java.util.HashSet<>();

        private int connections;
        private boolean closed;
        /** No configuration routes to this address any more ({@link #retainDestinations}). */
        private boolean unwanted;
        /** Forgotten by the client: an exchange that still comes here goes to the address's new destination. */
        private volatile boolean retired;

        Destination(String scheme, String host, int port, String key) {
            this.scheme = scheme;
            this.host = host;
            this.port = port;
            this.key = key;
            boolean defaultPort = ("https".equalsIgnoreCase(scheme) && port == 443)
                    || ("http".equalsIgnoreCase(scheme) && port == 80);
            String name = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
            this.hostHeader = defaultPort || port <= 0 ? name : name + ":" + port;
        }

        @Override
        public Scheduler scheduler() {
            return client.scheduler();
        }

        synchronized int connections() {
            return connections;
        }

        synchronized int idleConnections() {
            return idle.size();
        }

        synchronized int waitingExchanges() {
            return waiting.size();
        }

        /** A pooled connection, a new one, or a place in the queue. */
        @Override
        public void send(UpstreamExchange exchange) {
            UpstreamConnection connection = null;
            boolean open = false;
            boolean moved = false;
            synchronized (this) {
                if (closed || stopped) {
                    exchange.failed(UpstreamClient.stopped());
                    return;
                }
                if (retired) {
                    moved = true;
                } else {
                    while ((connection = idle.pollFirst()) != null) {
                        if (connection.activate()) {
                            break;
                        }
                    }
                    if (connection == null) {
                        if (connections < maxConnections) {
                            connections++;
                            open = true;
                        } else if (waiting.size() < maxQueued) {
                            waiting.addLast(exchange);
                            return;
                        }
                    }
                }
            }
            if (moved) {
                // Forgotten after this exchange was made: the address's current destination takes it.
                destination(scheme, host, port, key).send(exchange);
            } else if (connection != null) {
                connection.send(exchange);
            } else if (open) {
                connect(exchange);
            } else {
                exchange.failed(new RejectedExecutionException("more than " + maxQueued + " requests queued for "
                        + maxConnections + " connections to " + key));
            }
        }

        /**
         * Puts an exchange whose pooled connection proved stale first in line, before that connection
         * closes: the room its close leaves goes to this exchange (a new connection), within the limit.
         */
        void requeueFirst(UpstreamExchange exchange) {
            boolean refused;
            synchronized (this) {
                refused = closed || stopped;
                if (!refused) {
                    waiting.addFirst(exchange);
                }
            }
            if (refused) {
                exchange.failed(UpstreamClient.stopped());
            }
        }

        @Override
        public synchronized void dequeue(UpstreamExchange exchange) {
            waiting.remove(exchange);
        }

        private void connect(UpstreamExchange exchange) {
            Map<String, Object> context = new HashMap<>(8);
            context.put(DESTINATION_KEY, this);
            context.put(Transport.CONTEXT_KEY, Transport.TCP_IP);
            context.put(ClientConnectionFactory.CONTEXT_KEY, "https".equalsIgnoreCase(scheme) ? tlsFactory() : plain);
            context.put(UpstreamConnection.PENDING_EXCHANGE, exchange);
            context.put(ClientConnector.CONNECTION_PROMISE_CONTEXT_KEY, new Promise<Connection>() {
                @Override
                public void succeeded(Connection result) {
                    // UpstreamConnection.onOpen sends the pending exchange
                }

                @Override
                public void failed(Throwable failure) {
                    connectFailed(exchange, failure);
                }
            });
            resolver.resolve(host, port, context, new Promise<>() {
                @Override
                public void succeeded(List<InetSocketAddress> addresses) {
                    connector.connect(addresses.get(0), context);
                }

                @Override
                public void failed(Throwable failure) {
                    connectFailed(exchange, failure);
                }
            });
        }

        private void connectFailed(UpstreamExchange exchange, Throwable failure) {
            closed(null);
            exchange.failed(failure);
        }

        /**
         * The connection finished an exchange and can carry another: a waiting exchange gets it, else the
         * pool (most recently used first). Returns the exchange to send on it, if any.
         */
        UpstreamExchange release(UpstreamConnection connection) {
            synchronized (this) {
                if (!closed && !stopped) {
                    UpstreamExchange next;
                    while ((next = waiting.pollFirst()) != null) {
                        if (!next.isCompleted()) {
                            return next;
                        }
                    }
                    if (!unwanted) {
                        idle.addFirst(connection);
                        return null;
                    }
                }
            }
            connection.close(); // its onClose counts it out (closed), which may retire this destination
            return null;
        }

        synchronized void wanted() {
            unwanted = false;
        }

        /** See {@link UpstreamClient#retainDestinations}. */
        void unwanted() {
            List<UpstreamConnection> idleNow;
            synchronized (this) {
                if (closed || retired) {
                    return;
                }
                unwanted = true;
                idleNow = new ArrayList<>(idle);
                idle.clear();
            }
            for (UpstreamConnection connection : idleNow) {
                connection.closeIfIdle(); // counted out by its onClose
            }
            retireIfUnused();
        }

        /** Forgets this destination if it is unwanted and nothing is open or queued for it. */
        private void retireIfUnused() {
            synchronized (this) {
                if (!unwanted || retired || closed || connections > 0 || !waiting.isEmpty()) {
                    return;
                }
                retired = true;
            }
            destinations.remove(key, this);
        }

        /** A connection opened (not yet carrying anything). */
        void opened(UpstreamConnection connection) {
            boolean late;
            synchronized (this) {
                late = closed || stopped;
                if (!late) {
                    open.add(connection);
                }
            }
            if (late) {
                connection.closeForStop();
            }
        }

        /** A connection closed (or never opened): room for one more, which a waiting exchange may take. */
        void closed(UpstreamConnection connection) {
            UpstreamExchange next = null;
            synchronized (this) {
                if (connection != null) {
                    if (!open.remove(connection)) {
                        return; // counted already
                    }
                    idle.remove(connection);
                }
                connections--;
                if (!closed && !stopped) {
                    while ((next = waiting.pollFirst()) != null) {
                        if (!next.isCompleted()) {
                            connections++;
                            break;
                        }
                    }
                }
            }
            if (next != null) {
                connect(next);
            } else {
                retireIfUnused();
            }
        }

        void close() {
            List<UpstreamConnection> all;
            List<UpstreamExchange> queued;
            synchronized (this) {
                closed = true;
                all = new ArrayList<>(open);
                idle.clear();
                queued = new ArrayList<>(waiting);
                waiting.clear();
            }
            for (UpstreamExchange exchange : queued) {
                exchange.failed(UpstreamClient.stopped());
            }
            for (UpstreamConnection connection : all) {
                connection.closeForStop();
            }
        }

        @Override
        public String toString() {
            return key;
        }
    }
}
