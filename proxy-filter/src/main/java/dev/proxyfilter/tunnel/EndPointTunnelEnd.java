package dev.proxyfilter.tunnel;

import java.io.EOFException;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.RetainableByteBuffer;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;

/**
 * A tunnel end on a Jetty {@link EndPoint}, installed as the endpoint's {@link Connection} once HTTP is done
 * with it ({@link EndPoint#upgrade}), as Jetty's {@code ConnectHandler} installs its tunnel connections.
 *
 * <p>A read fills one pooled buffer from the endpoint, and only when the tunnel asks ({@link #demand} asks the
 * selector for a read): a peer that sends faster than the other side takes stays in the kernel's socket
 * buffers, and then TCP slows it down. Bytes that arrived with the HTTP head (the backend's first frame right
 * behind its 101, a client's first frame right behind its request) come first.
 *
 * <p>The endpoint's own idle timeout does nothing here: the tunnel keeps its idle timeout over both
 * directions, and a graceful stop of the container, which lowers every endpoint's idle timeout, must not cut
 * a quiet tunnel before the grace ends.
 */
public final class EndPointTunnelEnd extends AbstractConnection implements TunnelEnd, Connection.UpgradeTo {
    /** One read: the size of the frames browsers send in one go, and a quarter of a large message. */
    static final int BUFFER_SIZE = 16 * 1024;

    private final ByteBufferPool buffers;
    private final Consumer<? super EndPointTunnelEnd> opened;
    /** Bytes read before the switch, to hand out first; read by the reader's thread only. */
    private ByteBuffer early;

    private boolean eof;
    private volatile Throwable failure;
    private volatile Runnable demand;
    /** {@link #WRITABLE}, {@link #HELD}, or a write held until {@link #releaseWrites}. */
    private final java.util.concurrent.atomic.AtomicReference<Object> writes =
            new java.util.concurrent.atomic.AtomicReference<>(WRITABLE);

    private static final Object WRITABLE = new Object();
    private static final Object HELD = new Object();

    /**
     * @param early  bytes that arrived behind the HTTP head, or null
     * @param opened told once the end is the endpoint's connection, or null
     */
    public EndPointTunnelEnd(
            EndPoint endPoint,
            Executor executor,
            ByteBufferPool buffers,
            ByteBuffer early,
            Consumer<? super EndPointTunnelEnd> opened) {
        super(endPoint, executor);
        this.buffers = buffers;
        this.early = BufferUtil.hasContent(early) ? early : null;
        this.opened = opened;
    }

    /** What the previous connection read and did not use (a client's first frame), before {@link #onOpen}. */
    @Override
    public void onUpgradeTo(ByteBuffer buffer) {
        if (BufferUtil.hasContent(buffer)) {
            ByteBuffer copy = BufferUtil.allocate(buffer.remaining() + (early == null ? 0 : early.remaining()));
            BufferUtil.append(copy, buffer);
            if (early != null) {
                BufferUtil.append(copy, early);
            }
            early = copy;
        }
    }

    @Override
    public void onOpen() {
        super.onOpen();
        if (opened != null) {
            opened.accept(this);
        }
    }

    // ---- Content.Source: what the peer sends ----

    @Override
    public Content.Chunk read() {
        Throwable failed = failure;
        if (failed != null) {
            return Content.Chunk.from(failed, true);
        }
        ByteBuffer first = early;
        if (first != null) {
            early = null;
            return Content.Chunk.from(first, false);
        }
        if (eof) {
            return Content.Chunk.EOF;
        }
        RetainableByteBuffer buffer = buffers.acquire(BUFFER_SIZE, false);
        try {
            int filled = getEndPoint().fill(buffer.getByteBuffer());
            if (filled > 0) {
                return Content.Chunk.asChunk(buffer.getByteBuffer(), false, buffer);
            }
            buffer.release();
            if (filled == 0) {
                return null;
            }
            eof = true;
            return Content.Chunk.EOF;
        } catch (Throwable x) {
            buffer.release();
            failure = x;
            return Content.Chunk.from(x, true);
        }
    }

    @Override
    public void demand(Runnable demandCallback) {
        if (failure != null || early != null) {
            demandCallback.run();
            return;
        }
        demand = demandCallback;
        if (!getEndPoint().isOpen()) {
            wake(new EOFException("connection closed"));
            return;
        }
        if (!isFillInterested()) {
            fillInterested(); // one reader, one demand at a time: never a read pending already
        }
    }

    @Override
    public void onFillable() {
        Runnable demanded = demand;
        demand = null;
        if (demanded != null) {
            demanded.run();
        }
    }

    @Override
    public void onFillInterestedFailed(Throwable cause) {
        wake(cause);
    }

    /** The tunnel has its own idle timeout over both directions; the endpoint's is ignored. */
    @Override
    public boolean onIdleExpired(TimeoutException timeout) {
        return false;
    }

    @Override
    public void onClose(Throwable cause) {
        super.onClose(cause);
        wake(cause != null ? cause : new EOFException("connection closed"));
    }

    /** A reader waiting for bytes learns of the failure by its next read. */
    private void wake(Throwable cause) {
        if (failure == null) {
            failure = cause;
        }
        Runnable demanded = demand;
        demand = null;
        if (demanded != null) {
            demanded.run();
        }
    }

    // ---- Content.Sink: what goes to the peer ----

    /**
     * Holds writes back until {@link #releaseWrites}: the previous connection's last write (an HTTP request
     * head) may still be completing, and a second write on the endpoint meanwhile would fail.
     */
    public void holdWrites() {
        writes.compareAndSet(WRITABLE, HELD);
    }

    /** Lets writes go, the one held first. Idempotent. */
    public void releaseWrites() {
        Object state = writes.getAndSet(WRITABLE);
        if (state instanceof Runnable held) {
            held.run();
        }
    }

    @Override
    public void write(boolean last, ByteBuffer content, Callback callback) {
        if (writes.get() != WRITABLE) {
            Runnable held = () -> write(last, content, callback);
            if (writes.compareAndSet(HELD, held)) {
                return; // releaseWrites() runs it
            }
        }
        if (content != null && content.hasRemaining()) {
            getEndPoint().write(last ? new ShutdownAfter(callback) : callback, content);
        } else {
            if (last) {
                getEndPoint().shutdownOutput();
            }
            callback.succeeded();
        }
    }

    /** The last write's callback: the output ends once the bytes are out. */
    private final class ShutdownAfter extends Callback.Nested {
        ShutdownAfter(Callback callback) {
            super(callback);
        }

        @Override
        public void succeeded() {
            getEndPoint().shutdownOutput();
            super.succeeded();
        }
    }

    @Override
    public void close(Throwable cause) {
        getEndPoint().close(cause);
    }

    @Override
    public String toConnectionString() {
        EndPoint endPoint = getEndPoint();
        return "EndPointTunnelEnd@" + Integer.toHexString(hashCode()) + "[l:" + endPoint.getLocalSocketAddress()
                + "<=>r:" + endPoint.getRemoteSocketAddress() + "]";
    }
}
