package dev.proxyfilter.forward;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.eclipse.jetty.http.Trailers;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.Callback;

/**
 * The backend's response body on its way to the client, one chunk at a time: read a chunk, write it, release it
 * once written, read the next; wait for the source's demand when it has none. One object per response is the
 * copy, the write callback and the demand callback, where {@code Content.copy} with a {@link ClientSink}, a
 * trailers handler and a completion callback made about ten (an {@code IteratingCallback} and its lock among them):
 * a quarter of a kilobyte per proxied request.
 *
 * <p>Trailers ({@link Trailers}, the last chunk of an HTTP/2 backend's body) go to {@link
 * ClientExchange#responseTrailers} just before that chunk ends the body as any last chunk does, so the adapter
 * sends them with the end of the response where its protocol allows.
 *
 * <p>Writes and demand callbacks may complete on the calling thread: {@link #iterate} then loops instead of
 * recursing (the state counts the wake-ups that came while a pass ran), as Jetty's {@code IteratingCallback}
 * does, without its lock.
 */
final class ResponseCopy implements Callback, Runnable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ResponseCopy.class);

    /** How the copy ended, told once. */
    interface Outcome {
        /** The last chunk is about to be written: the write that completes the client's response. */
        void lastWrite();

        /** The last chunk was written. */
        void copied();

        /**
         * The copy failed: a read from the backend, or a write to the client ({@code clientWrite}: the client
         * went away, not the backend's failure).
         */
        void copyFailed(Throwable failure, boolean clientWrite);
    }

    private final Content.Source source;
    private final ClientExchange client;
    /** Where chunks go instead of straight to the client (the cache's tee), or null. */
    private final Content.Sink sink;

    private final Outcome outcome;
    /** The chunk being written, released when its write completes. */
    private Content.Chunk current;

    private boolean ended;
    /** 0: no pass runs; 1: a pass runs; more: wake-ups came during the pass, which then goes round again. */
    private volatile int state;

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(ResponseCopy.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    ResponseCopy(Content.Source source, ClientExchange client, Content.Sink sink, Outcome outcome) {
        this.source = source;
        this.client = client;
        this.sink = sink;
        this.outcome = outcome;
    }

    /** Starts copying; the outcome hears how it ended. */
    void start() {
        iterate();
    }

    /** The source has a chunk to read. */
    @Override
    public void run() {
        iterate();
    }

    private void iterate() {
        if ((int) STATE.getAndAdd(this, 1) != 0) {
            return; // a pass runs: it goes round again
        }
        while (true) {
            try {
                step();
            } catch (Throwable failure) {
                // As IteratingCallback does for Content.copy: a read, a write or the outcome that throws ends the
                // copy as a failure, and the state still goes back to idle below.
                Content.Chunk held = current;
                current = null;
                if (held != null) {
                    held.release();
                }
                end(failure, false);
            }
            if (STATE.compareAndSet(this, 1, 0)) {
                return;
            }
            state = 1; // woken during the pass: once more
        }
    }

    /** One read: a write started, a demand made, or the end. */
    private void step() {
        if (ended || current != null) {
            return; // a write is under way: its completion wakes the copy
        }
        Content.Chunk chunk = source.read();
        if (chunk == null) {
            source.demand(this);
            return;
        }
        if (Content.Chunk.isFailure(chunk)) {
            end(chunk.getFailure(), false);
            return;
        }
        if (chunk instanceof Trailers trailers) {
            client.responseTrailers(trailers.getTrailers());
        }
        current = chunk;
        if (chunk.isLast()) {
            outcome.lastWrite();
        }
        if (sink == null) {
            client.write(chunk.isLast(), chunk.getByteBuffer(), this);
        } else {
            sink.write(chunk.isLast(), chunk.getByteBuffer(), this);
        }
    }

    /** The chunk's write completed. */
    @Override
    public void succeeded() {
        Content.Chunk written = current;
        current = null;
        written.release();
        if (written.isLast()) {
            ended = true;
            try {
                outcome.copied();
            } catch (Throwable failure) {
                LOG.warn("the end of the response copy failed", failure);
            }
            return;
        }
        iterate();
    }

    /** The chunk's write failed: the client went away (or, through the cache's tee, its sink failed). */
    @Override
    public void failed(Throwable failure) {
        Content.Chunk written = current;
        current = null;
        if (written != null) {
            written.release();
        }
        end(failure, sink == null);
    }

    private void end(Throwable failure, boolean clientWrite) {
        if (ended) {
            return;
        }
        ended = true;
        // The outcome first: a client that went away is marked so before the backend's exchange hears of it.
        try {
            outcome.copyFailed(failure, clientWrite);
        } finally {
            source.fail(failure);
        }
    }

    /** As the completion of {@code Content.copy}'s callback was: Jetty's default. */
    @Override
    public InvocationType getInvocationType() {
        return InvocationType.BLOCKING;
    }
}
