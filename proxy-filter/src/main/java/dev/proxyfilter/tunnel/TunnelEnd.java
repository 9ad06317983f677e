package dev.proxyfilter.tunnel;

import org.eclipse.jetty.io.Content;

/**
 * One side of a byte tunnel. What the peer sends is read by demand ({@link Content.Source}): a chunk, or
 * {@code null} and a {@link #demand} that runs when more may be read, so nothing is read faster than the
 * other side takes it. What goes to the peer is written one chunk at a time ({@link Content.Sink}): the
 * next write waits for the callback of the previous one. A write with {@code last} set ends the output
 * (the peer reads the end of its stream) where the transport can say so, and flushes otherwise.
 *
 * <p>Chunks returned by {@link #read} must be released once written; an end never holds more than the
 * chunk being read, so a tunnel buffers at most one chunk per direction.
 */
public interface TunnelEnd extends Content.Source, Content.Sink {
    /** Closes both directions at once: a pending read sees a failure, a pending write fails. Idempotent. */
    void close(Throwable cause);

    /** The reader gives up: the same as {@link #close}. */
    @Override
    default void fail(Throwable failure) {
        close(failure);
    }
}
