package dev.proxyfilter.jetty;

import dev.proxyfilter.forward.ClientExchange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpGenerator;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.RetainableByteBuffer;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.IteratingCallback;

/**
 * One request of the fast path ({@link FastPathConnection}) as the engine sees it: the parsed head (method,
 * target, Jetty's parsed fields, no copy), no body, and a response written through the connection's
 * {@link HttpGenerator} (status line and fields, chunked framing when the length is unknown, nothing for
 * {@code HEAD}, 204 or 304, {@code Connection: close} when the connection ends with it) in gathering writes
 * to the endpoint, one at a time as {@link ClientExchange} promises.
 *
 * <p>As {@link HandlerExchange} does, a write that carries the last byte of a response with a
 * {@code Content-Length} is sent as the last, so that a small response leaves in one write; the engine's
 * closing empty write then just succeeds.
 */
final class FastPathExchange implements ClientExchange {
    private final FastPathConnection connection;
    private final String method;
    private final String target;
    private final HttpFields headers;
    private final String host;
    private final boolean persistentRequest;
    private final boolean head;
    /** Set once, by whoever ends the exchange ({@link #end}). */
    private volatile boolean ended;

    private final Sender sender;
    private String path;
    private volatile Consumer<Throwable> onClientFailure;

    // The response: one write at a time (the engine's contract).
    private MetaData.Response info;
    private volatile boolean committed;
    private volatile long written;
    private long responseContentLength = -1;
    private boolean lastWritten;
    private volatile HttpFields trailers;

    private static final java.lang.invoke.VarHandle ENDED;

