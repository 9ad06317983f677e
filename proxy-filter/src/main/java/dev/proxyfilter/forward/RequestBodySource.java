package dev.proxyfilter.forward;

import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * The client's request body as the upstream request's content. A retry may reuse it as long as
 * no byte was read; a failure before that does not fail the client's stream.
 *
 * <p>Once the exchange ends ({@link #close}), no read or demand reaches the client's source any more,
 * and none is in progress: a backend may answer before it read the whole body (an early 413, or any
 * answer that does not need the body), and the container then consumes or discards the rest of the
 * body on its own thread as the response completes. A read of ours racing that one broke the
 * container's framing of the connection: the rest of a body parsed as the client's next request (400),
 * and a short body sent upstream on a connection that was then reused.
 */
final class RequestBodySource implements Content.Source {
    /** What a read gets once the exchange ended: the upstream request, if still going, fails. */
    private static final Content.Chunk CLOSED =
            Content.Chunk.from(new java.io.IOException("the exchange ended before the request body was read"), true);

    private final ClientExchange client;
    private final long maxBytes;
    private Content.Source source;
    private volatile boolean started;
    /** Bytes read so far; HttpClient reads one chunk at a time. */
    private long received;

    volatile boolean finished;
    volatile Scheduler.Task timer;
    /** Set under this object's lock, which every read and demand of the client's source holds. */
    private boolean closed;

    RequestBodySource(ClientExchange client, long maxBytes) {
        this.client = client;
        this.maxBytes = maxBytes;
    }

    boolean started() {
        return started;
    }

    private Content.Source source() {
        if (source == null) {
            source = client.requestBody();
        }
        return source;
    }

    @Override
    public long getLength() {
        return client.requestContentLength();
    }

    /** No read or demand reaches the client's source after this returns, and none is in progress. */
    synchronized void close() {
        closed = true;
    }

    /** Counts the body as it streams: past {@code max-body-bytes} the upstream request fails (413). One chunk at a time. */
    @Override
    public synchronized Content.Chunk read() {
        if (closed) {
            return CLOSED;
        }
        started = true;
        Content.Chunk chunk = source().read();
        if (chunk == null) {
            return null;
        }
        if (Content.Chunk.isFailure(chunk)) {
            // The client's side failed (bad chunk framing, idle timeout, gone): not the backend's fault.
            return Content.Chunk.from(RequestBodyException.unreadable(chunk.getFailure()));
        }
        received += chunk.remaining();
        if (maxBytes > 0 && received > maxBytes) {
            chunk.release();
            RequestBodyException failure = new RequestBodyException(
                    413, RequestChecks.tooLarge(maxBytes).message());
            source().fail(failure);
            return Content.Chunk.from(failure);
        }
        if (chunk.isLast()) {
            finished = true;
            Scheduler.Task task = timer;
            if (task != null) {
                task.cancel();
            }
        }
        return chunk;
    }

    @Override
    public void demand(Runnable demandCallback) {
        synchronized (this) {
            if (!closed) {
                started = true;
                source().demand(demandCallback);
                return;
            }
        }
        demandCallback.run(); // reads CLOSED
    }

    @Override
    public synchronized void fail(Throwable failure) {
        if (started && !closed) {
            source().fail(failure);
        }
    }

    @Override
    public boolean rewind() {
        return !started;
    }
}
