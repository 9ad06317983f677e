package dev.proxyfilter.upstream;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * One request to one backend and its response. Built by {@link UpstreamClient#newExchange}, filled in
 * ({@link #requestHeaders()}, {@link #body}, timeouts), then {@link #send sent} once.
 *
 * <p>The exchange is also the response body's {@link Content.Source} that {@link
 * UpstreamListener#onContentSource} hands out: it reads through the connection while the exchange owns
 * it, so a reader that comes back after the end gets the end (or the failure), never the next exchange's
 * bytes.
 */
public final class UpstreamExchange implements Content.Source {
    final ExchangeRoute destination;
    final String method;
    final String target;
    final boolean head;
    private HttpFields.Mutable requestHeaders;
    Content.Source body;
    long bodyLength = -1;
    long idleTimeoutMillis;
    private long timeoutMillis;
    UpstreamListener listener;

    /** Null while running, then {@link #SUCCESS} or the failure: set once, before the listener hears it. */
    private volatile Object outcome;

    private static final Object SUCCESS = new Object();
    /**
     * Keeps the listener's calls apart: {@link UpstreamListener#onComplete} never runs during, or before
     * the end of, an {@code onHeaders} or {@code onContentSource} call on another thread (an abort racing
     * the response), and neither of those starts once the exchange has completed. A completion that comes
     * during a call is left to the calling thread, which delivers it as the call returns.
     */
    private volatile int delivery;

    private static final int IDLE = 0, CALLING = 1, COMPLETION_PENDING = 2, COMPLETED = 3;
    private volatile Throwable abortCause;
    /** A reader's demand made while the exchange is between its connection and its outcome. */
    private volatile Runnable parkedDemand;
    /** The connection that carries the exchange; null while queued or connecting. */
    private volatile ExchangeCarrier connection;

    private Scheduler.Task timeoutTask;
    /** Times the exchange was sent again after a reused connection died under it before any response byte. */
    int resends;
    /** Safe to send twice (RFC 9110 §9.2.2): only such exchanges are resent after a stale connection. */
    final boolean idempotent;

    int status;
    HttpFields.Mutable responseHeaders;

    /** The request asks to switch protocols: a 101 turns the connection into a tunnel instead of failing. */
    boolean upgrade;
    /** The backend's side of the tunnel after its 101, until the listener takes it. */
    private volatile dev.proxyfilter.tunnel.TunnelEnd upgraded;

    // The four fields above are updated through VarHandles, not Atomic* objects: four objects fewer per exchange.
    private static final java.lang.invoke.VarHandle OUTCOME;
    private static final java.lang.invoke.VarHandle DELIVERY;
    private static final java.lang.invoke.VarHandle PARKED_DEMAND;
    private static final java.lang.invoke.VarHandle UPGRADED;

    static {
        try {
            java.lang.invoke.MethodHandles.Lookup lookup = java.lang.invoke.MethodHandles.lookup();
            OUTCOME = lookup.findVarHandle(UpstreamExchange.class, "outcome", Object.class);
            DELIVERY = lookup.findVarHandle(UpstreamExchange.class, "delivery", int.class);
            PARKED_DEMAND = lookup.findVarHandle(UpstreamExchange.class, "parkedDemand", Runnable.class);
            UPGRADED = lookup.findVarHandle(UpstreamExchange.class, "upgraded", dev.proxyfilter.tunnel.TunnelEnd.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    UpstreamExchange(ExchangeRoute destination, String method, String target) {
        this.destination = destination;
        this.method = method;
        this.target = target;
        this.head = "HEAD".equals(method);
        this.idempotent = isIdempotent(method);
    }

    /** Whether {@code method} is idempotent (RFC 9110 §9.2.2): safe to send twice. */
    public static boolean isIdempotent(String method) {
        return switch (method) {
            case "GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE" -> true;
            default -> false;
        };
    }

    /** The request headers to send; {@code Host} is added when absent, framing headers follow {@link #body}. */
    public HttpFields.Mutable requestHeaders() {
        return requestHeaders(16);
    }

    /**
     * As {@link #requestHeaders()}, made with room for {@code expected} fields if this is the first call: a
     * caller that copies the client's fields knows how many there will be.
     */
    public HttpFields.Mutable requestHeaders(int expected) {
        HttpFields.Mutable fields = requestHeaders;
        if (fields == null) {
            fields = HttpFields.build(expected);
            requestHeaders = fields;
        }
        return fields;
    }

    /**
     * The request body, read by demand. {@code length} is its size, or -1 when unknown: then the body is
     * sent chunked.
     */
    public UpstreamExchange body(Content.Source body, long length) {
        this.body = body;
        this.bodyLength = length;
        return this;
    }

    /**
     * Lets a 101 (Switching Protocols) answer this request: the connection then leaves its pool for good and
     * becomes a tunnel, which {@link #takeTunnel} hands over in {@link UpstreamListener#onHeaders}; the
     * exchange then completes. The caller sends the {@code Upgrade} and {@code Connection} headers itself.
     * Without this, a 101 fails the exchange.
     */
    public UpstreamExchange upgrade() {
        this.upgrade = true;
        return this;
    }

    /**
     * The backend's side of the tunnel once it answered 101 to an {@link #upgrade} request, or null: from
     * {@link UpstreamListener#onHeaders} on, and once. Whoever takes it closes it; one nobody takes by the
     * end of {@code onHeaders} is closed.
     */
    public dev.proxyfilter.tunnel.TunnelEnd takeTunnel() {
        return (dev.proxyfilter.tunnel.TunnelEnd) UPGRADED.getAndSet(this, (dev.proxyfilter.tunnel.TunnelEnd) null);
    }

    void tunnel(dev.proxyfilter.tunnel.TunnelEnd end) {
        upgraded = end;
    }

    /** Longest silence on the connection while this exchange runs; 0 keeps the client's default. */
    public UpstreamExchange idleTimeout(long millis) {
        this.idleTimeoutMillis = millis;
        return this;
    }

    /** Longest time from {@link #send} to the end of the response; 0 for none. */
    public UpstreamExchange timeout(long millis) {
        this.timeoutMillis = millis;
        return this;
    }

    /** Sends the request: on a pooled connection, a new one, or after queueing for one. */
    public void send(UpstreamListener listener) {
        this.listener = listener;
        if (timeoutMillis > 0) {
            timeoutTask = destination
                    .scheduler()
                    .schedule(
                            () -> abort(new TimeoutException("Total timeout " + timeoutMillis + " ms elapsed")),
                            timeoutMillis,
                            TimeUnit.MILLISECONDS);
        }
        destination.send(this);
    }

    /**
     * Ends the exchange with {@code cause}, closing its connection if it has one (a half-read response
     * cannot be reused). Returns false when the exchange had already ended.
     */
    public boolean abort(Throwable cause) {
        if (outcome != null) {
            return false;
        }
        synchronized (this) {
            if (abortCause != null) {
                return false; // another abort came first
            }
            abortCause = cause;
        }
        ExchangeCarrier carrier = connection;
        if (carrier != null) {
            carrier.failExchange(this, cause);
        } else {
            destination.dequeue(this);
            failed(cause);
        }
        // The exchange has ended by now, with this cause unless it ended well first.
        return outcome == cause;
    }

    /** What {@link #abort} was first called with, or null. */
    public Throwable abortCause() {
        return abortCause;
    }

    /** The backend's status, once {@link UpstreamListener#onHeaders} was called. */
    public int status() {
        return status;
    }

    /**
     * The backend's response headers, once {@link UpstreamListener#onHeaders} was called: this exchange's own,
     * made for this response, which the listener may edit in place into the client's.
     */
    public HttpFields.Mutable responseHeaders() {
        return responseHeaders;
    }

    boolean isCompleted() {
        return outcome != null;
    }

    /** Binds the exchange to a connection; false if it ended meanwhile (an abort while it was queued). */
    synchronized boolean attach(ExchangeCarrier carrier) {
        if (outcome != null || abortCause != null) {
            return false;
        }
        connection = carrier;
        return true;
    }

    synchronized void detach() {
        connection = null;
    }

    void succeed() {
        Throwable aborted = abortCause;
        if (aborted != null) {
            failed(aborted); // abort() said it would end the exchange: it does, even if the response just ended
            return;
        }
        if (OUTCOME.compareAndSet(this, (Object) null, (Object) SUCCESS)) {
            cancelTimeout();
            complete(null);
            runParkedDemand();
        }
    }

    void failed(Throwable cause) {
        Throwable aborted = abortCause;
        Throwable reason = aborted != null ? aborted : cause; // an abort's cause wins over what it caused
        if (OUTCOME.compareAndSet(this, (Object) null, (Object) reason)) {
            cancelTimeout();
            complete(reason);
            runParkedDemand();
        }
    }

    /**
     * A demand while no connection carries the exchange: run now if the outcome is known, else when it
     * is (a reader that got {@code null} must not spin on demand and read meanwhile).
     */
    void demandDetached(Runnable demandCallback) {
        if (outcome != null) {
            demandCallback.run();
            return;
        }
        parkedDemand = demandCallback;
        if (outcome != null && PARKED_DEMAND.compareAndSet(this, (Runnable) demandCallback, (Runnable) null)) {
            demandCallback.run();
        }
    }

    private void runParkedDemand() {
        Runnable parked = (Runnable) PARKED_DEMAND.getAndSet(this, (Runnable) null);
        if (parked != null) {
            parked.run();
        }
    }

    /**
     * Before {@code onHeaders} or {@code onContentSource}: false when the exchange has completed (or is
     * completing) and the listener must not hear of it any more. A true return must be paired with {@link
     * #exitCallback}.
     */
    boolean enterCallback() {
        return DELIVERY.compareAndSet(this, IDLE, CALLING);
    }

    /** After {@code onHeaders} or {@code onContentSource}: delivers a completion that came meanwhile. */
    void exitCallback() {
        if (!DELIVERY.compareAndSet(this, CALLING, IDLE)) {
            delivery = COMPLETED; // was COMPLETION_PENDING: this thread now owns the completion
            Object ended = outcome;
            notifyComplete(ended instanceof Throwable failure ? failure : null);
        }
    }

    private void complete(Throwable cause) {
        while (true) {
            int state = delivery;
            if (state == IDLE) {
                if (DELIVERY.compareAndSet(this, IDLE, COMPLETED)) {
                    notifyComplete(cause);
                    return;
                }
            } else if (state == CALLING) {
                if (DELIVERY.compareAndSet(this, CALLING, COMPLETION_PENDING)) {
                    return; // the thread in the listener delivers it on its way out
                }
            } else {
                return;
            }
        }
    }

    private void notifyComplete(Throwable cause) {
        try {
            listener.onComplete(this, cause);
        } catch (Throwable x) {
            // The exchange has ended whatever the listener does: its failure is its own.
            org.slf4j.LoggerFactory.getLogger(UpstreamExchange.class).warn("onComplete of {} failed", this, x);
        }
    }

    private void cancelTimeout() {
        Scheduler.Task task = timeoutTask;
        if (task != null) {
            task.cancel();
        }
    }

    // ---- Content.Source: the response body ----

    @Override
    public Content.Chunk read() {
        Object ended = outcome;
        if (ended instanceof Throwable failed) {
            return Content.Chunk.from(failed, true);
        }
        ExchangeCarrier carrier = connection;
        if (carrier == null) {
            return ended == SUCCESS ? Content.Chunk.EOF : null;
        }
        return carrier.read(this);
    }

    @Override
    public void demand(Runnable demandCallback) {
        ExchangeCarrier carrier = connection;
        if (carrier == null) {
            demandDetached(demandCallback);
        } else {
            carrier.demand(this, demandCallback);
        }
    }

    /** The reader gives up on the body: the exchange is aborted. */
    @Override
    public void fail(Throwable cause) {
        abort(cause);
    }

    @Override
    public String toString() {
        return "UpstreamExchange[" + method + " " + destination + target + "]";
    }
}
