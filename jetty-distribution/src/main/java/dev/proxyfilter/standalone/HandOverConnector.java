package dev.proxyfilter.standalone;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import org.eclipse.jetty.http2.HTTP2Connection;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.IO;

/**
 * A {@link ServerConnector} that can share its port with another process ({@code server.reuse-port}) and
 * hand its traffic over to it, resetting as few connections as Linux allows without
 * {@code net.ipv4.tcp_migrate_req} (none, with it).
 *
 * <h2>Why the listener is closed this way</h2>
 * With {@code SO_REUSEPORT}, Linux spreads new connections over every listening socket of the port by a
 * hash of the connection. When one of those sockets closes, the connections still in <em>its</em> accept
 * queue (handshake done, not accepted yet) are reset, not moved to another socket, unless the machine
 * has {@code net.ipv4.tcp_migrate_req=1} (Linux 5.14+). So the old process ({@link RunningProxy#stop()}):
 * <ol>
 *   <li>keeps accepting until no connection has come for a moment ({@link #nanosSinceLastAccept()}), so
 *       that it closes when few handshakes are under way;</li>
 *   <li>{@link #closeAfterDraining() closes}: the acceptor thread itself accepts whatever is queued and
 *       closes the socket in the same step, so the queue is empty when it closes. What is left is the
 *       few microseconds between the last {@code accept} and {@code close}, and handshakes half done at
 *       that instant: those connections are reset. Measured at ~3,000 new connections a second, 0 to 4 per
 *       50 closes, against 43 to 141 for a plain close; {@code tcp_migrate_req=1} closes that gap too;</li>
 *   <li>{@link #handOver() hands over} the connections it has: every HTTP/1 response from then on says
 *       {@code Connection: close} (Jetty does that for a connector that {@link #isShutdown() is shut
 *       down}), HTTP/2 sessions get a graceful GOAWAY, and a connection idle for {@link #HAND_OVER_IDLE_MS}
 *       is closed. Clients reconnect, to the new process only, since this listener is closed.</li>
 * </ol>
 * To wait for a pending connection and for a close request at once, the acceptor waits in a
 * {@link Selector} on the non-blocking channel rather than in a blocking {@code accept}: interrupting a
 * blocking {@code accept} would close the channel, queue and all.
 *
 * <p>Without {@code reusePort} it is a plain {@link ServerConnector}.
 */
final class HandOverConnector extends ServerConnector {
    /** How long a connection may stay idle once the hand-over began: Jetty's own shutdown idle timeout. */
    static final long HAND_OVER_IDLE_MS = 1_000;

    private final boolean reusePort;
    private final boolean exclusive;
    private volatile Selector selector;
    private volatile CompletableFuture<Void> closeRequest;
    private volatile boolean handingOver;
    private volatile long lastAcceptNanos = System.nanoTime();
    /** {@code server.idle-timeout}, as set before the start, for HTTP/2 connections that still carry streams. */
    private volatile long configuredIdleTimeout;

    /**
     * @param reusePort bind with {@code SO_REUSEPORT}
     * @param exclusive with {@code reusePort}: first check that no other socket holds the port, as a bind
     *                  without {@code SO_REUSEPORT} would, so that only a takeover shares it
     */
    HandOverConnector(
            Server server,
            int acceptors,
            int selectors,
            boolean reusePort,
            boolean exclusive,
            ConnectionFactory... factories) {
        super(server, reusePort ? Math.max(1, acceptors) : acceptors, selectors, factories);
        this.reusePort = reusePort;
        this.exclusive = exclusive;
        setReusePort(reusePort);
    }

    boolean reusesPort() {
        return reusePort;
    }

    boolean exclusive() {
        return exclusive;
    }

