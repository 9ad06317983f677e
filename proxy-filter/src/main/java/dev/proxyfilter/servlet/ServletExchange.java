package dev.proxyfilter.servlet;

import dev.proxyfilter.forward.ClientExchange;
import dev.proxyfilter.tunnel.TunnelEnd;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestWrapper;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Enumeration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Promise;

/**
 * The servlet side of one exchange: an async-started request whose body is read and whose response
 * is written with Servlet non-blocking I/O, so no container thread waits on a backend.
 *
 * <p>Writes follow Jetty's {@code AsyncProxyServlet.StreamWriter}: one write in flight; its callback
 * completes once {@code isReady()} says the container took the bytes. Non-last writes are flushed so
 * that streamed responses (server-sent events) reach the client as they arrive.
 */
final class ServletExchange implements ClientExchange, WriteListener, AsyncListener {
    private enum WriteState {
        IDLE,
        WRITE,
        FLUSH,
        DRAIN
    }

    private final HttpServletRequest request;
    private final HttpServletResponse response;
    private final String basePath;
    private final AtomicBoolean ended = new AtomicBoolean();
    private volatile Consumer<Throwable> onClientFailure;

    // Set by begin(), when the engine takes the exchange. The request-line facts are kept because the engine
    // reads them for its access log after the exchange completed, when the container may have recycled the
    // request (Jetty 12.1.12's ee10 then throws a NullPointerException from getMethod()).
    private String method;
    private String scheme;
    private String protocol;
    private String query;
    private String remoteAddress;
    private int localPort;
    private AsyncContext async;
    private String path;
    private HttpFields headers;
    private long requestContentLength;
    private boolean hasRequestBody;
    private ServletRequestSource requestSource;

    // Response writing, guarded by this.
    private ServletOutputStream output;
    private boolean writeListenerSet;
    private WriteState state = WriteState.IDLE;
    private ByteBuffer buffer;
    private boolean last;
    private Callback callback;
    private byte[] scratch;
    private long responseContentLength = -1;
    private long written;

    /**
     * An exchange for a request the engine may take; nothing is copied or started until it does
     * ({@link #begin}), so a request it passes on costs one small object.
     *
     * @param basePath the context path for a filter, "" for a valve
     */
    ServletExchange(HttpServletRequest request, HttpServletResponse response, String basePath) {
        this.request = request;
        this.response = response;
        this.basePath = basePath;
    }

    @Override
    public void begin(String path) {
        this.path = path;
        this.method = request.getMethod();
        this.scheme = request.getScheme();
        this.protocol = request.getProtocol();
        this.query = request.getQueryString();
        this.remoteAddress = request.getRemoteAddr();
        this.localPort = request.getLocalPort();
        this.headers = copyHeaders(request);
        this.requestContentLength = request.getContentLengthLong();
        this.hasRequestBody = requestContentLength > 0
                || request.getHeader("Transfer-Encoding") != null
                || (requestContentLength < 0 && http2MayHaveBody(request));
        if (!request.isAsyncSupported()) {
            throw new IllegalStateException("the proxy needs asynchronous processing: declare the filter or servlet "
                    + "<async-supported>true</async-supported>, and every filter before it too");
        }
        this.async = request.startAsync();
        async.setTimeout(0);
        async.addListener(this);
        this.requestSource = hasRequestBody
                ? new ServletRequestSource(
                        request,
                        requestContentLength,
                        headers.contains(HttpHeader.EXPECT) ? this::acknowledge : NO_ACKNOWLEDGEMENT)
                : null;
    }

    private static final Runnable NO_ACKNOWLEDGEMENT = () -> {};

    /** The {@code 100 Continue} the engine's first read of the body calls for, where the container does not send it. */
    private void acknowledge() {
        ContainerSupport.acknowledge(response);
    }

    @Override
    public String host() {
        String host = request.getHeader("Host");
        if (host == null && request.getProtocol().startsWith("HTTP/2")) {
            // HTTP/2's :authority, which not every container shows as a Host header
            host = ClientExchange.authority(request.getScheme(), request.getServerName(), request.getServerPort());
        }
        return host;
    }

    @Override
    public String rawPath() {
        String uri = request.getRequestURI();
        return uri.length() > basePath.length() ? uri.substring(basePath.length()) : "/";
    }

