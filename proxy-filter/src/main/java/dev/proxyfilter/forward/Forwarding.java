package dev.proxyfilter.forward;

import dev.proxyfilter.balance.Backend;
import dev.proxyfilter.balance.RequestView;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client request on its way through the proxy. The whole pipeline, in order:
 * <ol>
 *   <li>{@link #start}: pick a backend from the route's pool (503 naming the pool if none can take it); the
 *       pool reads the request through this class's {@link RequestView} methods, only as far as it needs;</li>
 *   <li>{@link Attempt#send}: build {@code proxyToServerRequest} with clean headers and the streamed body;</li>
 *   <li>{@link Attempt#onHeaders}: report the backend's latency; {@code serverToProxyResponse} headers become
 *       {@code proxyToClientResponse}, plus the pool's sticky cookie when it has to change;</li>
 *   <li>{@link Attempt#onContentSource}: the body is copied chunk by chunk with back-pressure both ways;</li>
 *   <li>{@link #failed}: before any response byte reached the client, a failure is retried once on another
 *       backend where that is safe, else mapped to 502/503/504; after, the client connection is aborted.</li>
 * </ol>
 */
final class Forwarding implements RequestView {
    private static final Logger LOG = LoggerFactory.getLogger(Forwarding.class);
    private static final int MAX_ATTEMPTS = 2;

    private final ProxyEngine engine;
    private final ForwardRoute route;
    private final ClientExchange client;
    private final RequestBody requestBody;
    private final AtomicBoolean done = new AtomicBoolean();
    private volatile Attempt current;
    private int attempts;

    Forwarding(ProxyEngine engine, ForwardRoute route, ClientExchange client) {
        this.engine = engine;
        this.route = route;
        this.client = client;
        this.requestBody = client.hasRequestBody() ? new RequestBody(client) : null;
    }

    void start() {
        client.onClientFailure(this::clientFailed);
        Backend backend = route.pool().select(this, null);
        if (backend == null) {
            noBackend();
            return;
        }
        new Attempt(backend).send();
    }

    // ---- RequestView: what the pool may read of the client request; nothing is copied or parsed ahead ----

    @Override
    public String clientIp() {
        return client.remoteAddress();
    }

    @Override
    public String header(String name) {
        return client.requestHeaders().get(name);
    }

    @Override
    public String cookie(String name) {
        return RequestCookies.find(client.requestHeaders(), name);
    }

    @Override
    public String path() {
        return client.path();
    }

    private void noBackend() {
        finishWithError(503, "Service Unavailable: no backend available in pool '" + route.pool().name() + "'");
    }

    /** The client went away or the container gave up: stop the upstream exchange and end. */
    private void clientFailed(Throwable failure) {
        Attempt attempt = current;
        if (attempt != null) {
            attempt.request.abort(failure);
        }
        if (done.compareAndSet(false, true)) {
            LOG.debug("client failed on route {}", route.name(), failure);
            client.abort(failure);
        }
    }

    private void failed(Attempt attempt, Throwable failure) {
        if (done.get()) {
            return;
        }
        if (!attempt.responseStarted && !client.isCommitted() && mayRetry(attempt, failure)) {
            Backend next = route.pool().select(this, attempt.backend);
            if (next != null && (next != attempt.backend || !neverReachedBackend(failure))) {
                LOG.debug("retrying {} {} on backend {} after {}", client.method(), client.path(), next.name(), failure.toString());
                new Attempt(next).send();
                return;
            }
        }
        int status = statusFor(failure);
        if (!attempt.responseStarted || !client.isCommitted()) {
            LOG.warn("{} {} -> backend {}/{} ({}) failed: {}", client.method(), client.path(), route.pool().name(),
                    attempt.backend.name(), attempt.backend.url(), failure.toString());
        } else {
            LOG.warn("{} {} -> backend {}/{} ({}) failed after the response started; aborting the client connection: {}",
                    client.method(), client.path(), route.pool().name(), attempt.backend.name(), attempt.backend.url(),
                    failure.toString());
        }
        finishWithError(status, switch (status) {
            case 504 -> "Gateway Timeout: backend '" + attempt.backend.name() + "' of pool '" + route.pool().name()
                    + "' did not answer in time";
            case 503 -> "Service Unavailable: pool '" + route.pool().name() + "' cannot take more requests";
            default -> "Bad Gateway: backend '" + attempt.backend.name() + "' of pool '" + route.pool().name()
                    + "' failed";
        });
    }

    private boolean mayRetry(Attempt attempt, Throwable failure) {
        if (attempts >= MAX_ATTEMPTS || (requestBody != null && requestBody.started())) {
            return false;
        }
        if (neverReachedBackend(failure)) {
            return true; // safe for any method, POST included
        }
        return isIdempotent(client.method()) && !(failure instanceof TimeoutException);
    }

    private static boolean neverReachedBackend(Throwable failure) {
        return failure instanceof ConnectException || failure instanceof NoRouteToHostException
                || failure instanceof UnresolvedAddressException
                || (failure instanceof SocketTimeoutException && String.valueOf(failure.getMessage()).contains("Connect"));
    }

    private static boolean isIdempotent(String method) {
        return switch (method) {
            case "GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE" -> true;
            default -> false;
        };
    }

    /** Jetty's {@code proxyResponseStatus}: 504 for a timeout, 503 for a full queue, else 502. */
    static int statusFor(Throwable failure) {
        if (failure instanceof TimeoutException || failure instanceof SocketTimeoutException) {
            return 504;
        }
        if (failure instanceof RejectedExecutionException) {
            return 503;
        }
        return 502;
    }

    private void finishWithError(int status, String message) {
        if (done.compareAndSet(false, true)) {
            client.sendError(status, message);
        }
    }

    private void finishAbort(Throwable failure) {
        if (done.compareAndSet(false, true)) {
            client.abort(failure);
        }
    }

    private void finishSuccess() {
        if (done.compareAndSet(false, true)) {
            client.complete();
        }
    }

    /** One try against one backend. */
    private final class Attempt implements Response.Listener {
        private final Backend backend;
        private volatile Request request;
        private long sentNanos;
        private volatile boolean responseStarted;
        private volatile boolean copyStarted;

        Attempt(Backend backend) {
            this.backend = backend;
        }

        void send() {
            attempts++;
            String path = route.serverPath(client.path());
            String query = client.query();
            request = route.client().newRequest(backend.host(), backend.port())
                    .scheme(backend.scheme())
                    .method(client.method())
                    .version(HttpVersion.HTTP_1_1)
                    .path(query == null ? path : path + "?" + query)
                    .headers(headers -> ForwardHeaders.clientToServer(client, route.preserveHost(),
                            engine.config().via(), headers));
            if (route.idleTimeoutMillis() > 0) {
                request.idleTimeout(route.idleTimeoutMillis(), TimeUnit.MILLISECONDS);
            }
            if (route.timeoutMillis() > 0) {
                request.timeout(route.timeoutMillis(), TimeUnit.MILLISECONDS);
            }
            if (requestBody != null) {
                request.body(requestBody);
            }
            current = this;
            backend.onRequestStart();
            sentNanos = System.nanoTime();
            request.send(this);
        }

        @Override
        public void onHeaders(Response serverResponse) {
            responseStarted = true;
            backend.onResponse(System.nanoTime() - sentNanos);
            PassiveHealth.responded(backend, serverResponse.getStatus());
            if (done.get()) {
                return;
            }
            HttpFields.Mutable headers = ForwardHeaders.serverToClient(serverResponse.getHeaders(), client, backend, route,
                    engine.config().via());
            String stickyCookie = route.pool().stickyCookie(Forwarding.this, backend);
            if (stickyCookie != null) {
                headers.add(HttpHeader.SET_COOKIE, stickyCookie);
            }
            client.responseHead(serverResponse.getStatus(), headers);
        }

        @Override
        public void onContentSource(Response serverResponse, Content.Source source) {
            copyStarted = true;
            if (done.get()) {
                source.fail(new IllegalStateException("exchange already ended"));
                return;
            }
            Content.copy(source, client, Callback.from(Forwarding.this::finishSuccess, failure -> {
                request.abort(failure);
                Forwarding.this.failed(this, failure);
            }));
        }

        @Override
        public void onComplete(Result result) {
            backend.onRequestEnd();
            if (result.isFailed() && !responseStarted) {
                PassiveHealth.failed(backend, request, result.getFailure());
            }
            if (result.isFailed()) {
                Throwable failure = result.getFailure();
                if (copyStarted) {
                    // The copy sees the failure too, unless it is waiting on the client: abort either way.
                    if (responseStarted && client.isCommitted()) {
                        finishAbort(failure);
                    } else {
                        Forwarding.this.failed(this, failure);
                    }
                } else {
                    Forwarding.this.failed(this, failure);
                }
            } else if (!copyStarted) {
                client.write(true, BufferUtil.EMPTY_BUFFER, Callback.from(Forwarding.this::finishSuccess, Forwarding.this::finishAbort));
            }
        }
    }

    /**
     * The client's request body as the upstream request's content. A retry may reuse it as long as
     * no byte was read; a failure before that does not fail the client's stream.
     */
    private static final class RequestBody implements Request.Content {
        private final ClientExchange client;
        private final String contentType;
        private Content.Source source;
        private volatile boolean started;

        RequestBody(ClientExchange client) {
            this.client = client;
            this.contentType = client.requestHeaders().get(HttpHeader.CONTENT_TYPE);
        }

        boolean started() {
            return started;
        }

        private Content.Source source() {
            if (source == null) {
                source = client.requestBody();
            }
            return source;
        }

        @Override
        public String getContentType() {
            return contentType;
        }

        @Override
        public long getLength() {
            return client.requestContentLength();
        }

        @Override
        public Content.Chunk read() {
            started = true;
            return source().read();
        }

        @Override
        public void demand(Runnable demandCallback) {
            started = true;
            source().demand(demandCallback);
        }

        @Override
        public void fail(Throwable failure) {
            if (started) {
                source().fail(failure);
            }
        }

        @Override
        public boolean rewind() {
            return !started;
        }
    }
}
