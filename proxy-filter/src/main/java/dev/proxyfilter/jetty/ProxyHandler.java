package dev.proxyfilter.jetty;

import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.forward.ForwardRoute;
import dev.proxyfilter.forward.ProxyEngine;
import dev.proxyfilter.route.PathNormalizer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http.PreEncodedHttpField;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * The engine as a Jetty core {@link Handler}, with no servlet layer in between: the standalone proxy's
 * listener runs it. It does what {@link dev.proxyfilter.servlet.JettyProxyServlet} does (405 for
 * {@code CONNECT}, path normalisation, 403 for a host no route serves, 404 for no route, then
 * {@link ProxyEngine#forward}), over {@link HandlerExchange}: the request body is read by demand and the
 * response written with {@link Response#write}, so no thread waits for a client or a backend.
 *
 * <p>Why not the servlet: the profile of a 100-byte proxied GET showed the ee10 servlet layer (servlet
 * channel, async context, {@code HttpOutput}, header wrappers, a header copy each way) as a large part of
 * the proxy's own CPU per request; see bench/profile.md.
 */
public final class ProxyHandler extends Handler.Abstract {
    /** The methods the proxy forwards, for the {@code Allow} header of a 405 (as the servlet adapters say). */
    static final String ALLOW = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE";

    static final HttpField NOSNIFF = new PreEncodedHttpField("X-Content-Type-Options", "nosniff");
    static final HttpField NO_STORE = new PreEncodedHttpField(HttpHeader.CACHE_CONTROL, "no-store");
    static final HttpField TEXT_PLAIN = new PreEncodedHttpField(HttpHeader.CONTENT_TYPE, "text/plain;charset=utf-8");

    private final ProxyConfig config;
    private volatile ProxyEngine engine;
    private final boolean ownsEngine;

    /** A handler that starts an engine for this configuration when it starts, and closes it when it stops. */
    public ProxyHandler(ProxyConfig config) {
        super(InvocationType.NON_BLOCKING); // see handle(): a route that may block goes to a worker
        this.config = config;
        this.ownsEngine = true;
    }

    /** A handler running an engine started by the caller, who also closes it. */
    public ProxyHandler(ProxyEngine engine) {
        super(InvocationType.NON_BLOCKING);
        this.config = engine.config();
        this.engine = engine;
        this.ownsEngine = false;
    }

    /** The running engine; {@code null} before {@link #start()} for a handler that starts its own. */
    public ProxyEngine engine() {
        return engine;
    }

    @Override
    protected void doStart() throws Exception {
        if (ownsEngine) {
            engine = ProxyEngine.start(config);
        }
        super.doStart();
    }

    @Override
    protected void doStop() throws Exception {
        super.doStop();
        ProxyEngine running = engine;
        if (ownsEngine && running != null) {
            engine = null;
            running.close();
        }
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        ProxyEngine running = engine;
        if (running == null) {
            return false;
        }
        if (HttpMethod.CONNECT.is(request.getMethod())) {
            response.getHeaders().put(HttpHeader.ALLOW, ALLOW);
            plainError(
                    response,
                    callback,
                    HttpStatus.METHOD_NOT_ALLOWED_405,
                    "Method Not Allowed: this proxy opens no tunnels");
            return true;
        }
        String rawPath = request.getHttpURI().getPath();
        String path = PathNormalizer.normalize(rawPath == null || rawPath.isEmpty() ? "/" : rawPath);
        if (path == null) {
            plainError(
                    response,
                    callback,
                    HttpStatus.BAD_REQUEST_400,
                    "Bad Request: the request path cannot be normalised safely");
            return true;
        }
        String host = request.getHeaders().get(HttpHeader.HOST);
        ForwardRoute route = running.route(host, path);
        if (route == null) {
            // An absolute-form request carries its host as Host too (Jetty checks they agree).
            if (!running.servesHost(host)) {
                plainError(
                        response,
                        callback,
                        HttpStatus.FORBIDDEN_403,
                        "Forbidden: no route serves this host; this is no open proxy");
            } else {
                plainError(response, callback, HttpStatus.NOT_FOUND_404, "Not Found: no route for this host and path");
            }
            return true;
        }
        HandlerExchange exchange = new HandlerExchange(request, response, callback, path);
        if (route.mayBlock()) {
            // Basic authentication (bcrypt) or a disk-tier cache lookup: not on the selector thread.
            request.getComponents().getExecutor().execute(() -> running.forward(route, exchange));
        } else {
            running.forward(route, exchange); // everything else on this path is non-blocking: no hand-off
        }
        return true;
    }

    /**
     * One of the proxy's own errors, as plain text with a fixed message: an error page would echo the
     * request URI.
     */
    static void plainError(Response response, Callback callback, int status, String message) {
        byte[] body = (message + "\n").getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        HttpFields.Mutable headers = response.getHeaders();
        headers.put(TEXT_PLAIN);
        headers.put(NOSNIFF);
        headers.put(NO_STORE);
        headers.put(HttpHeader.CONTENT_LENGTH, body.length);
        response.write(true, ByteBuffer.wrap(body), callback);
    }
}