    static {
        try {
            ENDED = java.lang.invoke.MethodHandles.lookup()
                    .findVarHandle(FastPathExchange.class, "ended", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Ends the exchange: true for the one caller that does. */
    private boolean end() {
        return ENDED.compareAndSet(this, false, true);
    }

    FastPathExchange(FastPathConnection connection, FastPathConnection.Head parsed) {
        this.connection = connection;
        this.method = parsed.method;
        this.target = parsed.target;
        this.headers = parsed.fields;
        this.host = parsed.host;
        this.persistentRequest = !parsed.close && connection.http().isPersistentConnectionsEnabled();
        this.head = HttpMethod.HEAD.is(parsed.method);
        this.sender = connection.sender();
    }

    // ---- clientToProxyRequest ----

    @Override
    public String method() {
        return method;
    }

    @Override
    public String host() {
        return host;
    }

    @Override
    public String rawPath() {
        int query = target.indexOf('?');
        return query < 0 ? target : target.substring(0, query);
    }

    @Override
    public void begin(String path) {
        this.path = path;
    }

    /** Blocking work goes to the server's executor: this exchange runs on a selector thread. */
    @Override
    public void dispatch(Runnable work) {
        connection.connector().getExecutor().execute(work);
    }

    @Override
    public int maxResponseHeadBytes() {
        return connection.http().getResponseHeaderSize();
    }

    @Override
    public String scheme() {
        return "http";
    }

    @Override
    public String protocol() {
        return HttpVersion.HTTP_1_1.asString();
    }

    @Override
    public String authority() {
        return host; // never empty on the fast path: a request without one falls back
    }

    @Override
    public int localPort() {
        return connection.localPort();
    }

    @Override
    public String remoteAddress() {
        return connection.remoteAddress();
    }

    @Override
    public String basePath() {
        return "";
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public String query() {
        int query = target.indexOf('?');
        return query < 0 ? null : target.substring(query + 1);
    }

    @Override
    public HttpFields requestHeaders() {
        return headers;
    }

    @Override
    public boolean hasRequestBody() {
        return false;
    }

    @Override
    public long requestContentLength() {
        return headers.getLongField(HttpHeader.CONTENT_LENGTH); // -1, or an explicit 0
    }

    @Override
    public Content.Source requestBody() {
        return Content.Source.from(BufferUtil.EMPTY_BUFFER);
    }

    // ---- proxyToClientResponse ----

    /**
     * Keeps the engine's fields as they are (no copy): the generator writes them from {@link #write}'s first
     * call, which follows at once; a {@code Date} is appended through a view when the engine sent none.
     */
    @Override
    public void responseHead(int status, HttpFields fields) {
        boolean date = false;
        long contentLength = -1;
        int size = fields.size();
        for (int i = 0; i < size; i++) {
            HttpField field = fields.getField(i);
            HttpHeader header = field.getHeader();
            if (header == HttpHeader.DATE) {
                date = true;
            } else if (header == HttpHeader.CONTENT_LENGTH) {
                contentLength = field.getLongValue();
            }
        }
        HttpFields out = date || !connection.http().getSendDateHeader()
                ? fields
                : new WithField(fields, connection.connector().getServer().getDateField());
        responseContentLength = contentLength;
        info = new MetaData.Response(
                status, null, HttpVersion.HTTP_1_1, out, contentLength, contentLength < 0 ? this::trailers : null);
    }

    /** Read-only fields: {@code fields}, then {@code last}. */
    static final class WithField implements HttpFields {
        private final HttpFields fields;
        private final HttpField last;

        WithField(HttpFields fields, HttpField last) {
            this.fields = fields;
            this.last = last;
        }

        @Override
        public int size() {
            return fields.size() + 1;
        }

        @Override
        public HttpField getField(int index) {
            int size = fields.size();
            if (index == size) {
                return last;
            }
            return fields.getField(index);
        }

        @Override
        public java.util.ListIterator<HttpField> listIterator(int index) {
            java.util.List<HttpField> all = new java.util.ArrayList<>(size());
            for (int i = 0; i < size(); i++) {
                all.add(getField(i));
            }
            return java.util.Collections.unmodifiableList(all).listIterator(index);
        }

        /** Already read-only, and nothing changes the fields under it while the response is written. */
        @Override
        public HttpFields asImmutable() {
            return this;
        }

        @Override
        public String toString() {
            return asString();
        }
    }

    @Override
    public void responseTrailers(HttpFields trailers) {
        this.trailers = trailers;
    }

    private HttpFields trailers() {
        return trailers;
    }

    @Override
    public long bytesWritten() {
        return written;
    }

    @Override
    public boolean isCommitted() {
        return committed;
    }

    boolean writePending() {
        return sender.pending();
    }

    @Override
    public void write(boolean last, ByteBuffer content, Callback callback) {
        if (ended) {
            callback.failed(new IOException("the exchange has ended"));
            return;
        }
        if (sender.pending()) {
            callback.failed(new IllegalStateException("write pending"));
            return;
        }
        int length = content == null ? 0 : content.remaining();
        if (lastWritten) {
            // The response ended with its Content-Length's last byte; this is the engine's closing write.
            if (length > 0) {
                callback.failed(new IOException("response body longer than its Content-Length"));
            } else {
                callback.succeeded();
            }
            return;
        }
        if (info == null && !committed) {
            callback.failed(new IllegalStateException("no response head"));
            return;
        }
        long total = written + length;
        if (responseContentLength >= 0 && !head && total > responseContentLength) {
            // More than the Content-Length said would put the client's next response out of step.
            callback.failed(new IOException("response body longer than its Content-Length"));
            return;
        }
        if (last && responseContentLength >= 0 && !head && total < responseContentLength && bodyAllowed()) {
            callback.failed(new IOException("response body shorter than its Content-Length"));
            return;
        }
        written = total;
        boolean complete = last || (responseContentLength >= 0 && total >= responseContentLength);
        lastWritten = complete;
        MetaData.Response head = committed ? null : info;
        committed = true;
        sender.send(this, head, content == null ? BufferUtil.EMPTY_BUFFER : content, complete, callback);
    }

    /** Whether the response's status may carry a body: not 1xx, 204 or 304. */
    private boolean bodyAllowed() {
        MetaData.Response response = info;
        int status = response == null ? 200 : response.getStatus();
        return status >= 200 && status != 204 && status != 304;
    }

    @Override
    public void complete() {
        if (end()) {
            connection.exchangeEnded(this, persistentRequest && connection.generator.isPersistent());
        }
    }

    @Override
    public void sendError(int status, String message, HttpFields extraHeaders) {
        if (sender.pending() || committed) {
            abort(new IOException(message));
            return;
        }
        byte[] body = (message + "\n").getBytes(StandardCharsets.UTF_8);
        HttpFields.Mutable out = HttpFields.build(extraHeaders.size() + 4);
        ProxyHandler.putErrorFields(out, extraHeaders, body.length);
        lastWritten = false;
        written = 0;
        responseHead(status, out);
        write(true, ByteBuffer.wrap(body), Callback.from(this::complete, this::abort));
    }

    @Override
    public void abort(Throwable failure) {
        if (end()) {
            // A committed response is cut short: the client sees the connection close before its end.
            connection.generator.abort();
            connection.getEndPoint().close(failure);
            connection.exchangeEnded(this, false);
        }
    }

    @Override
    public void onClientFailure(Consumer<Throwable> onClientFailure) {
        this.onClientFailure = onClientFailure;
    }

    /** The connection closed under this exchange: the client went away, or Jetty gave up on it. */
    void clientClosed(Throwable cause) {
        if (!ended) {
            clientFailed(cause != null ? cause : new IOException("the client closed the connection"));
        }
    }

    /** The engine's listener hears of it, or without one the exchange ends. */
    private void clientFailed(Throwable failure) {
        Consumer<Throwable> listener = onClientFailure;
        if (listener != null) {
            listener.accept(failure);
        } else {
            abort(failure);
        }
    }

    /**
     * One write of the engine through the generator, as Jetty's {@code HttpConnection} sends: the generator
     * says what it needs (a buffer for the head, one for a chunk's framing) and when to flush, and each flush is
     * one gathering write of head, chunk framing and content. One per connection ({@link
     * FastPathConnection#sender}), used by its exchanges one after the other: an exchange starts only after
     * the last write of the one before completed.
     */
    static final class Sender extends IteratingCallback {
        private final ByteBuffer[] one = new ByteBuffer[1];
        private final ByteBuffer[] two = new ByteBuffer[2];
        private final ByteBuffer[] three = new ByteBuffer[3];

        private void write(ByteBuffer[] buffers, ByteBuffer first, ByteBuffer second, ByteBuffer third) {
            buffers[0] = first;
            if (buffers.length > 1) {
                buffers[1] = second;
            }
            if (buffers.length > 2) {
                buffers[2] = third;
            }
            connection.getEndPoint().write(this, buffers);
        }

        private final FastPathConnection connection;
        private FastPathExchange exchange;
        private MetaData.Response info;
        private ByteBuffer content;
        private boolean last;
        private Callback callback;
        private RetainableByteBuffer header;
        private RetainableByteBuffer chunk;
        private volatile boolean pending;

        Sender(FastPathConnection connection) {
            this.connection = connection;
        }

        boolean pending() {
            return pending;
        }

        void send(
                FastPathExchange exchange,
                MetaData.Response info,
                ByteBuffer content,
                boolean last,
                Callback callback) {
            // Only an idle sender takes a write: a stray one must not overwrite the write in flight.
            if (!reset()) {
                callback.failed(new IOException("the response cannot be written now"));
                return;
            }
            this.exchange = exchange;
            this.info = info;
            this.content = content;
            this.last = last;
            this.callback = callback;
            this.pending = true;
            if (info != null && (connection.connector().isShutdown() || !exchange.persistentRequest)) {
                connection.generator.setPersistent(false);
            }
            iterate();
        }

        @Override
        protected Action process() throws Exception {
            HttpGenerator generator = connection.generator;
            boolean head = exchange.head;
            while (true) {
                ByteBuffer headerBytes = header == null ? null : header.getByteBuffer();
                ByteBuffer chunkBytes = chunk == null ? null : chunk.getByteBuffer();
                HttpGenerator.Result result =
                        generator.generateResponse(info, head, headerBytes, chunkBytes, content, last);
                switch (result) {
                    case NEED_INFO -> throw new IOException("no response head to generate");
                    case NEED_HEADER ->
                        header = connection
                                .pool()
                                .acquire(
                                        Math.min(
                                                connection.http().getResponseHeaderSize(),
                                                connection.http().getOutputBufferSize()),
                                        false);
                    case HEADER_OVERFLOW -> {
                        if (header.capacity() >= connection.http().getResponseHeaderSize()) {
                            throw new IOException("response head larger than "
                                    + connection.http().getResponseHeaderSize() + " bytes");
                        }
                        releaseHeader();
                        header = connection.pool().acquire(connection.http().getResponseHeaderSize(), false);
                    }
                    case NEED_CHUNK -> chunk = connection.pool().acquire(HttpGenerator.CHUNK_SIZE, false);
                    case NEED_CHUNK_TRAILER -> {
                        releaseChunk();
                        chunk = connection.pool().acquire(connection.http().getResponseHeaderSize(), false);
                    }
                    case FLUSH -> {
                        if (head || generator.isNoContent()) {
                            if (chunk != null) {
                                chunk.clear();
                            }
                            BufferUtil.clear(content);
                        }
                        boolean hasHeader = BufferUtil.hasContent(headerBytes);
                        boolean hasChunk = BufferUtil.hasContent(chunkBytes);
                        boolean hasContent = BufferUtil.hasContent(content);
                        long bytes = (hasHeader ? headerBytes.remaining() : 0)
                                + (hasChunk ? chunkBytes.remaining() : 0)
                                + (hasContent ? content.remaining() : 0);
                        connection.wrote(bytes);
                        // The sender's own arrays: it writes once at a time, so none is in use by an earlier write.
                        if (hasHeader && hasChunk && hasContent) {
                            write(three, headerBytes, chunkBytes, content);
                        } else if (hasHeader && hasChunk) {
                            write(two, headerBytes, chunkBytes, null);
                        } else if (hasHeader && hasContent) {
                            write(two, headerBytes, content, null);
                        } else if (hasHeader) {
                            write(one, headerBytes, null, null);
                        } else if (hasChunk && hasContent) {
                            write(two, chunkBytes, content, null);
                        } else if (hasChunk) {
                            write(one, chunkBytes, null, null);
                        } else if (hasContent) {
                            write(one, content, null, null);
                        } else {
                            succeeded();
                        }
                        return Action.SCHEDULED;
                    }
                    case SHUTDOWN_OUT -> {} // the connection shuts its output once the exchange ended
                    case DONE -> {
                        return Action.SUCCEEDED;
                    }
                    case CONTINUE -> {}
                    default -> throw new IllegalStateException("generateResponse=" + result);
                }
            }
        }

        /** As the engine's callback runs: its completions do not block. */
        @Override
        public InvocationType getInvocationType() {
            Callback current = callback;
            return current == null ? InvocationType.NON_BLOCKING : current.getInvocationType();
        }

        @Override
        protected void onCompleteSuccess() {
            Callback done = release();
            pending = false;
            done.succeeded();
        }

        @Override
        protected void onCompleteFailure(Throwable failure) {
            FastPathExchange failed = exchange;
            Callback done = release();
            pending = false;
            if (done != null) {
                done.failed(failure);
            } else if (failed != null) {
                failed.clientFailed(failure);
            }
        }

        private Callback release() {
            Callback done = callback;
            callback = null;
            content = null;
            info = null;
            exchange = null;
            releaseHeader();
            releaseChunk();
            return done;
        }

        private void releaseHeader() {
            if (header != null) {
                header.release();
            }
            header = null;
        }

        private void releaseChunk() {
            if (chunk != null) {
                chunk.release();
            }
            chunk = null;
        }
    }
}
