package dev.proxyfilter.forward;

import dev.proxyfilter.balance.Backend;
import dev.proxyfilter.metrics.TunnelMetrics;
import dev.proxyfilter.time.ProxyClock;
import dev.proxyfilter.tunnel.TunnelEnd;
import java.io.EOFException;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.IteratingCallback;
import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Step 9 of the pipeline: a WebSocket upgrade that the backend accepted becomes a byte tunnel between the
 * client's connection and the backend's, with no frame parsed.
 *
 * <h2>When</h2>
 * A {@code GET} over HTTP/1.1 without a body, whose {@code Upgrade} is exactly {@code websocket} and whose
 * {@code Connection} names {@code upgrade} ({@link #requested}), on a route with {@code route.NAME.websocket}
 * (default true), in an adapter that can hand its connection over ({@link ClientExchange#upgradable}). Such a
 * request goes through every step before like any other (route, checks, security, admission, the pool's
 * strategy and affinity), skips the cache, takes a place under {@code proxy.max-tunnels} and {@code
 * route.NAME.max-tunnels} ({@link Tunnels}; none left is 503) and is forwarded with its {@code Upgrade} and
 * {@code Connection: Upgrade} ({@link #clientToServer}); the {@code Sec-WebSocket-*} headers are end-to-end and
 * go as they are. Any other upgrade (h2c, a second token) is forwarded without {@code Upgrade}, as before.
 * An HTTP/2 client asks with RFC 8441's extended {@code CONNECT} instead, which {@link ExtendedConnect} turns
 * into such an upgrade towards the backend; the client then gets 200 on its stream instead of the 101, and
 * the stream is the client's end.
 *
 * <h2>Switching</h2>
 * A 101 takes the backend's connection out of its pool for good ({@code UpstreamExchange.takeTunnel}); the
 * client gets the 101 with the backend's headers and {@code Upgrade}/{@code Connection} put back ({@link
 * #serverToClient}), and the adapter hands the client's connection over once the 101 is out ({@link
 * ClientExchange#upgrade}, which completes this tunnel as a {@link Promise}). Any other answer goes to the
 * client as a normal response, and the place is given back.
 *
 * <h2>Copying</h2>
 * Two {@link Pipe}s, one per direction, each reading one chunk from one end, writing it to the other and
 * reading the next only once that write completed: a slow reader on either side stops the reads on the
 * other, whose peer then fills its socket buffers and TCP throttles it. At most one chunk per direction is in
 * the proxy. The end of one direction (a peer's FIN) ends the other's output, and the other direction gets
 * {@link #LINGER_MILLIS} to end too (the WebSocket close handshake has ended by then); a failure in either
 * direction closes both connections.
 *
 * <h2>Lifecycle</h2>
 * The tunnel keeps what its upgrade request held: the backend's count of requests in flight (least-request
 * sees it; a drained or removed backend keeps its tunnels, and gets no new ones from the strategy) and its
 * slot under {@code max-connections}, and the generation it started on stays alive until it closes, so a
 * reload keeps it on its backend. {@code proxy.websocket-idle-timeout} without a byte either way closes it.
 * A graceful close of the engine waits for tunnels up to the grace, then closes those left.
 */
final class Tunnel implements Promise<TunnelEnd> {
    private static final Logger LOG = LoggerFactory.getLogger(Tunnel.class);

    /** How long the client's connection may take to reach the tunnel once the 101 is handed to the adapter. */
    static final long HANDOVER_MILLIS = 30_000;
    /** How long the other direction has to end once one has ended. */
    static final long LINGER_MILLIS = 10_000;

    private final Tunnels tunnels;
    private final Tunnels.Place place;
    private final TunnelEnd server;
    private final TunnelMetrics.Series metrics;
    private final Runnable onClose;
    private final Scheduler scheduler;
    private final ProxyClock clock;
    private final long idleNanos;
    private final String name;

    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicInteger directionsEnded = new AtomicInteger();
    private volatile TunnelEnd client;
    private volatile long lastActive;
    private volatile long lingerUntil;
    private volatile Scheduler.Task timer;

    /**
     * A tunnel waiting for the client's end; the backend's end is open already.
     *
     * @param onClose runs once when the tunnel closes: gives back what the upgrade request held on its backend
     */
    Tunnel(
            ProxyEngine engine,
            ForwardRoute route,
            Backend backend,
            TunnelEnd server,
            Tunnels.Place place,
            Runnable onClose) {
        this.tunnels = engine.tunnels();
        this.place = place;
        this.server = server;
        this.onClose = onClose;
        this.scheduler = engine.scheduler();
        this.clock = engine.clock();
        this.idleNanos = TimeUnit.MILLISECONDS.toNanos(route.tunnelIdleMillis());
        this.metrics =
                engine.metrics().tunnels().series(route.name(), route.pool().name(), backend.name());
        this.name = route.name() + " -> " + route.pool().name() + "/" + backend.name();
        this.lastActive = clock.nanoTime();
        metrics.onOpen();
        tunnels.opened(this);
        timer = scheduler.schedule(this::handoverTimedOut, HANDOVER_MILLIS, TimeUnit.MILLISECONDS);
    }

    // ---- When: the request, and the headers both ways ----

    /**
     * Whether the client asks for a WebSocket tunnel: a {@code GET} over HTTP/1.1 without a body, {@code
     * Upgrade: websocket} (that token alone, in any case) and {@code upgrade} among the {@code Connection}
     * tokens (RFC 6455 section 4.1). Anything else is forwarded as a plain request, without {@code Upgrade}.
     */
    static boolean requested(ClientExchange client) {
        if (!"GET".equals(client.method()) || !"HTTP/1.1".equals(client.protocol()) || client.hasRequestBody()) {
            return false;
        }
        HttpFields headers = client.requestHeaders();
        String upgrade = null;
        boolean connectionUpgrade = false;
        for (int i = 0, n = headers.size(); i < n; i++) { // by index: no iterator per request
            HttpField field = headers.getField(i);
            HttpHeader header = field.getHeader();
            if (header == HttpHeader.UPGRADE) {
                if (upgrade != null) {
                    return false; // one Upgrade field, one token
                }
                upgrade = field.getValue();
            } else if (header == HttpHeader.CONNECTION && field.contains(HttpHeaderValue.UPGRADE.asString())) {
                connectionUpgrade = true;
            }
        }
        return connectionUpgrade
                && upgrade != null
                && upgrade.strip().toLowerCase(Locale.ROOT).equals("websocket");
    }

    /** The hop-by-hop headers the backend needs to switch, which {@link ForwardHeaders} drops from any request. */
    static void clientToServer(ClientExchange client, HttpFields.Mutable out) {
        out.put(
                HttpHeader.UPGRADE,
                client.requestHeaders().get(HttpHeader.UPGRADE).strip());
        out.put(HttpHeader.CONNECTION, HttpHeaderValue.UPGRADE.asString());
    }

    /** The backend's {@code Upgrade} and {@code Connection: Upgrade}, which {@link ForwardHeaders} drops from a response. */
    static void serverToClient(HttpFields backend, HttpFields.Mutable out) {
        String upgrade = backend.get(HttpHeader.UPGRADE);
        out.put(HttpHeader.UPGRADE, upgrade == null ? "websocket" : upgrade);
        out.put(HttpHeader.CONNECTION, HttpHeaderValue.UPGRADE.asString());
    }

    // ---- Switching: the client's end arrives ----

    /** The adapter handed the client's connection over: copying starts both ways. */
    @Override
    public void succeeded(TunnelEnd clientEnd) {
        client = clientEnd;
        if (closed.get()) {
            clientEnd.close(new EOFException("tunnel closed"));
            return;
        }
        cancelTimer();
        lastActive = clock.nanoTime();
        scheduleCheck(idleNanos);
        LOG.debug("tunnel open: {}", name);
        new Pipe(clientEnd, server, true).iterate();
        new Pipe(server, clientEnd, false).iterate();
    }

    /** The adapter could not hand the connection over (the client went away before the 101 was out). */
    @Override
    public void failed(Throwable failure) {
        close(failure);
    }

    private void handoverTimedOut() {
        if (client == null) {
            close(new TimeoutException(
                    "the client's connection did not reach the tunnel within " + HANDOVER_MILLIS + " ms of the 101"));
        }
    }

    // ---- Copying ----

    /** One direction: read a chunk, write it, release it, read the next; the end of the input ends the output. */
    private final class Pipe extends IteratingCallback {
        private final TunnelEnd from;
        private final TunnelEnd to;
        private final boolean toBackend;
        private Content.Chunk chunk;
        /** Bytes of the chunk being written, counted once the write completed. */
        private int pending;

        private boolean last;

        Pipe(TunnelEnd from, TunnelEnd to, boolean toBackend) {
            this.from = from;
            this.to = to;
            this.toBackend = toBackend;
        }

        @Override
        protected Action process() {
            if (last) {
                return Action.SUCCEEDED;
            }
            Content.Chunk read = from.read();
            if (read == null) {
                from.demand(this::iterate);
                return Action.IDLE;
            }
            if (Content.Chunk.isFailure(read)) {
                throw new PipeFailure(read.getFailure());
            }
            chunk = read;
            last = read.isLast();
            pending = read.remaining();
            if (pending > 0) {
                lastActive = clock.nanoTime();
            }
            to.write(last, read.getByteBuffer(), this);
            return Action.SCHEDULED;
        }

        @Override
        protected void onSuccess() {
            Content.Chunk written = chunk;
            chunk = null;
            if (written != null) {
                written.release();
            }
            if (pending > 0) {
                if (toBackend) {
                    metrics.toBackend(pending);
                } else {
                    metrics.toClient(pending);
                }
                pending = 0;
            }
        }

        @Override
        protected void onCompleteSuccess() {
            directionEnded();
        }

        @Override
        protected void onCompleteFailure(Throwable cause) {
            Content.Chunk written = chunk;
            chunk = null;
            if (written != null) {
                written.release();
            }
            Tunnel.this.close(cause instanceof PipeFailure failure ? failure.getCause() : cause);
        }
    }

    /** A read failed: not a write failure, but it ends the tunnel the same way. */
    private static final class PipeFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        PipeFailure(Throwable cause) {
            super(cause.getMessage(), cause, false, false);
        }
    }

    private void directionEnded() {
        if (directionsEnded.incrementAndGet() == 2) {
            close(null);
            return;
        }
        lingerUntil = clock.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LINGER_MILLIS);
        scheduleCheck(TimeUnit.MILLISECONDS.toNanos(LINGER_MILLIS));
    }

    // ---- Idle and linger ----

    private synchronized void scheduleCheck(long delayNanos) {
        if (closed.get()) {
            return;
        }
        Scheduler.Task previous = timer;
        if (previous != null) {
            previous.cancel();
        }
        timer = scheduler.schedule(this::check, Math.max(1, delayNanos), TimeUnit.NANOSECONDS);
    }

    private void check() {
        if (closed.get()) {
            return;
        }
        long now = clock.nanoTime();
        long idleFor = now - lastActive;
        if (idleFor >= idleNanos) {
            close(new TimeoutException("WebSocket tunnel idle for " + TimeUnit.NANOSECONDS.toMillis(idleNanos)
                    + " ms (proxy.websocket-idle-timeout)"));
            return;
        }
        long next = idleNanos - idleFor;
        long linger = lingerUntil;
        if (linger != 0) {
            if (now - linger >= 0) {
                close(null); // one direction ended long enough ago: the other will not now
                return;
            }
            next = Math.min(next, linger - now);
        }
        scheduleCheck(next);
    }

    private synchronized void cancelTimer() {
        Scheduler.Task task = timer;
        timer = null;
        if (task != null) {
            task.cancel();
        }
    }

    // ---- Closing ----

    /** Closes both connections and gives back what the tunnel held; once. {@code cause} null: a normal end. */
    void close(Throwable cause) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        cancelTimer();
        if (cause == null) {
            LOG.debug("tunnel closed: {}", name);
        } else {
            LOG.debug("tunnel closed: {}: {}", name, cause.toString());
        }
        TunnelEnd clientEnd = client;
        try {
            if (clientEnd != null) {
                clientEnd.close(cause);
            }
            server.close(cause);
        } finally {
            tunnels.closed(this);
            metrics.onClose();
            try {
                onClose.run();
            } finally {
                place.release();
            }
        }
    }

    @Override
    public String toString() {
        return "Tunnel[" + name + (closed.get() ? ", closed" : "") + "]";
    }
}
