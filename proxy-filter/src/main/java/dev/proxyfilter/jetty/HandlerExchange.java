package dev.proxyfilter.jetty;

import dev.proxyfilter.forward.ClientExchange;
import dev.proxyfilter.tunnel.EndPointTunnelEnd;
import dev.proxyfilter.tunnel.TunnelEnd;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.TunnelSupport;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Promise;

/**
 * The Jetty core side of one exchange. The request's headers are Jetty's own (no copy) and the request
 * itself is the body's {@link Content.Source}, read by demand; the response is written with
 * {@link Response#write}, one write at a time as {@link ClientExchange} promises.
 *
 * <p>A write that carries the last byte of a response with a {@code Content-Length} is sent as the last
 * write, so that the head, the body and the end of a small response leave in one gathering write; the
 * engine's own last (empty) write then just succeeds. This object is the callback of every write it
 * passes on, so a write allocates nothing.
 */
final class HandlerExchange implements ClientExchange, Callback {
    private final Request request;
    private final Response response;
    private final Callback callback;
    private String path;
    // Kept at begin(): the engine reads them for its access log after the response completed, when Jetty may
    // have recycled the request for the connection's next one.
    private String method;
    private String scheme;
    private String protocol;
    private String query;
    private String remoteAddress;
    private final HttpFields headers;
    private final String host;
    private final long requestContentLength;
    private final boolean hasRequestBody;
    private final AtomicBoolean ended = new AtomicBoolean();
    private volatile Consumer<Throwable> onClientFailure;

    // Response writing: one write at a time (the engine's contract), so no lock.
    private volatile Callback pending;
    private volatile long written;
    private long responseContentLength = -1;
    private boolean lastWritten;

    HandlerExchange(Request request, Response response, Callback callback) {
        this.request = request;
        this.response = response;
        this.callback = callback;
        this.headers = request.getHeaders();
        this.host = host(request, headers);
        this.requestContentLength = headers.getLongField(HttpHeader.CONTENT_LENGTH);
        this.hasRequestBody = requestContentLength > 0
                || headers.contains(HttpHeader.TRANSFER_ENCODING)
                || (requestContentLength < 0 && Http2Body.mayHaveBody(request));
    }

    @Override
    public void begin(String path) {
        this.path = path;
        this.method = request.getMethod();
        this.scheme = request.getHttpURI().getScheme();
        this.protocol = request.getConnectionMetaData().getProtocol();
        this.query = request.getHttpURI().getQuery();
        this.remoteAddress = Request.getRemoteAddr(request);
        request.addFailureListener(this::clientFailed);
        request.addIdleTimeoutListener(WAITING_ON_BACKEND);
    }

    @Override
    public String host() {
        return host;
    }

    /**
     * The {@code Host} header, or for HTTP/2 and later, which carry it as the {@code :authority}
     * pseudo-header (RFC 9113 §8.3.1), the request's authority.
     */
    private static String host(Request request, HttpFields headers) {
        String host = headers.get(HttpHeader.HOST);
        if (host == null) {
            org.eclipse.jetty.http.HttpVersion version =
                    request.getConnectionMetaData().getHttpVersion();
            if (version != null && version.getVersion() >= org.eclipse.jetty.http.HttpVersion.HTTP_2.getVersion()) {
                host = request.getHttpURI().getAuthority();
            }
        }
        return host;
    }

    @Override
    public String rawPath() {
        String raw = request.getHttpURI().getPath();
        return raw == null || raw.isEmpty() ? "/" : raw;
    }

    /** Blocking work goes to the server's executor: this adapter runs on a selector thread. */
    @Override
    public void dispatch(Runnable work) {
        request.getComponents().getExecutor().execute(work);
    }

    /**
     * The client connection's idle timeout while no read or write is pending on it, that is while the
     * exchange waits for the backend: ignored, as the servlet container does for an async request and
     * nginx does with {@code send_timeout}. The route's own timeouts bound that wait. A pending read or
     * write still fails on it (Jetty hands it to them, not to this listener), and so does an idle client
     * connection between requests. Without this, a graceful stop, which lowers every connection's idle
     * timeout to one second, would cut a request whose backend is quiet for a second, well inside the grace.
     */
    private static final java.util.function.Predicate<java.util.concurrent.TimeoutException> WAITING_ON_BACKEND =
            timeout -> false;

