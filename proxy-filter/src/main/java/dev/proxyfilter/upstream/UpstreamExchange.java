package dev.proxyfilter.upstream;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
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
    final UpstreamClient.Destination destination;
    final String method;
    final String target;
    final boolean head;
    private final HttpFields.Mutable requestHeaders = HttpFields.build(24);
    Content.Source body;
    long bodyLength = -1;
    long idleTimeoutMillis;
    private long timeoutMillis;
    UpstreamListener listener;

    /** Guards the hand-over between the pool, a connection and an abort. */
    private final AtomicBoolean completed = new AtomicBoolean();
    private volatile Throwable abortCause;
    private volatile Throwable failure;
    /** The connection that carries the exchange; null while queued or connecting. */
    private volatile UpstreamConnection connection;
    private Scheduler.Task timeoutTask;
    /** Set once the exchange was sent again on a new connection after a pooled one proved stale. */
    boolean resent;

    int status;
    HttpFields.Mutable responseHeaders;

    UpstreamExchange(UpstreamClient.Destination destination, String method, String target) {
        this.destination = destination;
        this.method = method;
        this.target = target;
        this.head = "HEAD".equals(method);
    }

    /** The request headers to send; {@code Host} is added when absent, framing headers follow {@link #body}. */
    public HttpFields.Mutable requestHeaders() {
        return requestHeaders;
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
            timeoutTask = destination.client.scheduler().schedule(() -> abort(new TimeoutException(
                    "Total timeout " + timeoutMillis + " ms elapsed")), timeoutMillis, TimeUnit.MILLISECONDS);
        }
        destination.send(this);
    }

    /**
     * Ends the exchange with {@code cause}, closing its connection if it has one (a half-read response
     * cannot be reused). Returns false when the exchange had already ended.
     */
    public boolean abort(Throwable cause) {
        if (completed.get()) {
            return false;
        }
        synchronized (this) {
            if (abortCause == null) {
                abortCause = cause;
            }
        }
        UpstreamConnection carrier = connection;
        if (carrier != null) {
            carrier.failExchange(this, cause);
        } else {
            destination.dequeue(this);
            failed(cause);
        }
        return true;
    }

    /** What {@link #abort} was first called with, or null. */
    public Throwable abortCause() {
        return abortCause;
    }

    /** The backend's status, once {@link UpstreamListener#onHeaders} was called. */
    public int status() {
        return status;
    }

    /** The backend's response headers, once {@link UpstreamListener#onHeaders} was called. */
    public HttpFields responseHeaders() {
        return responseHeaders;
    }

    boolean isCompleted() {
        return completed.get();
    }

    /** Binds the exchange to a connection; false if it ended meanwhile (an abort while it was queued). */
    synchronized boolean attach(UpstreamConnection carrier) {
        if (completed.get() || abortCause != null) {
            return false;
        }
        connection = carrier;
        return true;
    }

    synchronized void detach() {
        connection = null;
    }

    void succeed() {
        if (completed.compareAndSet(false, true)) {
            cancelTimeout();
            listener.onComplete(this, null);
        }
    }

    void failed(Throwable cause) {
        if (completed.compareAndSet(false, true)) {
            failure = cause;
            cancelTimeout();
            listener.onComplete(this, cause);
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
        Throwable failed = failure;
        if (failed != null) {
            return Content.Chunk.from(failed, true);
        }
        UpstreamConnection carrier = connection;
        if (carrier == null) {
            return completed.get() ? Content.Chunk.EOF : null;
        }
        return carrier.read(this);
    }

    @Override
    public void demand(Runnable demandCallback) {
        UpstreamConnection carrier = connection;
        if (carrier == null || failure != null) {
            demandCallback.run(); // nothing to wait for: the end or the failure is there to read
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
