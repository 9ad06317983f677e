package dev.proxyfilter.servlet;

import dev.proxyfilter.tunnel.TunnelEnd;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.WebConnection;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.Callback;

/**
 * A tunnel end on an upgraded servlet connection ({@link WebConnection}), with Servlet non-blocking I/O both
 * ways: what the client sends is read as the request body is ({@link ServletRequestSource}, a read only when
 * the tunnel asks), and each write completes once the container took its bytes ({@code isReady()}), so that a
 * slow client holds back the backend instead of filling memory. The Servlet API cannot half-close a
 * connection: a last write only flushes, and the tunnel closes the connection once both directions ended.
 */
final class ServletTunnelEnd implements TunnelEnd, WriteListener {
    private enum WriteState {
        IDLE,
        WRITE,
        FLUSH,
        DRAIN
    }

    private final WebConnection connection;
    private final ServletRequestSource input;
    private final ServletOutputStream output;
    private final AtomicBoolean closed = new AtomicBoolean();

    // Writing, guarded by this.
    private WriteState state = WriteState.IDLE;
    private ByteBuffer buffer;
    private Callback callback;
    private byte[] scratch;

    ServletTunnelEnd(WebConnection connection) throws IOException {
        this.connection = connection;
        this.input = new ServletRequestSource(connection.getInputStream(), -1);
        this.output = connection.getOutputStream();
        output.setWriteListener(this); // the container calls onWritePossible() once now
    }

    // ---- what the client sends ----

    @Override
    public Content.Chunk read() {
        return input.read();
    }

    @Override
    public void demand(Runnable demandCallback) {
        input.demand(demandCallback);
    }

    // ---- what goes to the client ----

    @Override
    public void write(boolean last, ByteBuffer content, Callback writeCallback) {
        synchronized (this) {
            if (state != WriteState.IDLE) {
                writeCallback.failed(new IllegalStateException("write pending"));
                return;
            }
            if (closed.get()) {
                writeCallback.failed(new EOFException("connection closed"));
                return;
            }
            state = WriteState.WRITE;
            buffer = content;
            callback = writeCallback;
        }
        try {
            onWritePossible();
        } catch (Throwable x) {
            onError(x);
        }
    }

    @Override
    public void onWritePossible() throws IOException {
        Callback done;
        synchronized (this) {
            while (true) {
                if (state == WriteState.IDLE || !output.isReady()) {
                    return; // nothing to write, or the container calls again once it took the last bytes
                }
                if (state == WriteState.WRITE) {
                    int length = buffer == null ? 0 : buffer.remaining();
                    if (length > 0) {
                        if (buffer.hasArray()) {
                            output.write(buffer.array(), buffer.arrayOffset() + buffer.position(), length);
                        } else {
                            if (scratch == null || scratch.length < length) {
                                scratch = new byte[Math.max(length, 8192)];
                            }
                            buffer.get(scratch, 0, length);
                            output.write(scratch, 0, length);
                        }
                        buffer.position(buffer.limit());
                    }
                    state = WriteState.FLUSH;
                } else if (state == WriteState.FLUSH) {
                    output.flush();
                    state = WriteState.DRAIN;
                } else {
                    state = WriteState.IDLE;
                    done = callback;
                    callback = null;
                    buffer = null;
                    break;
                }
            }
        }
        done.succeeded();
    }

    @Override
    public void onError(Throwable failure) {
        Callback failed;
        synchronized (this) {
            failed = callback;
            callback = null;
            buffer = null;
            state = WriteState.IDLE;
        }
        input.fail(failure);
        if (failed != null) {
            failed.failed(failure);
        }
    }

    // ---- closing ----

    /** The container closed the connection. */
    void destroyed() {
        if (closed.compareAndSet(false, true)) {
            failAll(new EOFException("the container closed the connection"));
        }
    }

    @Override
    public void close(Throwable cause) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            connection.close();
        } catch (Exception ignored) {
            // closing anyway
        }
        ContainerSupport.closeUpgraded(connection);
        failAll(cause != null ? cause : new EOFException("tunnel closed"));
    }

    private void failAll(Throwable cause) {
        input.onError(cause); // a reader waiting for bytes hears it now
        Callback failed;
        synchronized (this) {
            failed = callback;
            callback = null;
            buffer = null;
            state = WriteState.IDLE;
        }
        if (failed != null) {
            failed.failed(cause);
        }
    }
}
