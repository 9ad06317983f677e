package dev.proxyfilter.jetty;

import dev.proxyfilter.forward.ProxyEngine;
import dev.proxyfilter.http1.FieldLines;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpGenerator;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpParser;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.RetainableByteBuffer;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.HostPort;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection of the fast path ({@link FastPathConnectionFactory}): reads and parses request heads,
 * runs each plain request through the engine as a {@link FastPathExchange}, one at a time, and hands the
 * connection to Jetty's own HTTP/1.1 connection, with the bytes of the request it could not take, at the first
 * request it does not cover.
 *
 * <p><b>The buffer.</b> One pooled buffer of the input buffer size, held while a request head is arriving or
 * pipelined bytes wait, released between requests of an idle kept-alive connection (an idle connection holds no
 * buffer, as Jetty's do not). Each request head starts at the buffer's beginning (what is left of the previous
 * request's bytes is moved there first), so that a fall-back can hand over the request from its first byte. A
 * head that does not fit the buffer falls back: Jetty's parser reads it in pieces, up to
 * {@code server.max-header-bytes}, and answers 431 past it.
 *
 * <p><b>Threads.</b> {@link #onFillable} runs on a selector thread (the engine does not block: a route that may
 * block goes to a worker through the exchange's {@code dispatch}); the request is handled on it. The exchange
 * ends on whichever thread wrote its last bytes; that thread carries on with the next pipelined request, or
 * asks for more bytes, unless {@code onFillable} is still on the stack of the thread that started the exchange,
 * which then carries on itself ({@link #handling}, as Jetty's {@code HttpConnection} does).
 */
final class FastPathConnection extends AbstractConnection implements Connection.UpgradeFrom {
    private static final Logger LOG = LoggerFactory.getLogger(FastPathConnection.class);

    private final FastPathConnectionFactory factory;
    private final Connector connector;
    private final HttpConfiguration http;
    private final ByteBufferPool pool;
    private final HttpParser parser;
    private final Head head;
    /** This connection's header lines, each field given again while its line repeats (Head.quick). */
    private final FieldLines lines = new FieldLines();
    /** The connector's header deadlines (server.header-timeout), looked up once: null without them. */
    private final JettyConnectors.HeaderDeadlines deadlines;

    final HttpGenerator generator = new HttpGenerator();
    /** Writes the responses of this connection's exchanges, one exchange after the other. */
    private final FastPathExchange.Sender sender = new FastPathExchange.Sender(this);
    /** True while {@link #onFillable} runs an exchange it started: the exchange's end then leaves the loop to it. */
    private final AtomicBoolean handling = new AtomicBoolean();

    private RetainableByteBuffer buffer;
    private volatile long bytesIn;
    private volatile long bytesOut;
    private String remoteAddress;
    private int localPort = -1;
    /** The exchange in flight, or null. */
    private volatile FastPathExchange exchange;
    /** After a response that closes the connection: reading until the client closes, discarding. */
    private boolean draining;
    /** Where the buffer's bytes ended before the last parse. */
    private int dataEnd;

    FastPathConnection(FastPathConnectionFactory factory, Connector connector, org.eclipse.jetty.io.EndPoint endPoint) {
        super(endPoint, connector.getExecutor());
        this.factory = factory;
        this.connector = connector;
        this.http = factory.http();
        this.pool = connector.getByteBufferPool();
        this.head = new Head(factory.maxUriBytes());
        this.parser = new HttpParser(head, http.getRequestHeaderSize(), http.getHttpCompliance());
        parser.setHeaderCacheSize(http.getHeaderCacheSize());
        this.deadlines = connector.getBean(JettyConnectors.HeaderDeadlines.class);
        setInputBufferSize(factory.getInputBufferSize());
    }

    Connector connector() {
        return connector;
    }

    FastPathExchange.Sender sender() {
        return sender;
    }

    HttpConfiguration http() {
        return http;
    }

    ByteBufferPool pool() {
        return pool;
    }

    /**
     * Reads are handled on the selector thread that saw them, as Jetty's {@code HttpConnection} does under a
     * non-blocking handler: parsing a head and starting an exchange never block (the engine dispatches what
     * may). AbstractConnection's own callback is blocking, and the selector would hand each read to a pool
     * thread, a hop per request.
     */
    private final Callback fillable = new Callback() {
        @Override
        public void succeeded() {
            onFillable();
        }

        @Override
        public void failed(Throwable failure) {
            onFillInterestedFailed(failure);
        }

        @Override
        public InvocationType getInvocationType() {
            return InvocationType.NON_BLOCKING;
        }
    };

    @Override
    public void fillInterested() {
        fillInterested(fillable);
    }

    @Override
    public void onOpen() {
        super.onOpen();
        fillInterested();
    }

    @Override
    public long getBytesIn() {
        return bytesIn;
    }

    @Override
    public long getBytesOut() {
        return bytesOut;
    }

    void wrote(long bytes) {
        bytesOut += bytes;
    }

    /** The client's address as Jetty's {@code Request.getRemoteAddr} gives it; made once per connection. */
    String remoteAddress() {
        String address = remoteAddress;
        if (address == null) {
            SocketAddress remote = getEndPoint().getRemoteSocketAddress();
            if (remote instanceof InetSocketAddress inet) {
                address = inet.isUnresolved() || inet.getAddress() == null
                        ? inet.getHostString()
                        : inet.getAddress().getHostAddress();
                address = HostPort.normalizeHost(address);
            } else {
                address = String.valueOf(remote);
            }
            remoteAddress = address;
        }
        return address;
    }

    int localPort() {
        int port = localPort;
        if (port < 0) {
            SocketAddress local = getEndPoint().getLocalSocketAddress();
            port = local instanceof InetSocketAddress inet ? inet.getPort() : 0;
            localPort = port;
        }
        return port;
    }

    @Override
    public void onFillable() {
        try {
            while (true) {
                if (!getEndPoint().isOpen()) {
                    release();
                    return;
                }
                if (draining) {
                    drain();
                    return;
                }
                ByteBuffer bytes = buffer == null ? null : buffer.getByteBuffer();
                if (bytes != null && bytes.hasRemaining()) {
                    if (parser.isStart() && bytes.position() > 0) {
                        bytes.compact().flip(); // the next request's head starts at the buffer's beginning
                    }
                    int before = bytes.position();
                    dataEnd = bytes.limit(); // a bad message clears the buffer: the fall-back restores it
                    boolean handle;
                    if (parser.isStart() && head.quick(bytes, lines, http.getRequestHeaderSize())) {
                        handle = true; // a whole plain head, read without the parser (Head.quick)
                        factory.headReadDirectly();
                    } else {
                        handle = parser.parseNext(bytes);
                        if (head.fallBack) {
                            fallBack();
                            return;
                        }
                    }
                    if (handle) {
                        ProxyEngine engine = factory.engine();
                        if (!head.covered() || engine == null || connector.isShutdown()) {
                            // Also before the engine started or after it stopped, and during a stop or hand-over,
                            // where Jetty's connection closes after its response.
                            fallBack();
                            return;
                        }
                        if (!handle(engine)) {
                            return; // the exchange goes on; its end carries on
                        }
                        continue;
                    }
                    if (bytes.hasRemaining()) {
                        if (bytes.position() == before) {
                            fallBack(); // the parser will not move: let Jetty's connection make sense of it
                            return;
                        }
                        continue; // parseNext returns false between events with bytes left: go on parsing
                    }
                }
                if (buffer == null) {
                    buffer = pool.acquire(getInputBufferSize(), false);
                    bytes = buffer.getByteBuffer();
                } else if (parser.isStart()) {
                    // Between requests: what was consumed goes, so that the next head starts at the beginning.
                    if (bytes.hasRemaining()) {
                        bytes.compact().flip();
                    } else {
                        BufferUtil.clear(bytes);
                    }
                }
                if (BufferUtil.space(bytes) == 0) {
                    fallBack(); // a head larger than the buffer: Jetty's parser takes it in pieces
                    return;
                }
                // The parser has consumed the head so far, but a fall-back needs it whole: the fill appends after
                // it (an endpoint's fill would otherwise start over at 0 on a buffer it sees as empty).
                int consumed = bytes.position();
                bytes.position(0);
                int filled;
                try {
                    filled = getEndPoint().fill(bytes);
                } finally {
                    bytes.position(consumed);
                }
                if (filled > 0) {
                    bytesIn += filled;
                    continue;
                }
                if (filled == 0) {
                    if (parser.isStart()) {
                        releaseIfEmpty(); // between requests only: a partial head stays for a fall-back
                    }
                    fillInterested();
                    return;
                }
                // The client closed its side: mid-head, or between requests.
                parser.atEOF();
                parser.parseNext(bytes);
                release();
                getEndPoint().close();
                return;
            }
        } catch (Throwable failure) {
            LOG.debug("closing {}", this, failure);
            release();
            getEndPoint().close(failure);
        }
    }

    /** Starts the exchange of the parsed head; true if it already ended (the loop goes on), false if it runs on. */
    private boolean handle(ProxyEngine engine) {
        FastPathExchange started = new FastPathExchange(this, head);
        exchange = started;
        factory.exchangeStarted();
        if (deadlines != null) {
            deadlines.headComplete(this);
        }
        handling.set(true);
        try {
            engine.handle(started, ProxyEngine.Unrouted.ANSWER);
        } catch (RuntimeException | Error failure) {
            LOG.warn("the engine failed on {} {}", started.method(), started.rawPath(), failure);
            started.abort(failure); // ends it: the count of exchanges in flight goes down, the connection closes
        }
        // Still true: the exchange runs on and will carry on itself. False: it ended on this thread already.
        return !handling.compareAndSet(true, false);
    }

    /**
     * The exchange's response is out ({@code persistent}: the connection carries more requests) or it failed
     * (the connection was closed). Carries on with the next request here unless {@link #onFillable}, on the stack
     * of the thread that started the exchange, is to.
     */
    void exchangeEnded(FastPathExchange ended, boolean persistent) {
        if (exchange != ended) {
            return;
        }
        exchange = null;
        factory.exchangeEnded();
        if (!persistent || !getEndPoint().isOpen()) {
            if (getEndPoint().isOpen()) {
                // Connection: close went out: stop writing, read what the client still sends until it closes.
                getEndPoint().shutdownOutput();
                draining = true;
            } else {
                release();
            }
            if (handling.compareAndSet(true, false)) {
                return;
            }
            if (getEndPoint().isOpen()) {
                fillInterested();
            }
            return;
        }
        parser.reset();
        generator.reset();
        if (deadlines != null) {
            deadlines.responseComplete(this);
        }
        if (handling.compareAndSet(true, false)) {
            return; // onFillable goes on from here
        }
        if (buffer != null && buffer.hasRemaining()) {
            getExecutor().execute(this::onFillable); // pipelined bytes wait
        } else {
            releaseIfEmpty();
            fillInterested();
        }
    }

    /** After the last response: bytes the client still sends are read and dropped until it closes. */
    private void drain() {
        release();
        RetainableByteBuffer scratch = pool.acquire(getInputBufferSize(), false);
        try {
            while (true) {
                ByteBuffer bytes = scratch.getByteBuffer();
                BufferUtil.clear(bytes);
                int filled = getEndPoint().fill(bytes);
                if (filled < 0) {
                    getEndPoint().close();
                    return;
                }
                if (filled == 0) {
                    fillInterested();
                    return;
                }
            }
        } catch (Throwable failure) {
            getEndPoint().close(failure);
        } finally {
            scratch.release();
        }
    }

    /** Hands the connection to Jetty's HTTP/1.1 connection, with the current request's bytes from its first. */
    private void fallBack() {
        ByteBuffer bytes = buffer == null ? null : buffer.getByteBuffer();
        if (bytes != null) {
            // Each head starts at 0 (see onFillable); the parser may have cleared the buffer on a bad message.
            bytes.limit(Math.max(bytes.limit(), dataEnd));
            bytes.position(0);
        }
        factory.fellBack();
        Connection jetty = factory.fallbackConnection(connector, getEndPoint());
        LOG.debug("{} falls back to {}", this, jetty);
        getEndPoint().upgrade(jetty);
    }

    @Override
    public ByteBuffer onUpgradeFrom() {
        ByteBuffer bytes = buffer == null ? null : buffer.getByteBuffer();
        ByteBuffer unconsumed = null;
        if (bytes != null && bytes.hasRemaining()) {
            unconsumed = ByteBuffer.allocateDirect(bytes.remaining());
            unconsumed.put(bytes).flip();
        }
        release();
        return unconsumed;
    }

    private void releaseIfEmpty() {
        if (buffer != null && !buffer.hasRemaining()) {
            release();
        }
    }

    private void release() {
        RetainableByteBuffer held = buffer;
        buffer = null;
        if (held != null) {
            held.release();
        }
    }

    /**
     * The idle timeout expired with no request under way (or the read failed): Jetty's connection shuts the
     * output and reads on until the client closes. A request that arrives in that window is not forwarded: it
     * could not be answered, and the client could not tell whether it ran.
     */
    @Override
    public void onFillInterestedFailed(Throwable cause) {
        draining = true;
        release();
        super.onFillInterestedFailed(cause);
    }

    /**
     * Jetty's idle timeout: an idle kept-alive connection closes, and so does one whose response write has
     * waited that long for the client; while the exchange only waits for its backend, it is ignored, as
     * {@link HandlerExchange} does (the route's timeouts bound that wait).
     */
    @Override
    public boolean onIdleExpired(TimeoutException timeout) {
        FastPathExchange current = exchange;
        return current == null || current.writePending();
    }

    @Override
    public void onClose(Throwable cause) {
        FastPathExchange current = exchange;
        if (current != null) {
            current.clientClosed(cause);
        }
        super.onClose(cause);
    }

    @Override
    public String toConnectionString() {
        return String.format("%s@%x[p=%s,g=%s]", getClass().getSimpleName(), hashCode(), parser, generator);
    }

    /**
     * The parsed request head, and whether the fast path covers it. Filled by the parser; read by the exchange
     * it starts, which keeps its own references (the fields are a new object per request).
     */
    static final class Head implements HttpParser.RequestHandler {
        String method;
        String target;
        HttpVersion version;
        HttpFields.Mutable fields;
        String host;
        int hosts;
        boolean close;
        boolean unsupported;
        boolean fallBack;
        private final int maxUriBytes;

        Head(int maxUriBytes) {
            this.maxUriBytes = maxUriBytes;
        }

        @Override
        public void startRequest(String method, String target, HttpVersion version) {
            this.method = method;
            this.target = target;
            this.version = version;
            this.fields = HttpFields.build(16);
            this.host = null;
            this.hosts = 0;
            this.close = false;
            this.unsupported = false;
        }

        @Override
        public void parsedHeader(HttpField field) {
            HttpHeader header = field.getHeader();
            if (header != null) {
                switch (header) {
                    case HOST -> {
                        host = field.getValue();
                        hosts++;
                    }
                    case CONNECTION -> {
                        if (field.contains(HttpHeaderValue.CLOSE.asString())) {
                            close = true;
                        }
                        if (field.contains(HttpHeaderValue.UPGRADE.asString())) {
                            unsupported = true;
                        }
                    }
                    case CONTENT_LENGTH -> {
                        if (field.getLongValue() != 0) {
                            unsupported = true; // a body
                        }
                    }
                    case TRANSFER_ENCODING, UPGRADE, EXPECT, HTTP2_SETTINGS -> unsupported = true;
                    default -> {}
                }
            }
            fields.add(field);
        }

        /**
         * Reads a whole head from {@code bytes}, without the parser, if it is plain and the fast path takes it:
         * a request line of a known method, an origin-form target and {@code HTTP/1.1}, then header lines that
         * {@link FieldLines} reads (a repeated line costs no new field). True with the head set and the bytes'
         * position past it; false, with nothing consumed, for anything else (a head not all there yet, any
         * irregular byte, a request the fast path does not take): the parser then reads the same bytes as before.
         */
        boolean quick(ByteBuffer bytes, FieldLines lines, int maxHeadBytes) {
            int start = bytes.position();
            int end = FieldLines.headEnd(bytes, start, Math.min(bytes.limit(), start + maxHeadBytes));
            if (end < 0) {
                return false;
            }
            int space = -1;
            for (int i = start, to = Math.min(end, start + 16); i < to; i++) {
                if (bytes.get(i) == ' ') {
                    space = i;
                    break;
                }
            }
            if (space <= start) {
                return false;
            }
            HttpMethod known = HttpMethod.CACHE.get(bytes, start, space - start);
            if (known == null || known == HttpMethod.CONNECT || known == HttpMethod.PRI || known == HttpMethod.PROXY) {
                return false;
            }
            int lineEnd = FieldLines.lineEnd(bytes, space + 1, end);
            int versionStart = lineEnd - HTTP_1_1.length;
            if (lineEnd < 0 || versionStart <= space + 1 || bytes.get(versionStart - 1) != ' ') {
                return false;
            }
            for (int i = 0; i < HTTP_1_1.length; i++) {
                if (bytes.get(versionStart + i) != HTTP_1_1[i]) {
                    return false;
                }
            }
            String requestTarget = BufferUtil.toString(
                    bytes, space + 1, versionStart - space - 2, java.nio.charset.StandardCharsets.ISO_8859_1);
            if (!plainTarget(requestTarget, maxUriBytes)) {
                return false;
            }
            startRequest(known.asString(), requestTarget, HttpVersion.HTTP_1_1);
            int at = lineEnd + 2;
            while (at < end - 2) {
                int eol = FieldLines.lineEnd(bytes, at, end);
                HttpField field = eol < 0 ? null : lines.field(bytes, at, eol);
                if (field == null || field.getHeader() == HttpHeader.CONTENT_LENGTH) {
                    // Content-Length, even 0: the parser checks its syntax and repeats, and answers 400.
                    lines.headAbandoned();
                    return false;
                }
                parsedHeader(field);
                if (unsupported) {
                    lines.headAbandoned();
                    return false;
                }
                at = eol + 2;
            }
            if (!covered()) {
                lines.headAbandoned();
                return false;
            }
            lines.headDone();
            bytes.position(end);
            return true;
        }

        private static final byte[] HTTP_1_1 = {'H', 'T', 'T', 'P', '/', '1', '.', '1'};

        /** Whether the fast path takes this request (see {@link FastPathConnectionFactory}). */
        boolean covered() {
            return !unsupported
                    && version == HttpVersion.HTTP_1_1
                    && hosts == 1
                    && plainHost(host)
                    && !HttpMethod.CONNECT.is(method)
                    && !HttpMethod.PRI.is(method)
                    && plainTarget(target, maxUriBytes);
        }

        @Override
        public boolean headerComplete() {
            return true;
        }

        @Override
        public boolean content(ByteBuffer content) {
            return false; // never reached: a request with a body falls back at its head
        }

        @Override
        public boolean contentComplete() {
            return false;
        }

        @Override
        public boolean messageComplete() {
            return true;
        }

        @Override
        public void earlyEOF() {
            // the client closed mid-head: the connection closes, nothing to answer
        }

        @Override
        public void badMessage(HttpException failure) {
            fallBack = true; // Jetty's connection reads the same bytes and answers with its own 4xx
        }
    }

    /** A host name, IPv4 or bracketed IPv6 address, with an optional port: nothing Jetty would refuse. */
    static boolean plainHost(String host) {
        if (host == null || host.isEmpty()) {
            return false;
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            boolean plain = (c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || c == '.'
                    || c == '-'
                    || c == ':'
                    || c == '['
                    || c == ']';
            if (!plain) {
                return false;
            }
        }
        int colon = host.lastIndexOf(':');
        if (host.charAt(0) == '[') {
            int close = host.indexOf(']');
            if (close < 0 || (close != host.length() - 1 && host.charAt(close + 1) != ':')) {
                return false;
            }
            colon = close + 1 < host.length() ? close + 1 : -1;
        } else if (host.indexOf(':') != colon) {
            return false; // two colons outside brackets
        }
        if (colon == 0) {
            return false;
        }
        if (colon > 0) {
            return FieldLines.isPort(host, colon + 1);
        }
        return true;
    }

    /**
     * An origin-form target ({@code /path?query}) within {@code maxUriBytes} whose path has only unreserved
     * characters, sub-delimiters, {@code :} and {@code @}, and no dot segment or empty segment: nothing Jetty's
     * URI compliance could find ambiguous, nothing to decode. The query may hold any visible character but
     * {@code #}. Anything else falls back, and Jetty checks and decodes it as before.
     */
    static boolean plainTarget(String target, int maxUriBytes) {
        if (target == null || target.isEmpty() || target.charAt(0) != '/' || target.length() > maxUriBytes) {
            return false;
        }
        int length = target.length();
        int i = 0;
        char previous = 0;
        for (; i < length; i++) {
            char c = target.charAt(i);
            if (c == '?') {
                break;
            }
            boolean plain = (c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || c == '-'
                    || c == '_'
                    || c == '~'
                    || c == '!'
                    || c == '$'
                    || c == '&'
                    || c == '\''
                    || c == '('
                    || c == ')'
                    || c == '*'
                    || c == '+'
                    || c == ','
                    || c == '='
                    || c == ':'
                    || c == '@'
                    || c == ';'
                    || c == '/'
                    || c == '.';
            if (!plain) {
                return false;
            }
            if (c == '/' && previous == '/') {
                return false; // an empty segment
            }
            if (c == '.' && previous == '/') {
                // "/." starts a dot segment when followed by "/", "?", the end, or ".": fall back for any
                int next = i + 1 < length ? target.charAt(i + 1) : -1;
                if (next == -1 || next == '/' || next == '?' || next == '.') {
                    return false;
                }
            }
            if (c == ';') {
                return false; // path parameters: Jetty strips or refuses them
            }
            previous = c;
        }
        for (; i < length; i++) {
            char c = target.charAt(i);
            if (c <= 0x20 || c >= 0x7f || c == '#') {
                return false;
            }
        }
        return true;
    }
}
