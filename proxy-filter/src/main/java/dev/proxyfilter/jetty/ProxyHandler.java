package dev.proxyfilter.jetty;

import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.forward.ProxyEngine;
import java.util.concurrent.CompletableFuture;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.PreEncodedHttpField;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.component.Graceful;

/**
 * The engine as a Jetty core {@link Handler}, with no servlet layer in between: the standalone proxy's
 * listener runs it. Like every adapter it only translates: each request goes to {@link ProxyEngine#handle} as
 * a {@link HandlerExchange}, whose request body is read by demand and whose response is written with
 * {@link Response#write}, so no thread waits for a client or a backend. It runs on the selector thread; the
 * engine hands a route that may block to a worker through {@link HandlerExchange#dispatch}.
 *
 * <p>Why not the servlet: the profile of a 100-byte proxied GET showed the ee10 servlet layer (servlet
 * channel, async context, {@code HttpOutput}, header wrappers, a header copy each way) as a large part of
 * the proxy's own CPU per request; see bench/profile.md.
 */
public final class ProxyHandler extends Handler.Abstract implements Graceful {
    static final HttpField NOSNIFF = new PreEncodedHttpField("X-Content-Type-Options", "nosniff");
    static final HttpField NO_STORE = new PreEncodedHttpField(HttpHeader.CACHE_CONTROL, "no-store");
    static final HttpField TEXT_PLAIN = new PreEncodedHttpField(HttpHeader.CONTENT_TYPE, "text/plain;charset=utf-8");

    /**
     * The fields of one of the proxy's own plain-text error answers, into {@code out}: the content type,
     * {@code no-store}, {@code nosniff}, the refusal's {@code extraHeaders} and the body's length. The adapters
     * on this listener (the handler's and the fast path's exchanges) answer alike.
     */
    static void putErrorFields(HttpFields.Mutable out, HttpFields extraHeaders, int bodyLength) {
        out.put(TEXT_PLAIN);
        out.put(NO_STORE);
        out.put(NOSNIFF);
        for (HttpField field : extraHeaders) {
            out.add(field);
        }
        out.put(HttpHeader.CONTENT_LENGTH, bodyLength);
    }

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

    /**
     * A graceful stop of the server waits for WebSocket tunnels too, up to its stop timeout: Jetty sees no
     * request of a tunnel once its 101 is out, and would otherwise close it with the connectors at once. The
     * connectors close what is left when the timeout ends.
     */
    @Override
    public CompletableFuture<Void> shutdown() {
        ProxyEngine running = engine;
        if (running == null) {
            return CompletableFuture.completedFuture(null);
        }
        running.startDraining();
        return running.tunnelsClosed();
    }

    @Override
    public boolean isShutdown() {
        ProxyEngine running = engine;
        return running == null || (running.draining() && running.openTunnels() == 0);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        ProxyEngine running = engine;
        if (running == null) {
            return false;
        }
        return running.handle(new HandlerExchange(request, response, callback), ProxyEngine.Unrouted.ANSWER);
    }
}