    // ---- clientToProxyRequest ----

    @Override
    public String method() {
        return method != null ? method : request.getMethod(); // before begin(): the engine's first look
    }

    @Override
    public String scheme() {
        return scheme;
    }

    /** The {@code :protocol} of an extended {@code CONNECT}: Jetty hands such a stream over as a tunnel. */
    @Override
    public String connectProtocol() {
        TunnelSupport tunnel = request.getTunnelSupport();
        return tunnel == null ? null : tunnel.getProtocol();
    }

    @Override
    public String protocol() {
        return protocol;
    }

    @Override
    public String authority() {
        String host = this.host;
        if (host != null && !host.isEmpty()) {
            return host;
        }
        return ClientExchange.authority(scheme(), Request.getServerName(request), Request.getServerPort(request));
    }

    @Override
    public int localPort() {
        return Request.getLocalPort(request);
    }

    @Override
    public String remoteAddress() {
        return remoteAddress;
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
        return new RequestBody(Http2Body.source(request));
    }

    /**
     * The request as the body's source, except that {@link #fail} only stops this reader: failing Jetty's
     * request itself would fail the whole exchange (its failure listeners, a 500), where the engine wants
     * to answer the client itself (413, or 400 for a body that could not be read), as the servlet adapters do.
     */
    private static final class RequestBody implements Content.Source {
        private final Content.Source request;
        private volatile Throwable failure;

        RequestBody(Content.Source request) {
            this.request = request;
        }

        @Override
        public Content.Chunk read() {
            Throwable failed = failure;
            return failed != null ? Content.Chunk.from(failed, true) : request.read();
        }

        @Override
        public void demand(Runnable demandCallback) {
            if (failure != null) {
                demandCallback.run();
            } else {
                request.demand(demandCallback);
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
            return request.getLength();
        }
    }

    @Override
    public int maxResponseHeadBytes() {
        return request.getConnectionMetaData().getHttpConfiguration().getResponseHeaderSize();
    }

    // ---- proxyToClientResponse ----

    @Override
    public void responseHead(int status, HttpFields fields) {
        response.setStatus(status);
        HttpFields.Mutable out = response.getHeaders();
        int size = fields.size();
        for (int i = 0; i < size; i++) {
            HttpField field = fields.getField(i);
            HttpHeader header = field.getHeader();
            if (header == HttpHeader.DATE) {
                out.put(field); // replaces the one Jetty prepared
            } else {
                out.add(field);
                if (header == HttpHeader.CONTENT_LENGTH) {
                    responseContentLength = field.getLongValue();
                }
            }
        }
        if (responseContentLength < 0) {
            // A streamed body may end with the backend's trailers: Jetty asks for them as it sends the end.
            response.setTrailersSupplier(this::trailers);
        }
    }

    /** The backend's trailers, once the engine has them. */
    private volatile HttpFields trailers;

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
        return response.isCommitted();
    }

