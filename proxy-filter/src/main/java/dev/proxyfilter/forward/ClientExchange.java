package dev.proxyfilter.forward;

import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.Callback;

/**
 * One client request and its response, as an adapter (servlet filter, Jetty servlet, Tomcat valve, Jetty
 * core handler) hands it to {@link ProxyEngine#handle}. The adapter translates; the engine decides.
 *
 * <p>Until the engine calls {@link #begin}, it reads only {@link #method}, {@link #host} and
 * {@link #rawPath}, and the adapter may still pass the request on (a filter to the rest of its chain).
 * From {@link #begin} on, the engine answers the exchange exactly once.
 *
 * <p>The request side is read-only facts plus a body {@link Content.Source}. The response side is a
 * {@link Content.Sink}: {@link #write} must not be called again before the previous callback completed,
 * and a non-last write is flushed to the client (so that server-sent events are not held back).
 */
public interface ClientExchange extends Content.Sink {

    /** What {@link #maxResponseHeadBytes()} says when the container's limit is not known: Jetty's and Tomcat's default. */
    int DEFAULT_MAX_RESPONSE_HEAD_BYTES = 8192;

    // ---- clientToProxyRequest ----

    /** Request method, e.g. {@code GET}. */
    String method();

    /** The {@code Host} header as received (with a port if it has one), or {@code null}: what routes match. */
    String host();

    /**
     * The request path as received, still percent-encoded, inside {@link #basePath} (the webapp's context
     * path removed); "/" when empty. The engine normalises it before routing.
     */
    String rawPath();

    /**
     * The engine takes the exchange and will answer it; servlet adapters start asynchronous processing here.
     * Called once, before any other method below the request line's.
     *
     * @param path the normalised path, which {@link #path} returns from now on
     */
    void begin(String path);

    /**
     * Runs {@code work}, which may block (bcrypt, a disk-tier cache read), on a thread where blocking is
     * allowed: a worker for an adapter that runs on a selector thread, the calling thread otherwise.
     */
    default void dispatch(Runnable work) {
        work.run();
    }

    /**
     * The most bytes of response head (status line and header fields) the container will send to this client;
     * a larger head fails in the container (Jetty answers 500, Tomcat closes the connection), so the engine
     * drops fields to stay within it (see {@code ForwardHeaders}).
     */
    default int maxResponseHeadBytes() {
        return DEFAULT_MAX_RESPONSE_HEAD_BYTES;
    }

    /** {@code http} or {@code https}, as the client connected. */
    String scheme();

    /**
     * The {@code :protocol} of an extended {@code CONNECT} (RFC 8441, HTTP/2), e.g. {@code websocket}; {@code null}
     * for a plain {@code CONNECT}, and where the adapter cannot hand such a stream over (the servlet adapters).
     * The engine asks only of a {@code CONNECT}, before {@link #begin}.
     */
    default String connectProtocol() {
        return null;
    }

    /** Protocol version as received, e.g. {@code HTTP/1.1}. */
    String protocol();

    /** The Host the client asked for, with port if it gave one; never null (falls back to the local name). */
    String authority();

    /**
     * What {@link #authority} is without a usable Host header: the server's name, and its port unless it
     * is the scheme's default.
     */
    static String authority(String scheme, String serverName, int serverPort) {
        boolean defaultPort = serverPort == ("https".equals(scheme) ? 443 : 80);
        return defaultPort ? serverName : serverName + ":" + serverPort;
    }

    /** The local port the client connected to. */
    int localPort();

    /** The peer's IP address. */
    String remoteAddress();

    /** Path prefix the adapter lives under ("" for the standalone proxy; the context path in a webapp). */
    String basePath();

    /**
     * The normalised path used for routing and forwarding, still percent-encoded, starting with "/"; given
     * by {@link #begin}.
     */
    String path();

    /** The raw query string without "?", or null. */
    String query();

    /** The client's request headers. */
    HttpFields requestHeaders();

    /** Whether the client request has a body (a Content-Length above 0, or a Transfer-Encoding). */
    boolean hasRequestBody();

    /** Content-Length of the request body, -1 when unknown (chunked). */
    long requestContentLength();

    /** The request body; called at most once, and only when {@link #hasRequestBody()}. */
    Content.Source requestBody();

    // ---- proxyToClientResponse ----

    /** Sets the status and headers; they reach the client with the first {@link #write}. */
    void responseHead(int status, HttpFields headers);

    /** Body bytes written to the client so far. */
    long bytesWritten();

    /** Whether any response byte may have reached the client. */
    boolean isCommitted();

    /**
     * Writes body content. The buffer is only read until {@code callback} completes.
     * {@code last} ends the response body.
     */
    @Override
    void write(boolean last, ByteBuffer content, Callback callback);

    /**
     * The backend's response trailers (gRPC's {@code grpc-status}, say), to send after the body's last byte
     * where the client's protocol and the adapter allow: HTTP/2, and chunked HTTP/1.1. Dropped elsewhere (a
     * {@code Content-Length} response, HTTP/1.0, an adapter without trailers). Called at most once, after
     * {@link #responseHead} and before the last {@link #write}.
     */
    default void responseTrailers(HttpFields trailers) {}

    /** Ends the exchange after a successful last {@link #write}. */
    void complete();

    /**
     * Answers with an error status and a short plain-text body when nothing was committed yet;
     * otherwise aborts. Ends the exchange.
     */
    default void sendError(int status, String message) {
        sendError(status, message, HttpFields.EMPTY);
    }

    /**
     * Like {@link #sendError(int, String)}, with extra response headers such as {@code WWW-Authenticate},
     * {@code Retry-After} or configured security headers. The body is {@code text/plain} with
     * {@code X-Content-Type-Options: nosniff}; {@code message} must not contain request data.
     */
    void sendError(int status, String message, HttpFields headers);

    /**
     * Closes the client connection without ending the response properly, so that the client sees a
     * truncated response rather than a complete but wrong one. Ends the exchange.
     */
    void abort(Throwable failure);

    // ---- switching protocols (step 9, Tunnel) ----

    /**
     * Whether this exchange's connection can become a byte tunnel ({@link #upgrade}): an HTTP/1.1 connection
     * the adapter can take from its container, or the HTTP/2 stream of an extended {@code CONNECT} ({@link
     * #connectProtocol}). False by default, and where the container cannot (a Jetty webapp with its own copy of
     * Jetty's classes): such an upgrade is then forwarded without {@code Upgrade}.
     */
    default boolean upgradable() {
        return false;
    }

    /**
     * Switches protocols: answers 101 with {@code headers} (200 to an extended {@code CONNECT}, whose stream
     * then carries the tunnel) and, once the answer is out, hands the connection (or the stream) over
     * as a {@link dev.proxyfilter.tunnel.TunnelEnd} to {@code promise}, which fails instead if the container
     * cannot or the client went away first. Ends the exchange, as {@link #complete} does; called only when
     * {@link #upgradable}, before anything was written.
     */
    default void upgrade(HttpFields headers, org.eclipse.jetty.util.Promise<dev.proxyfilter.tunnel.TunnelEnd> promise) {
        promise.failed(new UnsupportedOperationException("this adapter cannot switch protocols"));
    }

    /** Runs {@code onClientFailure} if the client goes away or the container gives up on the exchange. */
    void onClientFailure(java.util.function.Consumer<Throwable> onClientFailure);
}
