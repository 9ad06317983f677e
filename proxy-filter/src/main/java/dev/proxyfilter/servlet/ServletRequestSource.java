package dev.proxyfilter.servlet;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.io.Content;

/**
 * A servlet request body read with non-blocking I/O, offered as a Jetty {@link Content.Source} so the
 * upstream {@code HttpClient} pulls it at the pace the backend accepts it. Nothing is buffered beyond
 * the chunk in flight.
 *
 * <p>The input stream is taken, and the read listener set, at the first read or demand, not before: Jetty sends
 * {@code 100 Continue} from {@code getInputStream()}, and a request the engine refuses from its head (413, 403)
 * must get no 100, so that the client never sends the body. {@code beforeFirstRead} sends it where the container
 * does not (Tomcat).
 */
final class ServletRequestSource implements Content.Source, ReadListener {
    /** Marks "data became available while nobody demanded". */
    private static final Runnable SIGNAL = () -> {};

    /** Opens the stream at the first read or demand: the request's, or an upgraded connection's. */
    private final Opener opener;
    /** Set once, by the first read or demand. */
    private ServletInputStream input;

    private final int bufferSize;
    private final AtomicReference<Runnable> demand = new AtomicReference<>();
    /** The array of the last chunk, once its reader released it. */
    private final AtomicReference<byte[]> spare = new AtomicReference<>();

    private volatile Throwable failure;
    private volatile boolean eof;
    private volatile boolean listening;

    /** What opens the input stream, at the first read or demand. */
    @FunctionalInterface
    interface Opener {
        ServletInputStream open() throws IOException;
    }

    ServletRequestSource(ServletRequest request, long contentLength, Runnable beforeFirstRead) {
        this(
                () -> {
                    beforeFirstRead.run();
                    return request.getInputStream();
                },
                contentLength);
    }

    /** A source over a stream already there, such as an upgraded connection's. */
    ServletRequestSource(ServletInputStream stream, long contentLength) {
        this(() -> stream, contentLength);
    }

    private ServletRequestSource(Opener opener, long contentLength) {
        this.opener = opener;
        this.bufferSize = contentLength > 0 && contentLength < 16384 ? (int) contentLength : 16384;
    }

    private void listen() {
        if (!listening) {
            synchronized (this) {
                if (!listening) {
                    try {
                        input = opener.open();
                        input.setReadListener(this);
                    } catch (IOException | RuntimeException x) {
                        fail(x); // read() returns it, demand() calls back at once
                    } finally {
                        listening = true;
                    }
                }
            }
        }
    }

    @Override
    public Content.Chunk read() {
        listen();
        Throwable failed = failure;
        if (failed != null) {
            return Content.Chunk.from(failed);
        }
        if (eof) {
            return Content.Chunk.EOF;
        }
        try {
            if (input.isFinished()) {
                eof = true;
                return Content.Chunk.EOF;
            }
            if (!input.isReady()) {
                return null; // the container calls onDataAvailable() later
            }
            byte[] buffer = spare.getAndSet(null);
            if (buffer == null) {
                buffer = new byte[bufferSize];
            }
            int read = input.read(buffer);
            if (read < 0) {
                eof = true;
                spare.set(buffer);
                return Content.Chunk.EOF;
            }
            if (read == 0) {
                spare.set(buffer);
                return null;
            }
            boolean last = input.isFinished();
            if (last) {
                eof = true;
            }
            // The reader releases a chunk before it reads the next one: its array is then read into again.
            byte[] reusable = buffer;
            return Content.Chunk.from(ByteBuffer.wrap(buffer, 0, read), last, () -> spare.set(reusable));
        } catch (IOException | RuntimeException x) {
            failure = x;
            return Content.Chunk.from(x);
        }
    }

    @Override
    public void demand(Runnable demandCallback) {
        listen();
        while (true) {
            Runnable current = demand.get();
            if (current == SIGNAL) {
                if (demand.compareAndSet(SIGNAL, null)) {
                    demandCallback.run();
                    return;
                }
            } else if (current == null) {
                if (demand.compareAndSet(null, demandCallback)) {
                    break;
                }
            } else {
                throw new IllegalStateException("demand already pending");
            }
        }
        // The caller may demand without having seen a null read: if data is there already, nobody
        // will call onDataAvailable(), so run the callback now (isReady() == false arms the call).
        boolean ready;
        try {
            ready = failure != null || eof || input.isFinished() || input.isReady();
        } catch (RuntimeException x) {
            failure = x;
            ready = true;
        }
        if (ready && demand.compareAndSet(demandCallback, null)) {
            demandCallback.run();
        }
    }

    @Override
    public void fail(Throwable failure) {
        if (this.failure == null) {
            this.failure = failure;
        }
    }

    @Override
    public long getLength() {
        return -1;
    }

    @Override
    public void onDataAvailable() {
        wake();
    }

    @Override
    public void onAllDataRead() {
        wake();
    }

    @Override
    public void onError(Throwable t) {
        fail(t);
        wake();
    }

    private void wake() {
        while (true) {
            Runnable current = demand.get();
            if (current == SIGNAL) {
                return;
            }
            if (current == null) {
                if (demand.compareAndSet(null, SIGNAL)) {
                    return;
                }
            } else if (demand.compareAndSet(current, null)) {
                current.run();
                return;
            }
        }
    }
}