    @Override
    public void write(boolean last, ByteBuffer content, Callback callback) {
        if (pending != null) {
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
        long total = written + length;
        written = total;
        boolean complete = last || (responseContentLength >= 0 && total >= responseContentLength);
        lastWritten = complete;
        pending = callback;
        response.write(complete, content, this);
    }

    /** A write passed on to Jetty completed. */
    @Override
    public void succeeded() {
        Callback done = pending;
        pending = null;
        if (done != null) {
            done.succeeded();
        }
    }

    /** A write passed on to Jetty failed: the client is gone, or the response broke its framing. */
    @Override
    public void failed(Throwable failure) {
        Callback done = pending;
        pending = null;
        if (done != null) {
            done.failed(failure);
        } else {
            clientFailed(failure);
        }
    }

    @Override
    public void complete() {
        if (ended.compareAndSet(false, true)) {
            callback.succeeded();
        }
    }

    @Override
    public void sendError(int status, String message, HttpFields extraHeaders) {
        if (pending != null || response.isCommitted()) {
            abort(new IOException(message));
            return;
        }
        try {
            response.reset();
        } catch (IllegalStateException e) {
            abort(new IOException(message));
            return;
        }
        lastWritten = false;
        written = 0;
        responseContentLength = -1;
        byte[] body = (message + "\n").getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        HttpFields.Mutable out = response.getHeaders();
        ProxyHandler.putErrorFields(out, extraHeaders, body.length);
        if (hasRequestBody) {
            // The rest of the request body will not be read: do not reuse the connection.
            out.put(HttpHeader.CONNECTION, HttpHeaderValue.CLOSE.asString());
        }
        write(true, ByteBuffer.wrap(body), Callback.from(this::complete, this::abort));
    }

    @Override
    public void abort(Throwable failure) {
        if (ended.compareAndSet(false, true)) {
            // Failing a committed response aborts its stream: the client sees a truncated response.
            callback.failed(failure);
        }
    }

    /**
     * An HTTP/1.1 connection: Jetty hands its endpoint to another connection once the response is out; or an
     * HTTP/2 extended {@code CONNECT}, whose stream Jetty hands over the same way ({@link
     * Request#getTunnelSupport}).
     */
    @Override
    public boolean upgradable() {
        if (request.getConnectionMetaData().getHttpVersion() == HttpVersion.HTTP_1_1) {
            return request.getConnectionMetaData().getConnection().getEndPoint() != null;
        }
        return request.getTunnelSupport() != null;
    }

    /**
     * The 101 goes out as the response, and Jetty then installs the tunnel's end as the connection of the
     * client's endpoint ({@link HttpStream#UPGRADE_CONNECTION_ATTRIBUTE}, as Jetty's {@code ConnectHandler}
     * does), with whatever the client sent behind its request; the end's {@code onOpen} completes the promise.
     * If the 101 cannot be written, Jetty closes the connection and the promise fails.
     *
     * <p>An extended {@code CONNECT} (RFC 8441) gets 200 instead, without ending its stream, and the tunnel's
     * end becomes the connection of the stream's endpoint ({@link TunnelSupport#getEndPoint}), as in Jetty's own
     * {@code RFC8441Handshaker}: reads take the stream's {@code DATA} by demand, within HTTP/2's flow-control
     * window, and a write completes once its frames are out, so each direction holds one chunk at most.
     */
    @Override
    public void upgrade(HttpFields headers, Promise<TunnelEnd> promise) {
        if (!ended.compareAndSet(false, true)) {
            promise.failed(new IOException("the exchange has ended"));
            return;
        }
        TunnelSupport stream = request.getConnectionMetaData().getHttpVersion() == HttpVersion.HTTP_1_1
                ? null
                : request.getTunnelSupport();
        EndPoint endPoint = stream != null
                ? stream.getEndPoint()
                : request.getConnectionMetaData().getConnection().getEndPoint();
        EndPointTunnelEnd end = new EndPointTunnelEnd(
                endPoint,
                request.getComponents().getExecutor(),
                request.getComponents().getByteBufferPool(),
                null,
                promise::succeeded);
        response.setStatus(stream != null ? HttpStatus.OK_200 : HttpStatus.SWITCHING_PROTOCOLS_101);
        HttpFields.Mutable out = response.getHeaders();
        for (HttpField field : headers) {
            if (field.getHeader() == HttpHeader.DATE) {
                out.put(field);
            } else {
                out.add(field);
            }
        }
        request.setAttribute(HttpStream.UPGRADE_CONNECTION_ATTRIBUTE, end);
        // The head goes out first, so that a client gone by now fails the promise instead of leaving it open.
        response.write(true, BufferUtil.EMPTY_BUFFER, Callback.from(callback::succeeded, failure -> {
            promise.failed(failure);
            callback.failed(failure);
        }));
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
}