    private static HttpFields copyHeaders(HttpServletRequest request) {
        HttpFields.Mutable fields = HttpFields.build();
        Enumeration<String> names = request.getHeaderNames();
        while (names.hasMoreElements()) {
            String name = names.nextElement();
            Enumeration<String> values = request.getHeaders(name);
            while (values.hasMoreElements()) {
                fields.add(name, values.nextElement());
            }
        }
        return fields.asImmutable();
    }

    // ---- clientToProxyRequest ----

    @Override
    public String method() {
        return method != null ? method : request.getMethod(); // before begin(): the engine's first look
    }

    @Override
    public String scheme() {
        return scheme;
    }

    @Override
    public String protocol() {
        return protocol;
    }

    @Override
    public String authority() {
        String host = headers.get(HttpHeader.HOST);
        if (host != null && !host.isEmpty()) {
            return host;
        }
        return ClientExchange.authority(scheme(), request.getServerName(), request.getServerPort());
    }

    @Override
    public int localPort() {
        return localPort;
    }

    @Override
    public String remoteAddress() {
        return remoteAddress;
    }

    @Override
    public String basePath() {
        return basePath;
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public String query() {
        return query;
    }

    @Override
    public HttpFields requestHeaders() {
        return headers;
    }

    @Override
    public boolean hasRequestBody() {
        return hasRequestBody;
    }

    @Override
    public long requestContentLength() {
        return requestContentLength;
    }

    @Override
    public Content.Source requestBody() {
        return requestSource;
    }

    // ---- proxyToClientResponse ----

    /**
     * HTTP/2 says whether a request has a body with a flag the servlet API does not show: one without {@code
     * Content-Length} is taken to have one unless its method never has (GET, HEAD).
     */
    private static boolean http2MayHaveBody(HttpServletRequest request) {
        String method = request.getMethod();
        return request.getProtocol().startsWith("HTTP/2") && !"GET".equals(method) && !"HEAD".equals(method);
    }

    /** The backend's response trailers, once the engine has them. */
    private volatile java.util.Map<String, String> trailers;

    /** A streamed response (no Content-Length) whose trailers are not decided yet. */
    private boolean mayHaveTrailers;

    /**
     * Before the first write commits the response: the container is asked for trailers only if some may
     * still come (the body goes on) or already came. Tomcat sends a trailers frame whenever asked, even an
     * empty one, which would turn a gRPC Trailers-Only answer (one HEADERS frame that ends the stream) into
     * headers without a status.
     */
    private void decideTrailers(boolean last, ByteBuffer content) {
        if (!mayHaveTrailers) {
            return;
        }
        mayHaveTrailers = false;
        if (last && trailers == null) {
            return;
        }
        try {
            response.setTrailerFields(() -> trailers); // read by the container as the body ends
        } catch (IllegalStateException e) {
            // HTTP/1.0, or a container that cannot send trailers here: they are dropped
        }
    }

    /** Sent by the container after the body where it can (HTTP/2, chunked HTTP/1.1): Servlet 4's trailer fields. */
    @Override
    public void responseTrailers(HttpFields fields) {
        java.util.Map<String, String> map = new java.util.LinkedHashMap<>();
        for (HttpField field : fields) {
            map.merge(field.getName(), field.getValue(), (a, b) -> a + ", " + b);
        }
        trailers = map;
    }

    @Override
    public void responseHead(int status, HttpFields fields) {
        response.setStatus(status);
        mayHaveTrailers = !fields.contains(HttpHeader.CONTENT_LENGTH);
        int size = fields.size();
        for (int i = 0; i < size; i++) {
            HttpField field = fields.getField(i);
            String name = field.getName();
            boolean repeated = false;
            for (int j = 0; j < i && !repeated; j++) {
                repeated = fields.getField(j).is(name);
            }
            if (repeated) {
                response.addHeader(name, field.getValue());
            } else {
                response.setHeader(name, field.getValue());
            }
            if (field.getHeader() == HttpHeader.CONTENT_LENGTH) {
                synchronized (this) {
                    responseContentLength = field.getLongValue();
                }
            }
        }
    }

    @Override
    public synchronized long bytesWritten() {
        return written;
    }

    @Override
    public boolean isCommitted() {
        return response.isCommitted();
    }

    @Override
    public void write(boolean last, ByteBuffer content, Callback callback) {
        decideTrailers(last, content);
        if (last && (content == null || !content.hasRemaining()) && bodilessEnd()) {
            trailersOnly();
            callback.succeeded(); // complete() sends the head, as the whole response
            return;
        }
        boolean setListener;
        synchronized (this) {
            if (state != WriteState.IDLE) {
                callback.failed(new IllegalStateException("write pending"));
                return;
            }
            this.state = WriteState.WRITE;
            this.buffer = content;
            this.last = last;
            this.callback = callback;
            setListener = !writeListenerSet;
            writeListenerSet = true;
        }
        try {
            if (setListener) {
                output = response.getOutputStream();
                output.setWriteListener(this); // the container calls onWritePossible()
            } else {
                onWritePossible();
            }
        } catch (Throwable x) {
            onError(x);
        }
    }

    @Override
    public void onWritePossible() throws IOException {
        Callback done;
        synchronized (this) {
            while (true) {
                if (state == WriteState.IDLE) {
                    return;
                }
                if (!output.isReady()) {
                    return; // onWritePossible() again when it is
                }
                if (state == WriteState.WRITE) {
                    int length = buffer.remaining();
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
                        written += length;
                    }
                    // Flush streamed content now; a response whose last byte this was completes instead.
                    boolean complete = last || (responseContentLength >= 0 && written >= responseContentLength);
                    state = length > 0 && !complete ? WriteState.FLUSH : WriteState.DRAIN;
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
        if (failed != null) {
            failed.failed(failure);
        } else {
            clientFailed(failure);
        }
    }

    /**
     * A gRPC Trailers-Only answer (a head with {@code grpc-status}, no body) must end the HTTP/2 stream with its
     * one HEADERS frame. Tomcat ends a bodiless stream with an empty DATA frame after the head instead, which
     * gRPC clients take for a call without status; so over HTTP/2 the status goes in trailers after the head,
     * the other form gRPC allows, which every container sends as such.
     */
    private void trailersOnly() {
        String status = response.getHeader("grpc-status");
        if (status == null || trailers != null || !protocol.startsWith("HTTP/2")) {
            return;
        }
        java.util.Map<String, String> moved = new java.util.LinkedHashMap<>();
        moved.put("grpc-status", status);
        String message = response.getHeader("grpc-message");
        if (message != null) {
            moved.put("grpc-message", message);
        }
        try {
            response.setTrailerFields(() -> moved);
        } catch (IllegalStateException e) {
            return; // no trailers here: the head keeps the status
        }
        response.setHeader("grpc-status", null);
        response.setHeader("grpc-message", null);
    }

    /** No write reached the output stream yet and the response is not committed. */
    private synchronized boolean bodilessEnd() {
        return state == WriteState.IDLE && !writeListenerSet && !response.isCommitted();
    }

    @Override
    public void complete() {
        if (ended.compareAndSet(false, true)) {
            try {
                async.complete();
            } catch (IllegalStateException ignored) {
                // already completed by the container after an error
            }
        }
    }

    @Override
    public void sendError(int status, String message, HttpFields extraHeaders) {
        boolean writing;
        synchronized (this) {
            writing = state != WriteState.IDLE;
        }
        if (writing || response.isCommitted()) {
            abort(new IOException(message));
            return;
        }
        try {
            response.reset();
        } catch (IllegalStateException e) {
            abort(new IOException(message));
            return;
        }
        byte[] body = (message + "\n").getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        response.setContentType("text/plain;charset=utf-8");
        response.setHeader("Cache-Control", "no-store");
        response.setHeader("X-Content-Type-Options", "nosniff");
        for (HttpField field : extraHeaders) {
            response.addHeader(field.getName(), field.getValue());
        }
        response.setContentLength(body.length);
        if (hasRequestBody) {
            // The rest of the request body will not be read: do not reuse the connection.
            response.setHeader("Connection", "close");
        }
        write(true, ByteBuffer.wrap(body), Callback.from(this::complete, this::abort));
    }

    @Override
    public void abort(Throwable failure) {
        if (ended.compareAndSet(false, true)) {
            ContainerSupport.abort(request, response, failure);
            try {
                async.complete();
            } catch (IllegalStateException ignored) {
                // the container ended the exchange itself
            }
        }
    }

    /** How this container switches protocols; null when it cannot (see {@link #upgradable}). */
    private enum Switch {
        /** {@code HttpServletRequest.upgrade}, which Tomcat also takes from an async request off its threads. */
        SERVLET,
        /** Jetty's core, through {@link JettyUpgrade}. */
        JETTY_CORE
    }

    private Switch switching() {
        if (!"HTTP/1.1".equals(protocol)) {
            return null;
        }
        ServletRequest container = request;
        while (container instanceof ServletRequestWrapper wrapper) {
            container = wrapper.getRequest();
        }
        String type = container.getClass().getName();
        if (type.startsWith("org.apache.catalina.")) {
            return Switch.SERVLET;
        }
        if (type.startsWith("org.eclipse.jetty.ee10.") && sharesJettyIo(container)) {
            return Switch.JETTY_CORE;
        }
        return null; // another container, or a Jetty webapp with its own copy of Jetty's classes
    }

    /** Whether the container runs on the very Jetty classes this library sees (not a webapp's own copy). */
    private static boolean sharesJettyIo(ServletRequest container) {
        try {
            ClassLoader loader = container.getClass().getClassLoader();
            return loader != null
                    && Class.forName("org.eclipse.jetty.io.EndPoint", false, loader)
                            == org.eclipse.jetty.io.EndPoint.class;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /**
     * Tomcat ({@code HttpServletRequest.upgrade}), and Jetty when the proxy is embedded in it (through Jetty's
     * core: see {@link JettyUpgrade} for why not the servlet upgrade); over HTTP/1.1. Never an HTTP/2 stream:
     * the servlet API cannot hand one over, so RFC 8441's extended {@code CONNECT} is the standalone listener's
     * only ({@code jetty.HandlerExchange}); here {@link #connectProtocol} stays {@code null} and a {@code
     * CONNECT} is refused with 405.
     */
    @Override
    public boolean upgradable() {
        return switching() != null;
    }

    /**
     * The 101 with {@code headers}, then the asynchronous request completes, which is when the container
     * switches: Tomcat calls {@link TunnelUpgradeHandler#init}, Jetty installs the tunnel's end on the
     * endpoint; either completes the promise. A client gone before that leaves the promise to the tunnel's
     * hand-over timeout.
     */
    @Override
    public void upgrade(HttpFields fields, Promise<TunnelEnd> promise) {
        Switch how = switching();
        if (how == null || !ended.compareAndSet(false, true)) {
            promise.failed(new IOException("this exchange cannot switch protocols now"));
            return;
        }
        try {
            response.setStatus(HttpServletResponse.SC_SWITCHING_PROTOCOLS);
            responseHead(HttpServletResponse.SC_SWITCHING_PROTOCOLS, fields);
            if (how == Switch.SERVLET) {
                request.upgrade(TunnelUpgradeHandler.class).handOver(promise);
            } else {
                JettyUpgrade.upgrade(request, promise);
            }
        } catch (IOException | ServletException | RuntimeException | LinkageError e) {
            promise.failed(e);
            ContainerSupport.abort(request, response, e);
        } finally {
            try {
                async.complete();
            } catch (IllegalStateException ignored) {
                // the container ended the exchange itself
            }
        }
    }

    @Override
    public void onClientFailure(Consumer<Throwable> onClientFailure) {
        this.onClientFailure = onClientFailure;
    }

    private void clientFailed(Throwable failure) {
        Consumer<Throwable> listener = onClientFailure;
        if (listener != null) {
            listener.accept(failure);
        } else {
            abort(failure);
        }
    }

    // ---- AsyncListener ----

    @Override
    public void onComplete(AsyncEvent event) {
        // nothing to do
    }

    @Override
    public void onTimeout(AsyncEvent event) {
        clientFailed(new IOException("async timeout"));
    }

    @Override
    public void onError(AsyncEvent event) {
        Throwable failure = event.getThrowable();
        onError(failure == null ? new IOException("client failure") : failure);
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
        // not re-dispatched
    }
}