    @Override
    protected ServerSocketChannel openAcceptChannel() throws IOException {
        if (!reusePort) {
            return super.openAcceptChannel();
        }
        InetSocketAddress address =
                getHost() == null ? new InetSocketAddress(getPort()) : new InetSocketAddress(getHost(), getPort());
        if (exclusive && getPort() != 0) {
            // Nothing else may hold the port: a socket without SO_REUSEPORT cannot bind next to one that has it.
            try (ServerSocketChannel probe = ServerSocketChannel.open()) {
                probe.setOption(StandardSocketOptions.SO_REUSEADDR, getReuseAddress());
                probe.bind(address, 1);
            }
        }
        ServerSocketChannel channel = ServerSocketChannel.open();
        try {
            if (!channel.supportedOptions().contains(StandardSocketOptions.SO_REUSEPORT)) {
                throw new IOException("SO_REUSEPORT is not supported on this system (server.reuse-port needs Linux)");
            }
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, getReuseAddress());
            channel.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            channel.bind(address, getAcceptQueueSize());
            return channel;
        } catch (IOException | RuntimeException e) {
            IO.close(channel);
            throw e;
        }
    }

    @Override
    protected void doStart() throws Exception {
        configuredIdleTimeout = getIdleTimeout();
        if (reusePort) {
            open();
            ServerSocketChannel channel = (ServerSocketChannel) getTransport();
            channel.configureBlocking(false);
            Selector accepting = Selector.open();
            channel.register(accepting, SelectionKey.OP_ACCEPT);
            selector = accepting;
        }
        super.doStart();
    }

    @Override
    public void accept(int acceptorID) throws IOException {
        Selector accepting = selector;
        if (accepting == null) {
            super.accept(acceptorID);
            return;
        }
        ServerSocketChannel channel = (ServerSocketChannel) getTransport();
        if (channel == null || !channel.isOpen()) {
            throw new ClosedChannelException(); // ends the acceptor: the connector is closed
        }
        try {
            accepting.select();
            accepting.selectedKeys().clear();
        } catch (ClosedSelectorException e) {
            throw new ClosedChannelException();
        }
        // A spurious interrupt (Jetty interrupts acceptors when it stops) must not make select() spin.
        Thread.interrupted();
        SocketChannel connection;
        while ((connection = channel.accept()) != null) {
            lastAcceptNanos = System.nanoTime();
            connection.configureBlocking(false);
            configure(connection.socket());
            getSelectorManager().accept(connection);
        }
        CompletableFuture<Void> close = closeRequest;
        if (close != null) {
            // accept() just found the queue empty: close now, before another handshake can complete.
            IO.close(channel);
            IO.close(accepting);
            setAccepting(false); // the acceptor thread parks until the connector stops
            close.complete(null);
        }
    }

    /**
     * Hands over the open connections: responses from now on close their connection (HTTP/1
     * {@code Connection: close}, HTTP/2 GOAWAY), and connections idle for {@link #HAND_OVER_IDLE_MS} close.
     * Called once the listener is closed, so that clients reconnect to the other process.
     */
    void handOver() {
        handingOver = true;
        setIdleTimeout(Math.min(getIdleTimeout(), HAND_OVER_IDLE_MS)); // for connections accepted from now on
        for (EndPoint endPoint : getConnectedEndPoints()) {
            endPoint.setIdleTimeout(Math.min(endPoint.getIdleTimeout(), HAND_OVER_IDLE_MS));
            Connection connection = endPoint.getConnection();
            if (connection instanceof SslConnection tls) {
                connection = tls.getSslEndPoint().getConnection();
            }
            if (connection instanceof HTTP2Connection http2) {
                http2.getSession().shutdown(); // GOAWAY: the client opens its next streams elsewhere
            }
        }
        keepStreamsAlive();
    }

    /**
     * Jetty's graceful shutdown sends HTTP/2 sessions a GOAWAY and shortens every connection's idle timeout
     * to its shutdown idle timeout (1 s); an HTTP/2 session that is closing fails all its streams when that
     * expires, so a proxied stream whose backend is quiet for a second (a slow first byte, a long poll, a
     * gRPC stream) would be reset with {@code CANCEL} well within the grace. Connections that still carry
     * streams keep {@code server.idle-timeout}: the session closes by itself after its last stream, and
     * the grace ({@code server.shutdown-timeout}) still bounds it all. HTTP/1 connections keep Jetty's rule.
     */
    @Override
    public CompletableFuture<Void> shutdown() {
        CompletableFuture<Void> shutdown = super.shutdown();
        keepStreamsAlive();
        return shutdown;
    }

    private void keepStreamsAlive() {
        long idleTimeout = configuredIdleTimeout;
        for (EndPoint endPoint : getConnectedEndPoints()) {
            Connection connection = endPoint.getConnection();
            if (connection instanceof SslConnection tls) {
                connection = tls.getSslEndPoint().getConnection();
            }
            if (connection instanceof HTTP2Connection http2
                    && !http2.getSession().getStreams().isEmpty()
                    && endPoint.getIdleTimeout() < idleTimeout) {
                endPoint.setIdleTimeout(idleTimeout);
            }
        }
    }

    /**
     * Jetty's HTTP/1 connection sends {@code Connection: close} and closes after the response when its
     * connector is shut down; during the hand-over that is what we want, before Jetty's own shutdown
     * (which would also answer new requests 503).
     */
    @Override
    public boolean isShutdown() {
        return handingOver || super.isShutdown();
    }

    /** Nanoseconds since the last connection was accepted (or since the connector was made). */
    long nanosSinceLastAccept() {
        return System.nanoTime() - lastAcceptNanos;
    }

    /**
     * Accepts what is queued and closes the listening socket, on the acceptor thread; completes once
     * closed. Without {@code reusePort}, or when not started, closes at once.
     */
    CompletableFuture<Void> closeAfterDraining() {
        Selector accepting = selector;
        if (accepting == null || !isStarted()) {
            close();
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> close = new CompletableFuture<>();
        closeRequest = close;
        accepting.wakeup();
        return close;
    }

    @Override
    public void close() {
        Selector accepting = selector;
        if (accepting != null) {
            // Deregisters the channel at once, so that closing it releases the port now.
            IO.close(accepting);
        }
        super.close();
        CompletableFuture<Void> close = closeRequest;
        if (close != null) {
            close.complete(null);
        }
    }
}
