package dev.proxyfilter.upstream;

import dev.proxyfilter.http1.FieldLines;
import java.io.EOFException;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.http.HttpCompliance;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpParser;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http.PreEncodedHttpField;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.RetainableByteBuffer;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.IteratingCallback;
import org.eclipse.jetty.util.thread.Invocable.InvocationType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP/1.1 connection to a backend, carrying one exchange at a time.
 *
 * <p>Sending: the request head is encoded straight from the exchange's fields into this connection's
 * buffer and written on the caller's thread; a body follows by demand ({@link BodySender}), chunked when
 * its length is unknown. Receiving: Jetty's {@link HttpParser} parses the response on the thread that
 * read it. Interim 1xx responses are skipped; the final head goes to {@link UpstreamListener#onHeaders},
 * then the body is read by the listener through the exchange (a {@link Content.Source}): each chunk is a
 * slice of the network buffer, retained until the reader releases it, and a slice that reaches the
 * response's {@code Content-Length} is the last chunk, so a small response costs one read and one write.
 *
 * <p>Between exchanges the connection sits in its destination's pool with a read pending, so that a
 * backend closing it is noticed at once. A request sent on a pooled connection that the backend closed
 * before answering a byte is sent again once on a new connection, when it has no body to replay.
 */
final class UpstreamConnection extends AbstractConnection implements HttpParser.ResponseHandler, ExchangeCarrier {
    private static final Logger LOG = LoggerFactory.getLogger(UpstreamConnection.class);

    /** Context key of the exchange a new connection sends first. */
    static final String PENDING_EXCHANGE = UpstreamConnection.class.getName() + ".exchange";

    private static final int RESPONSE_BUFFER_SIZE = 16 * 1024;
    /** Reads of a long body: a quarter of the syscalls and callbacks of 16 KiB reads, per response in flight. */
    private static final int LARGE_BODY_BUFFER_SIZE = 64 * 1024;
    /** Longest body read on the selector thread when the client reads there (one network buffer's worth). */
    private static final long SELECTOR_BODY_LIMIT = RESPONSE_BUFFER_SIZE;
    /**
     * How often one exchange is sent again after a reused connection died under it before any response
     * byte (a backend's keep-alive limit or timeout): each time on the next connection free.
     */
    private static final int MAX_RESENDS = 3;
    /** Longest response head accepted; a bigger one fails the exchange (nginx: "upstream sent too big header"). */
    private static final int MAX_RESPONSE_HEAD = 64 * 1024;

    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] HTTP_1_1_CRLF = " HTTP/1.1\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] LAST_CHUNK = "0\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    // Connection states: in the pool, carrying an exchange, closed.
    private static final int IDLE = 0;
    private static final int ACTIVE = 1;
    private static final int CLOSED = 2;

    // Parser events, set by the parser callbacks and read by parseAndFill's caller.
    private static final int NONE = 0;
    private static final int HEADERS = 1;
    private static final int CONTENT = 2;
    private static final int COMPLETE = 3;
    private static final int INTERIM = 4;
    private static final int NEED_FILL = 5;
    private static final int FAILED = 6;

    private final UpstreamClient.Destination destination;
    private final AtomicInteger state = new AtomicInteger(ACTIVE);
    private final HttpParser parser;
    private final Callback headWritten = Callback.from(this::headWritten, this::writeFailed);
    /**
     * Our own read callback, registered with {@code tryFillInterested}: several paths may ask for a read
     * around a hand-over (pool, new exchange, reader demand), and a second ask must be a no-op, not a
     * {@code ReadPendingException}. {@link #onFillable} sorts out what the read is for.
     */
    private final Callback readCallback = new Callback() {
        @Override
        public void succeeded() {
            onFillable();
        }

        @Override
        public void failed(Throwable x) {
            onFillInterestedFailed(x);
        }

        @Override
        public InvocationType getInvocationType() {
            // Asked per readiness event. A long body is copied on a worker: on the selector thread, every
            // response of every backend would be copied by that one thread, one core.
            return largeBody ? InvocationType.BLOCKING : destination.client.readInvocationType();
        }
    };

    private byte[] head = new byte[2048];
    /** {@link #head} as a buffer, and the one-buffer array a bodiless request's write takes: reused per head. */
    private ByteBuffer headBuffer = ByteBuffer.wrap(head);

    private final ByteBuffer[] headWrite = new ByteBuffer[1];
    private RetainableByteBuffer networkBuffer;
    /** Exchanges this connection carried to their end; a stale pooled connection has carried at least one. */
    private int carried;

    // Per exchange; reset by send().
    private volatile UpstreamExchange exchange;
    private int event;
    private Content.Chunk chunk;
    private Throwable parseFailure;
    private boolean closeAfter;
    /** The request said {@code Connection: close}. */
    private boolean requestClose;

    private boolean http10;
    private boolean headersDelivered;
    /** The response body is longer than {@link #SELECTOR_BODY_LIMIT}, or of unknown length. */
    private volatile boolean largeBody;

    private boolean eof;
    private boolean responseBegun;
    /**
     * This response's head was read without the parser ({@link #readHeadDirectly}), and its body, framed by
     * {@code Content-Length}, is counted here: {@link #bodyLeft} bytes are still to come.
     */
    private boolean direct;

    private long bodyLeft;
    /** This connection's response header lines, each field given again while its line repeats. */
    private final FieldLines lines = new FieldLines();

    private volatile boolean requestComplete;
    /** The body's last write was started: its completion, not the response, ends the request side. */
    private volatile boolean lastBodyWriteIssued;
    /** Request written and response read: whichever comes second ends the exchange. */
    private final AtomicInteger ends = new AtomicInteger();

    private volatile Runnable demandCallback;
    private long idleTimeoutMillis;

    UpstreamConnection(EndPoint endPoint, Executor executor, UpstreamClient.Destination destination) {
        super(endPoint, executor);
        this.destination = destination;
        this.parser = new HttpParser(this, MAX_RESPONSE_HEAD, HttpCompliance.RFC9110);
        parser.setHeaderCacheSize(0); // no ~50 KB field trie per connection: see JettyConnectors.httpConfiguration
        this.idleTimeoutMillis = destination.client.poolIdleTimeoutMillis();
        endPoint.setIdleTimeout(idleTimeoutMillis);
    }

    @Override
    public void onOpen() {
        super.onOpen();
        if (getEndPoint() instanceof org.eclipse.jetty.io.ssl.SslConnection.SslEndPoint tls) {
            // A refused handshake may reach us as a plain end of stream: keep the real reason for the exchange.
            tls.getSslConnection().addHandshakeListener(new org.eclipse.jetty.io.ssl.SslHandshakeListener() {
                @Override
                public void handshakeFailed(Event event, Throwable failure) {
                    handshakeFailure = failure;
                }
            });
        }
        destination.opened(this);
        // The context is not kept: the exchange to send first rode on the endpoint's attachment.
        UpstreamExchange first = pendingFirst;
        pendingFirst = null;
        if (first != null) {
            send(first);
        }
    }

    /** Why the TLS handshake with the backend failed, if it did. */
    private volatile Throwable handshakeFailure;

    /** The tunnel this connection became, while its request head's write has not completed. */
    private volatile dev.proxyfilter.tunnel.EndPointTunnelEnd tunnelWaitingForHead;

    /** The exchange the connection was opened for; set by the factory before {@link #onOpen}. */
    UpstreamExchange pendingFirst;

    /** Closes the connection if it is idle in its pool (no exchange can take it meanwhile). */
    void closeIfIdle() {
        if (state.compareAndSet(IDLE, CLOSED)) {
            getEndPoint().close();
        }
    }

    /** Takes the connection out of the pool for an exchange; false if it closed meanwhile. */
    boolean activate() {
        return state.compareAndSet(IDLE, ACTIVE);
    }

    // ---- Sending ----

    void send(UpstreamExchange next) {
        if (!next.attach(this)) {
            release(); // aborted while it waited; the connection goes back or on to another
            return;
        }
        // The per-exchange state is fresh: a new connection starts so, finish() resets it before pooling.
        parser.setHeadResponse(next.head);
        requestClose = closeRequested(next.requestHeaders());
        exchange = next;
        long idle = next.idleTimeoutMillis > 0 ? next.idleTimeoutMillis : destination.client.poolIdleTimeoutMillis();
        if (idle != idleTimeoutMillis) {
            idleTimeoutMillis = idle;
            getEndPoint().setIdleTimeout(idle);
        }
        ByteBuffer encoded;
        try {
            encoded = encodeHead(next);
        } catch (RuntimeException e) {
            failExchange(next, e);
            return;
        }
        // A pooled connection has had a read pending since it went idle; a new one asks now.
        readInterested();
        if (next.body == null) {
            headWrite[0] = encoded; // the connection writes one head at a time: the array is free again
            getEndPoint().write(headWritten, headWrite);
        } else {
            // The head leaves with the first body bytes: one write for a small body, and a body that
            // fails before its first byte (bad chunk framing, a limit) never reaches the backend.
            new BodySender(next, encoded).iterate();
        }
    }

    private void headWritten() {
        dev.proxyfilter.tunnel.EndPointTunnelEnd waiting = tunnelWaitingForHead;
        if (waiting != null) {
            tunnelWaitingForHead = null;
            waiting.releaseWrites(); // the backend switched before this write's callback came
            return;
        }
        UpstreamExchange current = exchange;
        if (current == null) {
            return;
        }
        requestDone(current);
    }

    private void writeFailed(Throwable failure) {
        dev.proxyfilter.tunnel.EndPointTunnelEnd waiting = tunnelWaitingForHead;
        if (waiting != null) {
            tunnelWaitingForHead = null;
            waiting.releaseWrites(); // its own writes fail now
            return;
        }
        UpstreamExchange current = exchange;
        if (current != null) {
            failExchange(current, failure);
        }
    }

    private void requestDone(UpstreamExchange current) {
        requestComplete = true;
        if (ends.incrementAndGet() == 2) {
            finish(current);
        }
    }

    /** Request line and headers, with {@code Host} and the body's framing, as ISO-8859-1 bytes. */
    private ByteBuffer encodeHead(UpstreamExchange next) {
        HttpFields.Mutable fields = next.requestHeaders();
        String target = requestTarget(next.target);
        int size = next.method.length() + target.length() + 96 + destination.hostHeader.length();
        for (int i = 0, n = fields.size(); i < n; i++) {
            HttpField field = fields.getField(i);
            size += field.getName().length() + field.getValue().length() + 4;
        }
        if (head.length < size) {
            head = new byte[Math.max(size, head.length * 2)];
            headBuffer = ByteBuffer.wrap(head);
        }
        byte[] out = head;
        int at = ascii(next.method, out, 0);
        out[at++] = ' ';
        at = ascii(target, out, at);
        System.arraycopy(HTTP_1_1_CRLF, 0, out, at, HTTP_1_1_CRLF.length);
        at += HTTP_1_1_CRLF.length;
        boolean hasHost = false;
        boolean hasLength = false;
        boolean chunked = next.body != null && next.bodyLength < 0;
        for (int i = 0, n = fields.size(); i < n; i++) {
            HttpField field = fields.getField(i);
            HttpHeader header = field.getHeader();
            if (header == HttpHeader.HOST) {
                hasHost = true;
            } else if (header == HttpHeader.CONTENT_LENGTH) {
                if (chunked || hasLength) {
                    continue; // the body's own framing decides
                }
                hasLength = true;
            } else if (header == HttpHeader.TRANSFER_ENCODING) {
                continue;
            }
            if (field instanceof PreEncodedHttpField preEncoded) {
                // Ours, made once (X-Forwarded-Proto, -Port, Via): its HTTP/1.1 bytes are copied, not encoded again.
                ByteBuffer into = headBuffer; // wraps out
                into.limit(into.capacity()).position(at);
                preEncoded.putTo(into, HttpVersion.HTTP_1_1);
                at = into.position();
                continue;
            }
            at = field(field, header, out, at);
        }
        if (!hasHost) {
            at = field("Host", destination.hostHeader, out, at);
        }
        if (chunked) {
            at = field("Transfer-Encoding", "chunked", out, at);
        } else if (next.body != null && !hasLength) {
            at = field("Content-Length", Long.toString(next.bodyLength), out, at);
        }
        out[at++] = '\r';
        out[at++] = '\n';
        ByteBuffer encoded = headBuffer;
        encoded.limit(at).position(0);
        return encoded;
    }

    private static int field(HttpField field, HttpHeader header, byte[] out, int at) {
        if (header != null) {
            byte[] name = header.getBytesColonSpace();
            System.arraycopy(name, 0, out, at, name.length);
            at += name.length;
        } else {
            at = text(field.getName(), out, at);
            out[at++] = ':';
            out[at++] = ' ';
        }
        at = text(field.getValue(), out, at);
        out[at++] = '\r';
        out[at++] = '\n';
        return at;
    }

    private static int field(String name, String value, byte[] out, int at) {
        at = text(name, out, at);
        out[at++] = ':';
        out[at++] = ' ';
        at = text(value, out, at);
        out[at++] = '\r';
        out[at++] = '\n';
        return at;
    }

    private static int ascii(String s, byte[] out, int at) {
        for (int i = 0, n = s.length(); i < n; i++) {
            out[at++] = (byte) s.charAt(i);
        }
        return at;
    }

    /**
     * A header name or value: ISO-8859-1, with CR, LF, NUL and anything beyond one byte replaced, so that
     * no value can end its line early (a U+010A decoded from the client must not become a line feed).
     */
    private static int text(String s, byte[] out, int at) {
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            out[at++] = c > 0xFF || c == '\r' || c == '\n' || c == 0 ? (byte) '?' : (byte) c;
        }
        return at;
    }

    /**
     * The request target as received, or escaped when it holds a space, a control character or anything
     * beyond ASCII, any of which would break the request line (rare: Jetty's parser refuses most).
     */
    static String requestTarget(String target) {
        for (int i = 0, n = target.length(); i < n; i++) {
            char c = target.charAt(i);
            if (c <= 0x20 || c >= 0x7F) {
                return escape(target);
            }
        }
        return target;
    }

    private static String escape(String target) {
        byte[] bytes = target.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder(bytes.length * 3);
        for (byte b : bytes) {
            int c = b & 0xFF;
            if (c > 0x20 && c < 0x7F) {
                out.append((char) c);
            } else {
                out.append('%')
                        .append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
            }
        }
        return out.toString();
    }

    /** Streams the request body by demand; chunked framing when its length is unknown. */
    private final class BodySender extends IteratingCallback {
        private final UpstreamExchange owner;
        private final boolean chunked;
        private Content.Chunk current;
        private boolean last;
        /** The request head, until it leaves with the first chunk. */
        private ByteBuffer head;

        BodySender(UpstreamExchange owner, ByteBuffer head) {
            this.owner = owner;
            this.chunked = owner.bodyLength < 0;
            this.head = head;
        }

        private void write(ByteBuffer... buffers) {
            ByteBuffer first = head;
            if (first == null) {
                getEndPoint().write(this, buffers);
                return;
            }
            head = null;
            ByteBuffer[] withHead = new ByteBuffer[buffers.length + 1];
            withHead[0] = first;
            System.arraycopy(buffers, 0, withHead, 1, buffers.length);
            getEndPoint().write(this, withHead);
        }

        @Override
        protected Action process() {
            if (last) {
                return Action.SUCCEEDED;
            }
            if (exchange != owner || owner.isCompleted()) {
                return Action.SUCCEEDED; // the response ended first, or the exchange failed: stop reading
            }
            Content.Chunk read = owner.body.read();
            if (read == null) {
                owner.body.demand(this::iterate);
                return Action.IDLE;
            }
            if (Content.Chunk.isFailure(read)) {
                throw new BodyFailure(read.getFailure());
            }
            current = read;
            last = read.isLast();
            if (last) {
                lastBodyWriteIssued = true; // before the write: a response racing its completion waits for it
            }
            ByteBuffer data = read.getByteBuffer();
            boolean hasData = data.hasRemaining();
            if (!chunked) {
                if (hasData) {
                    write(data);
                } else if (head != null && last) {
                    write(); // an empty body: the head alone
                } else {
                    succeeded();
                }
            } else if (hasData) {
                ByteBuffer size = ByteBuffer.wrap((Integer.toHexString(data.remaining()) + "\r\n")
                        .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                write(size, data, last ? ByteBuffer.wrap(CRLF_LAST_CHUNK) : ByteBuffer.wrap(CRLF));
            } else if (last) {
                write(ByteBuffer.wrap(LAST_CHUNK));
            } else {
                succeeded();
            }
            return Action.SCHEDULED;
        }

        @Override
        protected void onSuccess() {
            Content.Chunk written = current;
            current = null;
            if (written != null) {
                written.release();
            }
        }

        @Override
        protected void onCompleteSuccess() {
            if (last && exchange == owner) {
                requestDone(owner);
            }
        }

        @Override
        protected void onCompleteFailure(Throwable cause) {
            Content.Chunk written = current;
            current = null;
            if (written != null) {
                written.release();
            }
            Throwable failure = cause instanceof BodyFailure body ? body.getCause() : cause;
            if (!(cause instanceof BodyFailure)) {
                owner.body.fail(failure);
            }
            failExchange(owner, failure);
        }
    }

    private static final byte[] CRLF_LAST_CHUNK = "\r\n0\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** The request body's own source failed (the client's side): not a write failure. */
    private static final class BodyFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BodyFailure(Throwable cause) {
            super(cause.getMessage(), cause, false, false);
        }
    }

    // ---- Receiving ----

    @Override
    public void onFillable() {
        UpstreamExchange current = exchange;
        if (state.get() == IDLE || current == null) {
            idleReadable();
            return;
        }
        Runnable demanded = demandCallback;
        if (demanded != null) {
            demandCallback = null;
            demanded.run();
        } else if (!headersDelivered) {
            receiveHead(current);
        } else {
            completeWithoutBody(current);
        }
    }

    /** Readable while pooled: the backend closed the connection (or sent bytes nobody asked for). */
    private void idleReadable() {
        int filled;
        try {
            // Its own small buffer: an exchange taking the connection right now owns the network buffer.
            filled = getEndPoint().fill(BufferUtil.allocate(64));
        } catch (Throwable x) {
            filled = -1;
        }
        if (filled == 0) {
            readInterested();
            return;
        }
        // The backend closed the connection, reset it, or sent what nobody asked for (a 408 before it
        // closes): unusable. If an exchange took it at this very moment, closing fails that exchange
        // before any response byte, and it is sent again on a new connection.
        if (state.compareAndSet(IDLE, CLOSED)) {
            destination.closed(this); // counted out now: the pool must not hand it out meanwhile
        }
        getEndPoint().close(new EOFException("backend closed an idle connection"));
    }

    private void receiveHead(UpstreamExchange current) {
        while (true) {
            int happened = parseAndFill();
            switch (happened) {
                case INTERIM -> {
                    event = NONE;
                    parser.reset();
                    parser.setHeadResponse(current.head);
                    responseBegun = false;
                    continue;
                }
                case HEADERS -> {
                    event = NONE;
                    headers(current);
                    return;
                }
                case NEED_FILL -> {
                    readInterested();
                    return;
                }
                case FAILED -> {
                    failExchange(current, parseFailure);
                    return;
                }
                default -> {
                    failExchange(current, new IllegalStateException("unexpected parser event " + happened));
                    return;
                }
            }
        }
    }

    private void headers(UpstreamExchange current) {
        if (current.status == 101) {
            switched(current);
            return;
        }
        headersDelivered = true;
        long length = direct ? bodyLeft : parser.getContentLength();
        largeBody = !current.head && hasContent() && (length < 0 || length > SELECTOR_BODY_LIMIT);
        if (!current.enterCallback()) {
            return; // completed meanwhile (an abort from another thread): the listener has heard the end
        }
        try {
            current.listener.onHeaders(current);
        } catch (Throwable x) {
            failExchange(current, x);
        } finally {
            current.exitCallback();
        }
        if (current.isCompleted() || exchange != current) {
            return; // aborted in onHeaders
        }
        if (!hasContent() || current.head) {
            completeWithoutBody(current); // HEAD, 204, 304: the parser ends without more input
        } else if (current.enterCallback()) {
            try {
                current.listener.onContentSource(current, current);
            } catch (Throwable x) {
                failExchange(current, x);
            } finally {
                current.exitCallback();
            }
        }
    }

    /**
     * The backend answered 101 to an upgrade: this connection leaves its destination for good (its room goes
     * to the next exchange) and the endpoint gets a tunnel end as its connection, with the bytes that came
     * behind the head. The listener takes the end in {@code onHeaders}; then the exchange completes.
     */
    private void switched(UpstreamExchange current) {
        headersDelivered = true;
        ByteBuffer behindHead = null;
        RetainableByteBuffer buffer = networkBuffer;
        networkBuffer = null;
        if (buffer != null) {
            if (buffer.hasRemaining()) {
                behindHead = BufferUtil.copy(buffer.getByteBuffer());
            }
            buffer.release();
        }
        dev.proxyfilter.tunnel.EndPointTunnelEnd end = new dev.proxyfilter.tunnel.EndPointTunnelEnd(
                getEndPoint(), getExecutor(), destination.client.buffers(), behindHead, null);
        // The request head's write may still be completing (its callback not run yet): the tunnel's first write
        // waits for it, since a second write on the endpoint meanwhile would fail. Set before the exchange goes.
        end.holdWrites();
        tunnelWaitingForHead = end;
        exchange = null;
        current.detach();
        carried++;
        if (requestComplete) {
            tunnelWaitingForHead = null;
            end.releaseWrites();
        }
        // onClose() counts this connection out of its destination, with no exchange left to fail.
        getEndPoint().upgrade(end);
        current.tunnel(end);
        if (current.enterCallback()) {
            try {
                current.listener.onHeaders(current);
            } catch (Throwable x) {
                LOG.warn("onHeaders of {} failed", current, x);
            } finally {
                current.exitCallback();
            }
        }
        dev.proxyfilter.tunnel.TunnelEnd untaken = current.takeTunnel();
        if (untaken != null) {
            untaken.close(new java.io.IOException("nobody took the tunnel of " + current));
        }
        current.succeed();
    }

    private void completeWithoutBody(UpstreamExchange current) {
        int happened = parseAndFill();
        event = NONE;
        switch (happened) {
            case COMPLETE -> responseDone(current);
            case NEED_FILL -> readInterested();
            case FAILED -> failExchange(current, parseFailure);
            default -> failExchange(current, new java.io.IOException("backend sent a body where none may be"));
        }
    }

    /**
     * Parses what the network buffer holds, filling it from the socket when empty, until a parser event
     * or nothing more to read.
     */
    private int parseAndFill() {
        try {
            while (true) {
                if (networkBuffer == null) {
                    networkBuffer = destination
                            .client
                            .buffers()
                            .acquire(largeBody ? LARGE_BODY_BUFFER_SIZE : RESPONSE_BUFFER_SIZE, false);
                }
                ByteBuffer buffer = networkBuffer.getByteBuffer();
                if (direct) {
                    if (nextDirectly(buffer)) {
                        return event;
                    }
                } else if (!responseBegun && parser.isStart() && readHeadDirectly(buffer)) {
                    return event;
                } else if (parser.parseNext(buffer) || event != NONE) {
                    return event;
                }
                if (eof) {
                    // Nothing more will come: the parser has seen the end and produced no event.
                    parseFailure = responseBegun
                            ? new EOFException("backend closed the connection mid-response")
                            : new EOFException("backend closed the connection before responding");
                    return event = FAILED;
                }
                int wanted = largeBody ? LARGE_BODY_BUFFER_SIZE : RESPONSE_BUFFER_SIZE;
                if (networkBuffer.isRetained() || buffer.capacity() < wanted) {
                    // A reader still holds a chunk of this buffer, or the body is long and this is the head's
                    // small buffer (which a reader that writes each chunk before it reads the next would
                    // otherwise get back, empty, for every read of the body): fill another one.
                    networkBuffer.release();
                    networkBuffer = destination.client.buffers().acquire(wanted, false);
                    buffer = networkBuffer.getByteBuffer();
                } else {
                    BufferUtil.clear(buffer);
                }
                int filled = getEndPoint().fill(buffer);
                if (filled == 0) {
                    releaseBufferIfEmpty();
                    return NEED_FILL;
                }
                if (filled < 0) {
                    eof = true;
                    parser.atEOF();
                }
            }
        } catch (Throwable x) {
            parseFailure = x;
            return event = FAILED;
        }
    }

    private void readInterested() {
        getEndPoint().tryFillInterested(readCallback);
    }

    private void releaseBufferIfEmpty() {
        RetainableByteBuffer buffer = networkBuffer;
        if (buffer != null && !buffer.hasRemaining()) {
            networkBuffer = null;
            buffer.release();
        }
    }

    /** The next chunk of the response body for its reader, or null when none is there yet. */
    @Override
    public Content.Chunk read(UpstreamExchange reader) {
        if (exchange != reader) {
            return null; // ended meanwhile: the reader's demand waits for the outcome (demandDetached)
        }
        Content.Chunk ready = chunk;
        if (ready == null) {
            int happened = parseAndFill();
            if (happened == NEED_FILL) {
                return null;
            }
            event = NONE;
            if (happened == FAILED) {
                Throwable failure = parseFailure;
                failExchange(reader, failure);
                return Content.Chunk.from(failure, true);
            }
            if (happened == COMPLETE) {
                responseDone(reader);
                return Content.Chunk.EOF;
            }
            ready = chunk; // CONTENT
        }
        chunk = null;
        // A slice that reaches Content-Length ends the body: say so now, saving the reader a round.
        if (direct
                ? bodyLeft == 0
                : !parser.isChunking()
                        && parser.getContentLength() > 0
                        && parser.getContentRead() == parser.getContentLength()) {
            int happened = parseAndFill();
            if (happened == COMPLETE) {
                event = NONE;
                Content.Chunk last = Content.Chunk.asChunk(ready.getByteBuffer(), true, ready);
                responseDone(reader);
                return last;
            }
            event = NONE;
        }
        return ready;
    }

    @Override
    public void demand(UpstreamExchange reader, Runnable callback) {
        if (exchange != reader) {
            reader.demandDetached(callback);
            return;
        }
        if (chunk != null) {
            callback.run();
            return;
        }
        demandCallback = callback;
        if (exchange != reader) {
            // Ended meanwhile (a failure from another thread): the outcome wakes the reader.
            Runnable demanded = demandCallback;
            if (demanded != null) {
                demandCallback = null;
                reader.demandDetached(demanded);
            }
            return;
        }
        readInterested();
    }

    /** Whether the response has a body to read: the parser's framing, or this reader's. */
    private boolean hasContent() {
        return direct ? bodyLeft > 0 : parser.hasContent();
    }

    /**
     * Reads a whole response head from {@code buffer} without the parser when it is plain: {@code HTTP/1.1}, a
     * final status other than 101, header lines {@link FieldLines} reads (a line repeated from the previous
     * response costs no new field), and a body framed by one {@code Content-Length} or none at all (HEAD, 204,
     * 304). The body is then counted by {@link #nextDirectly}. True with the head's event set and the buffer past
     * the head; false, with nothing consumed, for anything else (a head not all in the buffer, chunked or
     * close-delimited bodies, 1xx, HTTP/1.0, any irregular byte): the parser reads it as before and answers what
     * it refuses.
     */
    private boolean readHeadDirectly(ByteBuffer buffer) {
        UpstreamExchange current = exchange;
        int start = buffer.position();
        int end = FieldLines.headEnd(buffer, start, Math.min(buffer.limit(), start + MAX_RESPONSE_HEAD));
        if (current == null || end < 0) {
            return false;
        }
        int statusEnd = FieldLines.lineEnd(buffer, start, end);
        if (statusEnd < start + 12) {
            return false; // "HTTP/1.1 200" at least
        }
        for (int i = 0; i < HTTP_1_1_SPACE.length; i++) {
            if (buffer.get(start + i) != HTTP_1_1_SPACE[i]) {
                return false;
            }
        }
        int status = 0;
        for (int i = start + 9; i < start + 12; i++) {
            byte digit = buffer.get(i);
            if (digit < '0' || digit > '9') {
                return false;
            }
            status = status * 10 + digit - '0';
        }
        if (status < 200 || status > 599 || (statusEnd > start + 12 && buffer.get(start + 12) != ' ')) {
            return false; // 1xx and 101 go through the parser, as does anything but a 3-digit code and a space
        }
        for (int i = start + 13; i < statusEnd; i++) {
            byte b = buffer.get(i);
            if (b < 0x20 && b != '\t' || b == 0x7F) {
                return false; // the reason phrase: visible ASCII, spaces and tabs; anything else to the parser
            }
        }
        HttpFields.Mutable fields = HttpFields.build(16);
        long length = -1;
        boolean close = false;
        int at = statusEnd + 2;
        while (at < end - 2) {
            int eol = FieldLines.lineEnd(buffer, at, end);
            HttpField field = eol < 0 ? null : lines.field(buffer, at, eol);
            if (field == null) {
                lines.headAbandoned();
                return false;
            }
            HttpHeader header = field.getHeader();
            if (header == HttpHeader.CONTENT_LENGTH) {
                long value = FieldLines.contentLength(field.getValue());
                if (length >= 0 || value < 0) {
                    lines.headAbandoned();
                    return false; // two of them, or not a number: the parser decides
                }
                length = value;
            } else if (header == HttpHeader.TRANSFER_ENCODING) {
                lines.headAbandoned();
                return false;
            } else if (header == HttpHeader.CONNECTION && field.contains("close")) {
                close = true;
            }
            fields.add(field);
            at = eol + 2;
        }
        boolean bodiless = current.head || status == 204 || status == 304;
        if (length < 0 && !bodiless) {
            lines.headAbandoned();
            return false; // delimited by the connection's close: the parser reads to the end
        }
        lines.headDone();
        buffer.position(end);
        responseBegun = true;
        direct = true;
        bodyLeft = bodiless ? 0 : length;
        http10 = false;
        closeAfter = close;
        current.status = status;
        current.responseHeaders = fields;
        event = HEADERS;
        return true;
    }

    private static final byte[] HTTP_1_1_SPACE = {'H', 'T', 'T', 'P', '/', '1', '.', '1', ' '};

    /**
     * The next event of a response read directly: a slice of the body ({@code CONTENT}, the buffer retained by
     * its chunk, as the parser's content event does), or its end ({@code COMPLETE}); false when the buffer
     * holds nothing of it yet. Bytes after the body stay in the buffer, and the connection is then not reused.
     */
    private boolean nextDirectly(ByteBuffer buffer) {
        if (bodyLeft == 0) {
            event = COMPLETE;
            return true;
        }
        int available = buffer.remaining();
        if (available == 0) {
            return false;
        }
        int take = (int) Math.min(available, bodyLeft);
        int position = buffer.position();
        ByteBuffer slice = buffer.slice(position, take);
        buffer.position(position + take);
        bodyLeft -= take;
        content(slice);
        return true;
    }

    @Override
    public void startResponse(HttpVersion version, int status, String reason) {
        UpstreamExchange current = exchange;
        if (current == null) {
            return;
        }
        responseBegun = true;
        current.status = status;
        current.responseHeaders = HttpFields.build(16);
        http10 = version != HttpVersion.HTTP_1_1;
        closeAfter = http10;
    }

    @Override
    public void parsedHeader(HttpField field) {
        UpstreamExchange current = exchange;
        if (current == null) {
            return;
        }
        if (field.getHeader() == HttpHeader.CONNECTION) {
            if (field.contains("close")) {
                closeAfter = true;
            } else if (http10 && field.contains("keep-alive")) {
                closeAfter = false; // an HTTP/1.0 backend that keeps the connection
            }
        }
        current.responseHeaders.add(field);
    }

    @Override
    public boolean headerComplete() {
        UpstreamExchange current = exchange;
        if (current == null) {
            return false;
        }
        int status = current.status;
        if (status == 101) {
            if (current.upgrade) {
                event = HEADERS; // what follows the head is the new protocol's: the parser stops here
                return true;
            }
            parseFailure = new java.io.IOException("backend switched protocols (101), which the proxy did not ask for");
            event = FAILED;
            return true;
        }
        if (status >= 100 && status < 200) {
            return false; // interim: its end comes as messageComplete
        }
        event = HEADERS;
        return true;
    }

    @Override
    public boolean content(ByteBuffer content) {
        networkBuffer.retain();
        chunk = Content.Chunk.asChunk(content, false, networkBuffer);
        event = CONTENT;
        return true;
    }

    @Override
    public boolean contentComplete() {
        return false;
    }

    @Override
    public boolean messageComplete() {
        UpstreamExchange current = exchange;
        int status = current == null ? 0 : current.status;
        event = status >= 100 && status < 200 ? INTERIM : COMPLETE;
        return true;
    }

    @Override
    public void earlyEOF() {
        parseFailure = eofOrClosed();
        event = FAILED;
    }

    @Override
    public void badMessage(HttpException failure) {
        parseFailure =
                new java.io.IOException("bad response from backend: " + failure.getReason(), (Throwable) failure);
        event = FAILED;
    }

    // ---- Ending ----

    private void responseDone(UpstreamExchange current) {
        if (eof) {
            closeAfter = true;
        }
        if (current.body != null && !requestComplete && !lastBodyWriteIssued) {
            // The backend answered before the request body was all sent (an early 413, say): the client
            // gets the response now, and the connection, with a body half sent, closes.
            closeAfter = true;
            ends.set(2);
            finish(current);
        } else if (ends.incrementAndGet() == 2) {
            finish(current); // else the head's write callback is about to run, and ends it
        }
    }

    /** The exchange ended well: the connection goes back to the pool and the listener hears, or the listener hears and it closes. */
    private void finish(UpstreamExchange current) {
        if (exchange != current) {
            return;
        }
        carried++;
        boolean reusable = !closeAfter
                && !requestClose
                && requestComplete
                && getEndPoint().isOpen()
                && (networkBuffer == null || !networkBuffer.hasRemaining());
        exchange = null;
        current.detach();
        if (reusable) {
            resetExchangeState();
            release();
            current.succeed();
        } else {
            state.set(CLOSED);
            // Succeeded first: closing fails a body write still pending (a backend that answered before it
            // read the whole body), and that failure must not turn the backend's answer into a 502.
            current.succeed();
            close();
        }
    }

    /**
     * Back to the pool, or straight to an exchange that waited for a connection. The read that watches
     * a pooled connection for the backend closing it is asked for first, before another thread can take
     * the connection.
     */
    private void release() {
        exchange = null;
        releaseBufferIfEmpty();
        long poolIdle = destination.client.poolIdleTimeoutMillis();
        if (idleTimeoutMillis < poolIdle) {
            // A short exchange idle timeout must not cut the connection's life in the pool.
            idleTimeoutMillis = poolIdle;
            getEndPoint().setIdleTimeout(poolIdle);
        }
        readInterested();
        if (!state.compareAndSet(ACTIVE, IDLE)) {
            close();
            return;
        }
        UpstreamExchange next = destination.release(this);
        if (next != null) {
            if (activate()) {
                send(next);
            } else {
                destination.send(next);
            }
        }
    }

    /** Ends {@code failed} with {@code cause}, closing the connection: a half-done exchange leaves it unusable. */
    @Override
    public void failExchange(UpstreamExchange failed, Throwable cause) {
        Throwable handshake = handshakeFailure;
        if (handshake != null && cause != handshake && !(cause instanceof javax.net.ssl.SSLException)) {
            cause = handshake; // what the end of stream or the close really came from
        }
        if (exchange != failed) {
            // Not, or no longer, this connection's exchange: it ended, or it went back in line to be sent
            // again after this connection died under it (a second signal of that death, say the parse's
            // end of stream after the close, must not end it). An abort still ends it.
            if (failed.abortCause() != null) {
                failed.failed(cause);
            }
            return;
        }
        exchange = null;
        failed.detach();
        boolean stale = !responseBegun
                && carried > 0
                && failed.body == null
                && failed.resends < MAX_RESENDS
                && failed.idempotent
                && failed.abortCause() == null
                && !(cause instanceof TimeoutException);
        state.set(CLOSED);
        Runnable demanded = demandCallback;
        demandCallback = null;
        if (stale) {
            // The backend closed a pooled connection as the request went out: once more, first in line
            // for the room this connection leaves when it closes (so within the connection limit).
            failed.resends++;
            LOG.debug("resending {} on a new connection after {}", failed, cause.toString());
            destination.requeueFirst(failed);
            getEndPoint().close(cause);
            return;
        }
        getEndPoint().close(cause);
        failed.failed(cause);
        if (demanded != null) {
            demanded.run();
        }
    }

    /** Per-exchange state back to that of a new connection, before the connection goes back to the pool. */
    private void resetExchangeState() {
        event = NONE;
        chunk = null;
        parseFailure = null;
        closeAfter = false;
        requestClose = false;
        eof = false;
        responseBegun = false;
        headersDelivered = false;
        largeBody = false;
        http10 = false;
        direct = false;
        bodyLeft = 0;
        requestComplete = false;
        lastBodyWriteIssued = false;
        ends.set(0);
        demandCallback = null;
        parser.reset();
    }

    private static boolean closeRequested(HttpFields headers) {
        HttpField connection = headers.getField(HttpHeader.CONNECTION);
        return connection != null && connection.contains("close");
    }

    @Override
    public void onFillInterestedFailed(Throwable cause) {
        UpstreamExchange current = exchange;
        if (current != null) {
            failExchange(current, cause); // the read failed (a TLS handshake refused while waiting, say)
        } else {
            super.onFillInterestedFailed(cause);
        }
    }

    @Override
    public boolean onIdleExpired(TimeoutException timeout) {
        UpstreamExchange current = exchange;
        if (current != null) {
            failExchange(current, new TimeoutException("Idle timeout " + idleTimeoutMillis + " ms elapsed"));
        } else if (state.compareAndSet(IDLE, CLOSED)) {
            destination.closed(this); // counted out now, not only once the close completes
        }
        return true;
    }

    @Override
    public void onClose(Throwable cause) {
        super.onClose(cause);
        state.set(CLOSED);
        UpstreamExchange current = exchange;
        if (current != null) {
            failExchange(current, cause != null ? cause : eofOrClosed());
        }
        Content.Chunk leftover = chunk;
        chunk = null;
        if (leftover != null) {
            leftover.release();
        }
        destination.closed(this);
    }

    private Throwable eofOrClosed() {
        return responseBegun
                ? new EOFException("backend closed the connection mid-response")
                : new EOFException("backend closed the connection before responding");
    }

    @Override
    public void close() {
        state.set(CLOSED);
        super.close();
    }

    /** Closes the connection for a stopping client: its exchange fails. */
    void closeForStop() {
        UpstreamExchange current = exchange;
        if (current != null) {
            failExchange(current, UpstreamClient.stopped());
        } else {
            close();
        }
    }

    @Override
    public String toConnectionString() {
        return "UpstreamConnection@" + Integer.toHexString(hashCode()) + "[" + destination + ", state=" + state.get()
                + ", " + exchange + "]";
    }
}
