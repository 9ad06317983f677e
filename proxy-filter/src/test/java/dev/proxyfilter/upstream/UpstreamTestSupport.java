package dev.proxyfilter.upstream;

import dev.proxyfilter.testing.Backends;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.eclipse.jetty.io.Content;

/**
 * Test support for the upstream client: a listener that records every callback and reads the body
 * through read/demand, and a bare-socket HTTP/1.1 backend whose connections can be counted and whose
 * answers are written by hand.
 */
final class UpstreamTestSupport {
    private UpstreamTestSupport() {}

    /** Delays of slow consumers; daemon so a failed test leaves nothing behind. */
    static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "upstream-test-timer");
        thread.setDaemon(true);
        return thread;
    });

    /** Every exception of a cause chain, the throwable itself first. */
    static List<Throwable> chain(Throwable failure) {
        List<Throwable> chain = new ArrayList<>();
        for (Throwable t = failure; t != null && !chain.contains(t); t = t.getCause()) {
            chain.add(t);
        }
        return chain;
    }

    static boolean hasCause(Throwable failure, Class<? extends Throwable> type) {
        return chain(failure).stream().anyMatch(type::isInstance);
    }

    static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(Backends.sha256().digest(bytes));
    }

    /** The SHA-256 of the first {@code size} bytes of {@link Backends.Digest#pattern}. */
    static String patternSha(long size) {
        MessageDigest digest = Backends.sha256();
        byte[] chunk = new byte[65536];
        for (long pos = 0; pos < size; pos += chunk.length) {
            int n = (int) Math.min(chunk.length, size - pos);
            Backends.Digest.pattern(chunk, pos, n);
            digest.update(chunk, 0, n);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /**
     * Records the callbacks of one exchange. The body is read with read/demand as it comes; it is kept
     * up to {@link #KEPT} bytes and digested whole. A consumer can be slowed ({@link #slow}) or held
     * ({@link #holdAfter}) to see that the client waits for demand.
     */
    static class Recorder implements UpstreamListener {
        static final int KEPT = 1 << 20;

        final AtomicInteger headersCalls = new AtomicInteger();
        final AtomicInteger contentCalls = new AtomicInteger();
        final AtomicInteger completeCalls = new AtomicInteger();
        /** The status seen in onHeaders. */
        final CompletableFuture<Integer> headers = new CompletableFuture<>();
        /** Completes at the last chunk; exceptionally at a failure chunk. */
        final CompletableFuture<Void> bodyEnd = new CompletableFuture<>();
        /** The failure given to onComplete; null on success. */
        final CompletableFuture<Throwable> done = new CompletableFuture<>();

        final AtomicReference<Throwable> contentFailure = new AtomicReference<>();
        final AtomicLong bytes = new AtomicLong();
        final AtomicInteger chunks = new AtomicInteger();
        /** The size of each chunk that had bytes, in order. */
        final List<Integer> chunkSizes = new CopyOnWriteArrayList<>();

        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        private final MessageDigest digest = Backends.sha256();
        private volatile Consumer<UpstreamExchange> onHeaders = exchange -> {};
        private volatile long slowMillis;
        private volatile long holdAfter = -1;
        private volatile boolean held;
        private volatile Content.Source source;
        final AtomicInteger completedBeforeBodyEnd = new AtomicInteger();
        /** onHeaders or onContentSource after onComplete: the listener contract broken. */
        final AtomicInteger callsAfterComplete = new AtomicInteger();

        Recorder onHeaders(Consumer<UpstreamExchange> action) {
            this.onHeaders = action;
            return this;
        }

        /** Reads one chunk, then asks for the next {@code millis} later. */
        Recorder slow(long millis) {
            this.slowMillis = millis;
            return this;
        }

        /** Stops reading (no read, no demand) once {@code bytes} have been read, until {@link #resume}. */
        Recorder holdAfter(long bytes) {
            this.holdAfter = bytes;
            return this;
        }

        boolean held() {
            return held;
        }

        void resume() {
            holdAfter = -1;
            held = false;
            read();
        }

        @Override
        public void onHeaders(UpstreamExchange exchange) {
            headersCalls.incrementAndGet();
            if (completeCalls.get() > 0) {
                callsAfterComplete.incrementAndGet();
            }
            headers.complete(exchange.status());
            onHeaders.accept(exchange);
        }

        @Override
        public void onContentSource(UpstreamExchange exchange, Content.Source content) {
            contentCalls.incrementAndGet();
            if (completeCalls.get() > 0) {
                callsAfterComplete.incrementAndGet();
            }
            source = content;
            read();
        }

        @Override
        public void onComplete(UpstreamExchange exchange, Throwable failure) {
            if (completeCalls.incrementAndGet() == 1) {
                if (failure == null && !bodyEnd.isDone()) {
                    completedBeforeBodyEnd.incrementAndGet();
                }
                done.complete(failure);
            }
        }

        private void read() {
            Content.Source content = source;
            while (true) {
                Content.Chunk chunk = content.read();
                if (chunk == null) {
                    content.demand(this::read);
                    return;
                }
                if (Content.Chunk.isFailure(chunk)) {
                    contentFailure.compareAndSet(null, chunk.getFailure());
                    bodyEnd.completeExceptionally(chunk.getFailure());
                    return;
                }
                ByteBuffer buffer = chunk.getByteBuffer();
                int n = buffer.remaining();
                if (n > 0) {
                    chunks.incrementAndGet();
                    chunkSizes.add(n);
                    byte[] copy = new byte[n];
                    buffer.get(copy);
                    synchronized (this) {
                        digest.update(copy);
                        if (kept.size() < KEPT) {
                            kept.write(copy, 0, Math.min(n, KEPT - kept.size()));
                        }
                    }
                    bytes.addAndGet(n);
                }
                boolean last = chunk.isLast();
                chunk.release();
                if (last) {
                    bodyEnd.complete(null);
                    return;
                }
                long hold = holdAfter;
                if (hold >= 0 && bytes.get() >= hold) {
                    held = true;
                    return;
                }
                long slow = slowMillis;
                if (slow > 0 && n > 0) {
                    TIMER.schedule(this::read, slow, TimeUnit.MILLISECONDS);
                    return;
                }
            }
        }

        synchronized byte[] body() {
            return kept.toByteArray();
        }

        String text() {
            return new String(body(), StandardCharsets.UTF_8);
        }

        synchronized String sha() {
            try {
                return HexFormat.of().formatHex(((MessageDigest) digest.clone()).digest());
            } catch (CloneNotSupportedException e) {
                throw new IllegalStateException(e);
            }
        }

        /** Waits for onComplete; the failure it got, null on success. */
        Throwable failure() throws Exception {
            return done.get(5, TimeUnit.SECONDS);
        }
    }

    /**
     * A backend on a bare server socket. {@code handler} runs per connection on its own daemon thread;
     * the backend counts connections accepted, open at once, and closed by the client (seen as EOF).
     */
    static final class RawBackend implements AutoCloseable {
        interface Handler {
            void handle(Conn conn) throws Exception;
        }

        final ServerSocket server;
        final AtomicInteger accepted = new AtomicInteger();
        final AtomicInteger open = new AtomicInteger();
        final AtomicInteger maxOpen = new AtomicInteger();
        /** Connections on which the server read EOF: the client closed them. */
        final AtomicInteger clientClosed = new AtomicInteger();
        /** Request heads, in the order read, over all connections. */
        final List<String> heads = new CopyOnWriteArrayList<>();
        /** What handlers threw, other than I/O errors. */
        final List<Throwable> errors = new CopyOnWriteArrayList<>();

        private final List<Socket> sockets = new CopyOnWriteArrayList<>();

        RawBackend(Handler handler) throws IOException {
            server = new ServerSocket(0, 100, InetAddress.getLoopbackAddress());
            Thread acceptor = new Thread(
                    () -> {
                        while (!server.isClosed()) {
                            Socket socket;
                            try {
                                socket = server.accept();
                            } catch (IOException e) {
                                return;
                            }
                            int index = accepted.getAndIncrement();
                            sockets.add(socket);
                            int now = open.incrementAndGet();
                            maxOpen.accumulateAndGet(now, Math::max);
                            Thread worker = new Thread(
                                    () -> {
                                        try {
                                            handler.handle(new Conn(this, socket, index));
                                        } catch (IOException ignored) {
                                            // the client may close first
                                        } catch (Throwable e) {
                                            errors.add(e); // an assertion in a handler: the test reports it
                                        } finally {
                                            // Counted closed before it closes: the client cannot open the next one in
                                            // between.
                                            open.decrementAndGet();
                                            try {
                                                socket.close();
                                            } catch (IOException ignored) {
                                                // closing
                                            }
                                        }
                                    },
                                    "raw-backend-" + index);
                            worker.setDaemon(true);
                            worker.start();
                        }
                    },
                    "raw-backend-acceptor");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        /** A keep-alive backend that answers every request of every connection with {@code response}. */
        static RawBackend answering(String response) throws IOException {
            return new RawBackend(conn -> {
                while (conn.readRequest() != null) {
                    conn.write(response);
                }
            });
        }

        URI uri() {
            return URI.create("http://127.0.0.1:" + server.getLocalPort());
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() {
            try {
                server.close();
            } catch (IOException ignored) {
                // closing
            }
            for (Socket socket : sockets) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // closing
                }
            }
        }
    }

    /** One accepted connection of a {@link RawBackend}. */
    static final class Conn {
        final RawBackend backend;
        final Socket socket;
        final int index;
        final InputStream in;
        final OutputStream out;

        Conn(RawBackend backend, Socket socket, int index) throws IOException {
            this.backend = backend;
            this.socket = socket;
            this.index = index;
            socket.setTcpNoDelay(true); // a write is a segment: the client sees answers in the pieces written
            this.in = new BufferedInputStream(socket.getInputStream());
            this.out = socket.getOutputStream();
        }

        /** Reads a request head and its body (Content-Length or chunked); null at EOF. */
        String readRequest() throws IOException {
            String head = readHead();
            if (head != null) {
                readBody(head);
            }
            return head;
        }

        /** Reads a request head, up to the blank line; null (and counts a client close) at EOF. */
        String readHead() throws IOException {
            StringBuilder head = new StringBuilder();
            int c;
            while ((c = in.read()) >= 0) {
                head.append((char) c);
                if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
                    backend.heads.add(head.toString());
                    return head.toString();
                }
            }
            if (head.length() == 0) {
                backend.clientClosed.incrementAndGet();
                return null;
            }
            throw new IOException("EOF in a request head: " + head);
        }

        byte[] readBody(String head) throws IOException {
            String te = header(head, "Transfer-Encoding");
            if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
                ByteArrayOutputStream body = new ByteArrayOutputStream();
                while (true) {
                    String size = line();
                    int n = Integer.parseInt(size.split(";")[0].trim(), 16);
                    if (n == 0) {
                        while (!line().isEmpty()) {
                            // trailers
                        }
                        return body.toByteArray();
                    }
                    body.write(in.readNBytes(n));
                    line();
                }
            }
            String cl = header(head, "Content-Length");
            return cl == null ? new byte[0] : in.readNBytes(Integer.parseInt(cl.trim()));
        }

        private String line() throws IOException {
            StringBuilder line = new StringBuilder();
            int c;
            while ((c = in.read()) >= 0 && c != '\n') {
                if (c != '\r') {
                    line.append((char) c);
                }
            }
            if (c < 0) {
                throw new IOException("EOF in a chunked body");
            }
            return line.toString();
        }

        void write(String text) throws IOException {
            out.write(text.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }

        void write(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
        }

        /** Holds the connection without answering until the client closes it (or the test ends). */
        void awaitClientClose() throws IOException {
            try {
                while (in.read() >= 0) {
                    // discard
                }
                backend.clientClosed.incrementAndGet();
            } catch (SocketException e) {
                backend.clientClosed.incrementAndGet(); // reset by the client
            }
        }

        /** Closes with RST instead of FIN. */
        void reset() throws IOException {
            socket.setSoLinger(true, 0);
            socket.close();
        }
    }

    /** The first value of a header in a raw head, names compared case-insensitively; null if absent. */
    static String header(String head, String name) {
        List<String> values = headers(head, name);
        return values.isEmpty() ? null : values.get(0);
    }

    static List<String> headers(String head, String name) {
        List<String> values = new ArrayList<>();
        String[] lines = head.split("\r\n");
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0 && lines[i].substring(0, colon).trim().equalsIgnoreCase(name)) {
                values.add(lines[i].substring(colon + 1).trim());
            }
        }
        return values;
    }

    static String requestLine(String head) {
        return head.substring(0, head.indexOf("\r\n"));
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
