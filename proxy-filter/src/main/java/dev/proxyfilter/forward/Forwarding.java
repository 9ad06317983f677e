package dev.proxyfilter.forward;

import dev.proxyfilter.accesslog.AccessLog;
import dev.proxyfilter.balance.Backend;
import dev.proxyfilter.balance.RequestView;
import dev.proxyfilter.config.AccessLogFormat;
import dev.proxyfilter.health.PassiveHealth;
import dev.proxyfilter.metrics.ProxyMetrics;
import dev.proxyfilter.security.Admission;
import dev.proxyfilter.time.ProxyClock;
import dev.proxyfilter.upstream.UpstreamExchange;
import dev.proxyfilter.upstream.UpstreamListener;
import java.net.SocketTimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request's lifecycle from step 5 of the pipeline on (steps 1-4 are in {@link ProxyEngine#handle}). Each
 * step starts the next as the exchange's events arrive; none waits on a thread:
 * <ol start="5">
 *   <li><b>Cache lookup</b> ({@link #start}, {@link CachedExchange#begin}): on a caching route, a hit, a stale
 *       answer or {@code only-if-cached} is answered here; an identical miss in flight is waited for; else on.
 *   <li><b>Admission and queue</b> ({@link #admit}, {@link PoolGate}): a backend with room under its {@code
 *       max-connections}, or a place in the pool's bounded queue, or 503 naming the pool.
 *   <li><b>Pick a backend</b> ({@link PoolGate#acquire} asks the pool's strategy, {@code
 *       dev.proxyfilter.balance.BackendSelector}); the strategy reads the request through this class's {@link
 *       RequestView} methods, only as far as it needs.
 *   <li><b>Forward</b> ({@link Attempt#send}): {@link ForwardHeaders} cleans the headers both ways, the body
 *       streams from {@link RequestBodySource}, and the response copies chunk by chunk to {@link ClientSink},
 *       with back-pressure both ways.
 *   <li><b>Tunnel</b> ({@code Attempt.switchProtocols}, {@link Tunnel}): a WebSocket upgrade (which skipped the
 *       cache and took a place under the tunnel limits in {@link #start}) that the backend answered with 101
 *       ends here as an exchange and goes on as a tunnel. An RFC 8441 extended {@code CONNECT} is such an
 *       upgrade too, with the proxy's own handshake towards the backend ({@link ExtendedConnect}).
 *   <li><b>Retry</b> ({@link #failed}, {@link RetryPolicy}): before any response byte reached the client, a
 *       failure the route's {@code retry-on} names goes to a backend not tried yet, where that is safe and the
 *       pool's retry budget allows; else 502/503/504, or an aborted client connection once the response started.
 *   <li><b>Cache store</b> ({@link CachedExchange#tee}, {@link CachedExchange#bodyComplete}): a storable response
 *       is kept as it streams past.
 *   <li><b>Log</b> ({@link #ended}): route metrics, the access-log line ({@link AccessLog}), the in-flight count.
 * </ol>
 */
final class Forwarding implements RequestView, PoolGate.Waiter {
    private static final Logger LOG = LoggerFactory.getLogger(Forwarding.class);

    private final ProxyEngine engine;
    private final ForwardRoute route;
    private final PoolGate gate;
    private final RetryPolicy retry;
    private final ClientExchange client;
    /** The security step's verdict: the client IP, and what to change in the upstream request. */
    private final Admission admission;

    private final RequestBodySource requestBody;
    /** Set once, by whoever ends the exchange ({@link #markDone}). */
    private volatile boolean done;

    private final long deadlineNanos;
    private final ProxyClock clock;
    private final long startNanos;
    /** The status the client got (or is getting), for metrics and the access log. */
    private volatile int clientStatus;

    private volatile boolean clientGone;
    private volatile Attempt current;
    private volatile int attempts;
    /** Backends tried so far, in order; a retry prefers one that is not in it. The first try's alone needs no array. */
    private Backend firstTried;

    private Backend[] tried;
    /** The response cache's part in this exchange; {@code null} when the route does not cache. */
    private CachedExchange cached;
    /** A WebSocket upgrade that may become a tunnel (step 9, {@link Tunnel}): it skips the cache. */
    private final boolean upgrade;
    /** RFC 8441's extended {@code CONNECT} for WebSocket, which step 1 let through ({@link ExtendedConnect}). */
    private final boolean extendedConnect;
    /** The upgrade's place under the tunnel limits, from its admission; the tunnel keeps it. */
    private Tunnels.Place tunnelPlace;
    /** Set once the backend's 101 made this exchange a tunnel. */
    private volatile boolean tunnelled;

    private final boolean grpc;

    Forwarding(ProxyEngine engine, ForwardRoute route, ClientExchange client, Admission admission) {
        this(engine, route, client, admission, false);
    }

    /** @param extendedConnect the request is RFC 8441's {@code CONNECT} for WebSocket */
    Forwarding(
            ProxyEngine engine,
            ForwardRoute route,
            ClientExchange client,
            Admission admission,
            boolean extendedConnect) {
        this.engine = engine;
        this.clock = engine.clock();
        this.startNanos = clock.nanoTime();
        this.admission = admission;
        this.route = route;
        this.gate = route.gate();
        this.retry = route.retryPolicy();
        this.client = client;
        this.requestBody = client.hasRequestBody() ? new RequestBodySource(client, route.maxBodyBytes()) : null;
        this.extendedConnect = extendedConnect;
        this.upgrade = route.websocket() && (extendedConnect || Tunnel.requested(client)) && client.upgradable();
        this.grpc = client instanceof GrpcExchange; // a gRPC call: its deadline is the timeout, and never cached
        long timeoutMillis =
                grpc ? Grpc.timeoutMillis(route.timeoutMillis(), client.requestHeaders()) : route.timeoutMillis();
        this.deadlineNanos = timeoutMillis > 0 ? clock.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis) : 0;
        engine.inFlight().begin(); // last: ended() pairs with it once, see InFlight
    }

    /** Starts step 5; the others follow from it. */
    void start() {
        client.onClientFailure(this::clientFailed);
        gate.onRequestStart();
        if (!admission.admitted()) {
            // The security step refused (401, 403, 429): answered here, so that metrics and the access log see it.
            finishWithError(admission.status(), admission.message(), admission.responseHeaders());
            return;
        }
        if (requestBody != null && route.bodyTimeoutMillis() > 0) {
            requestBody.timer =
                    engine.scheduler().schedule(this::bodyTimedOut, route.bodyTimeoutMillis(), TimeUnit.MILLISECONDS);
        }
        if (extendedConnect && !upgrade) {
            // Unlike an HTTP/1.1 upgrade it cannot go on as a plain request: a 2xx would open a tunnel.
            finishWithError(
                    501, "Not Implemented: route '" + route.name() + "' does not tunnel WebSocket (websocket=false)");
            return;
        }
        if (upgrade) {
            // A WebSocket upgrade: no cache; a place under the tunnel limits, then 6. admission.
            tunnelPlace = engine.tunnels().reserve(route);
            if (tunnelPlace == null) {
                finishWithError(503, Tunnels.refusal(route, engine.tunnels().onRoute(route.name())));
                return;
            }
            admit(false);
            return;
        }
        // 5. Cache lookup, on a caching route; then 6. admission.
        CachingStep caching = engine.caching();
        cached = caching == null || grpc ? null : caching.exchange(route, client);
        if (cached == null) {
            admit(false);
        } else {
            cached.begin(cachePipeline());
        }
    }

    /** What the cache lookup continues with: an answer from the cache, a forward, or a background refresh. */
    private CachedExchange.Pipeline cachePipeline() {
        return new CachedExchange.Pipeline() {
            @Override
            public void answer(int status, HttpFields.Mutable headers, java.nio.ByteBuffer body) {
                answerFromCache(status, headers, body);
            }

            @Override
            public void forward() {
                admit(false);
            }

            @Override
            public void revalidateInBackground(CachedExchange revalidation) {
                // The refresh carries this request's admission: the same client identity and upstream headers.
                Forwarding background = new Forwarding(engine, route, new BackgroundExchange(client), admission);
                background.cached = revalidation;
                background.client.onClientFailure(background::clientFailed);
                background.gate.onRequestStart();
                revalidation.beginRevalidation(new CachedExchange.Pipeline() {
                    @Override
                    public void answer(int status, HttpFields.Mutable headers, java.nio.ByteBuffer body) {
                        background.answerFromCache(status, headers, body);
                    }

                    @Override
                    public void forward() {
                        background.admit(false);
                    }

                    @Override
                    public void revalidateInBackground(CachedExchange ignored) {
                        // a background exchange does not start another
                    }
                });
            }
        };
    }

    private void answerFromCache(int status, HttpFields headers, java.nio.ByteBuffer body) {
        if (!done) {
            clientStatus = status;
            client.responseHead(status, headers);
            writeLast(body, Callback.from(this::finishSuccess, this::finishAbort));
        }
    }

    /** The response was written in full: let the cache store it, then end. */
    private void bodySent() {
        if (cached != null) {
            cached.bodyComplete();
        }
        finishSuccess();
    }

    /**
     * Answers a request {@link RequestChecks} refused (ambiguous framing, limits) without contacting a
     * backend, counted in the metrics and the access log like any refusal.
     */
    void refuse(int status, String message) {
        client.onClientFailure(this::clientFailed);
        gate.onRequestStart();
        finishWithError(status, message);
    }

    /** {@code proxy.body-timeout}: the client did not send its whole body in time. No thread waited for it. */
    private void bodyTimedOut() {
        if (requestBody.finished || done) {
            return;
        }
        RequestBodyException failure = new RequestBodyException(
                408,
                "Request Timeout: the request body did not " + "arrive within " + route.bodyTimeoutMillis() + " ms");
        Attempt attempt = current;
        if (attempt != null) {
            attempt.exchange.abort(failure); // fails the try; failed() answers 408 or aborts
        } else {
            finishWithError(failure.status, failure.getMessage());
        }
    }

    /** The next attempt resends a cache validation without conditions (see {@link #failed}). */
    private volatile boolean resending;

    /** Takes a backend with room, or queues, or answers 503. */
    private void admit(boolean front) {
        if (done) {
            return;
        }
        Backend backend = gate.acquire(this, null);
        if (backend == null) {
            noBackend();
        } else if (backend == PoolGate.FULL) {
            if (!gate.enqueue(this, front)) {
                finishWithError(
                        503,
                        "Service Unavailable: every backend of pool '"
                                + route.pool().name() + "' is at its connection limit and the queue is full");
            }
        } else {
            new Attempt(backend).send();
        }
    }

    // ---- PoolGate.Waiter: this request waits in the pool's queue ----

    @Override
    public void retry() {
        admit(true);
    }

    @Override
    public void expired() {
        finishWithError(
                503,
                "Service Unavailable: no backend of pool '" + route.pool().name()
                        + "' had room within the queue timeout");
    }

    // ---- RequestView: what the pool may read of the client request; nothing is copied or parsed ahead ----

    @Override
    public String clientIp() {
        String ip = admission.clientIp();
        return ip != null ? ip : client.remoteAddress();
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
        finishWithError(
                503,
                "Service Unavailable: no backend available in pool '"
                        + route.pool().name() + "'");
    }

    /** The client went away or the container gave up: stop the upstream exchange and end. */
    private void clientFailed(Throwable failure) {
        clientGone = true; // before the abort: the attempt's outcome must not count against the backend
        Attempt attempt = current;
        if (attempt != null && attempt.exchange != null) {
            attempt.exchange.abort(failure);
        }
        if (markDone()) {
            LOG.debug("client failed on route {}", route.name(), failure);
            stopReadingBody();
            client.abort(failure);
            ended();
        }
    }

    private void failed(Attempt attempt, Throwable failure) {
        if (done) {
            return;
        }
        if (failure instanceof CachedExchange.Resend) {
            // The cache's validation got a 304 it cannot use: ask again, without conditions. Not a retry for
            // the budget or the metrics (it took no budget slot), though it counts as an attempt.
            resending = true;
            admit(true);
            return;
        }
        RequestBodyException refused = RequestBodyException.find(failure);
        if (refused != null) {
            LOG.debug("{} {} on route {}: {}", client.method(), client.path(), route.name(), refused.getMessage());
            finishWithError(refused.status, refused.getMessage()); // aborts instead if the response started
            return;
        }
        if (!attempt.responseStarted || attempt.retryStatus != 0) {
            Backend next = retryBackend(attempt, failure);
            if (next != null) {
                LOG.debug(
                        "retrying {} {} on backend {} after {}",
                        client.method(),
                        client.path(),
                        next.name(),
                        failure.toString());
                new Attempt(next).send();
                return;
            }
            if (attempt.retryStatus != 0) {
                // The backend's own 5xx was given up for a retry that cannot happen after all.
                finishWithError(
                        attempt.retryStatus,
                        "backend '" + attempt.backend.name() + "' of pool '"
                                + route.pool().name() + "' answered " + attempt.retryStatus
                                + " and no retry was possible");
                return;
            }
        }
        dev.proxyfilter.cache.CacheAnswer stale =
                cached == null || attempt.responseStarted || client.isCommitted() ? null : cached.answerOnError(0);
        if (stale != null) { // stale-if-error
            LOG.warn(
                    "{} {} -> backend {}/{} failed, answered from the cache: {}",
                    client.method(),
                    client.path(),
                    route.pool().name(),
                    attempt.backend.name(),
                    failure.toString());
            answerFromCache(stale.status(), stale.headers(), stale.body());
            return;
        }
        if (cached != null
                && !attempt.responseStarted
                && !client.isCommitted()
                && cached.gatewayTimeoutWhenDisconnected()) {
            // RFC 9111 §4.2.4: what must be revalidated is not served stale when the backend is out of reach
            LOG.warn(
                    "{} {} -> backend {}/{} failed and the stored response must be revalidated: 504: {}",
                    client.method(),
                    client.path(),
                    route.pool().name(),
                    attempt.backend.name(),
                    failure.toString());
            finishWithError(
                    504,
                    "Gateway Timeout: backend '" + attempt.backend.name() + "' of pool '"
                            + route.pool().name()
                            + "' could not be reached, and the stored response may not be used without it");
            return;
        }
        int status = RetryPolicy.statusFor(failure);
        if (!attempt.responseStarted || !client.isCommitted()) {
            LOG.warn(
                    "{} {} -> backend {}/{} ({}) failed: {}",
                    client.method(),
                    client.path(),
                    route.pool().name(),
                    attempt.backend.name(),
                    attempt.backend.url(),
                    failure.toString());
        } else {
            LOG.warn(
                    "{} {} -> backend {}/{} ({}) failed after the response started; aborting the client connection: {}",
                    client.method(),
                    client.path(),
                    route.pool().name(),
                    attempt.backend.name(),
                    attempt.backend.url(),
                    failure.toString());
        }
        finishWithError(
                status,
                switch (status) {
                    case 504 ->
                        "Gateway Timeout: backend '" + attempt.backend.name() + "' of pool '"
                                + route.pool().name() + "' did not answer in time";
                    case 503 -> "Service Unavailable: pool '" + route.pool().name() + "' cannot take more requests";
                    default ->
                        "Bad Gateway: backend '" + attempt.backend.name() + "' of pool '"
                                + route.pool().name() + "' failed";
                });
    }

    /**
     * The backend for the next try, its slot taken, or null when this failure must not be retried: the
     * response started, the request body was (partly) sent, the route's retry-on does not name it, the
     * method is not idempotent and the request may have reached the backend, tries or budget are spent,
     * or no other backend has room.
     */
    private Backend retryBackend(Attempt attempt, Throwable failure) {
        if (client.isCommitted() || !mayRetry(attempt, failure) || !gate.tryRetry()) {
            return null;
        }
        Backend next = pickRetryBackend(attempt, failure);
        if (next == null) {
            gate.onRetryEnd();
        }
        return next;
    }

    private Backend pickRetryBackend(Attempt attempt, Throwable failure) {
        Backend next = gate.acquire(this, attempt.backend);
        if (next == null || next == PoolGate.FULL) {
            return null;
        }
        if (wasTried(next)) {
            // Prefer a backend not tried yet; retry one already tried only on a stale-connection kind of failure.
            Backend other = gate.acquire(this, next);
            if (other != null && other != PoolGate.FULL && !wasTried(other)) {
                gate.release(next);
                return other;
            }
            if (other != null && other != PoolGate.FULL) {
                gate.release(other);
            }
            if (!RetryPolicy.mayRetrySameBackend(failure)) {
                gate.release(next);
                return null;
            }
        }
        return next;
    }

    private boolean mayRetry(Attempt attempt, Throwable failure) {
        if (attempt.retryStatus != 0) {
            // Checked in onHeaders, but the tries, body and deadline may have changed since.
            return attempts <= retry.config().retries() && !bodyStarted() && !deadlinePassed();
        }
        return retry.retriesFailure(
                client.method(), attempts, bodyStarted(), deadlinePassed(), failure, attempt.perTryTimedOut);
    }

    private boolean bodyStarted() {
        return requestBody != null && requestBody.started();
    }

    private boolean hasUntriedBackend() {
        for (Backend backend : route.pool().backends()) {
            if (!wasTried(backend) && route.pool().eligible(backend)) {
                return true;
            }
        }
        return false;
    }

    private boolean wasTried(Backend backend) {
        if (firstTried == backend) {
            return true;
        }
        if (tried != null) {
            for (Backend b : tried) {
                if (b == backend) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Ends the exchange: true for the one caller that does, false once it has ended. */
    private boolean markDone() {
        return DONE.compareAndSet(this, false, true);
    }

    private static final java.lang.invoke.VarHandle DONE;

    static {
        try {
            DONE = java.lang.invoke.MethodHandles.lookup().findVarHandle(Forwarding.class, "done", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private boolean deadlinePassed() {
        return deadlineNanos != 0 && clock.nanoTime() - deadlineNanos >= 0;
    }

    private void finishWithError(int status, String message) {
        finishWithError(status, message, java.util.List.of());
    }

    private void finishWithError(int status, String message, java.util.List<dev.proxyfilter.http.Header> headers) {
        if (markDone()) {
            clientStatus = status;
            stopReadingBody();
            client.sendError(status, message, SecurityStep.errorHeaders(headers, route.hygiene(), client));
            ended();
        }
    }

    private void finishAbort(Throwable failure) {
        if (markDone()) {
            stopReadingBody();
            client.abort(failure);
            ended();
        }
    }

    private void finishSuccess() {
        if (markDone()) {
            stopReadingBody();
            client.complete();
            ended();
        }
    }

    /**
     * Writes the response's last bytes, having stopped reading the request body first. The container completes
     * the response inside that write, before its callback runs, and consumes or discards the rest of the body
     * then: a read of ours in that window (the upstream request still streaming a body the backend did not
     * wait for) took bytes the container counted on, or saw the end it made, and sent a short body on an
     * upstream connection that was then reused. The backend has answered in full by now: what is left of the
     * body is needed by nobody.
     */
    private void writeLast(java.nio.ByteBuffer body, Callback callback) {
        stopReadingBody();
        client.write(true, body, callback);
    }

    /** Before the client's exchange ends: the container owns what is left of the request body. */
    private void stopReadingBody() {
        if (requestBody != null) {
            requestBody.close();
        }
    }

    /** Accounting once the exchange ended, however it ended. */
    private void ended() {
        try {
            accountEnded();
        } finally {
            engine.inFlight().end();
        }
    }

    private void accountEnded() {
        if (cached != null) {
            cached.end();
        }
        if (tunnelPlace != null && !tunnelled) {
            tunnelPlace.release(); // the backend declined the upgrade, or it never reached one
        }
        gate.onRequestEnd();
        long now = clock.nanoTime(); // one reading for both times: the upstream time never exceeds the total
        long nanos = now - startNanos;
        route.metrics().onExchange(clientStatus, nanos);
        AccessLogFormat format = route.accessLog();
        AccessLog accessLog = engine.accessLog(); // queues the entry; its own thread formats and writes it
        if (accessLog.enabled(format)) {
            Attempt last = current;
            HttpFields headers = client.requestHeaders();
            accessLog.log(
                    format,
                    new AccessLog.Entry(
                            clock.instant(),
                            clientIp(),
                            client.method(),
                            client.path(),
                            client.query(),
                            client.protocol(),
                            clientStatus,
                            client.bytesWritten(),
                            nanos,
                            last == null ? "-" : backendLogName(last.backend),
                            last == null || last.sentNanos == 0 ? -1 : last.upstreamNanos(now),
                            Math.max(0, attempts - 1),
                            cached == null ? null : cached.logToken(),
                            headers.get(HttpHeader.REFERER),
                            headers.get(HttpHeader.USER_AGENT)));
        }
    }

    /** "pool/backend" for the access log: the backend's own, made once, unless the route's pool is named otherwise. */
    private String backendLogName(Backend backend) {
        String pool = route.pool().name();
        return pool.equals(backend.pool()) ? backend.qualifiedName() : pool + "/" + backend.name();
    }

    /** One try against one backend. */
    private final class Attempt implements UpstreamListener, ResponseCopy.Outcome {
        private final Backend backend;
        private volatile UpstreamExchange exchange;
        private volatile long sentNanos;
        private volatile long endNanos;
        private volatile boolean responseStarted;
        private volatile boolean copyStarted;
        /** The backend status this try gave up to retry elsewhere, 0 if none. */
        private volatile int retryStatus;

        private volatile boolean perTryTimedOut;
        /** The key of this try's handshake with the backend, for an extended {@code CONNECT}; else null. */
        private volatile String webSocketKey;
        /** Why the backend's 101 to an extended {@code CONNECT} was not taken: this try's failure, or null. */
        private volatile Throwable handshakeFailure;
        /** The cache's answer that replaces the backend's body, or null. */
        private volatile java.nio.ByteBuffer replacementBody;

        /** The backend's 206 completes a stored piece: its body is collected, then the client is answered. */
        private volatile boolean completing;

        private boolean isRetry;

        Attempt(Backend backend) {
            this.backend = backend;
        }

        void send() {
            int index = attempts++;
            isRetry = index > 0 && !resending;
            resending = false;
            if (index == 0) {
                firstTried = backend;
            } else if (tried == null) {
                tried = new Backend[] {backend, null};
            } else if (index - 1 >= tried.length) {
                tried = java.util.Arrays.copyOf(tried, tried.length * 2);
                tried[index - 1] = backend;
            } else {
                tried[index - 1] = backend;
            }
            String path = route.serverPath(client.path());
            String query = client.query();
            UpstreamExchange request = route.upstream()
                    .newExchange(
                            backend.scheme(),
                            backend.host(),
                            backend.port(),
                            extendedConnect ? "GET" : client.method(),
                            query == null ? path : path + "?" + query);
            ForwardHeaders.clientToServer(
                    client,
                    admission,
                    route.preserveHost(),
                    route.via(),
                    route.untrustedRequestHeaders(),
                    // the client's fields, the forwarding ones (up to 6), and room for the cache's or a tunnel's
                    request.requestHeaders(client.requestHeaders().size() + 9));
            if (upgrade) {
                if (extendedConnect) {
                    webSocketKey = ExtendedConnect.clientToServer(request.requestHeaders());
                } else {
                    Tunnel.clientToServer(client, request.requestHeaders());
                }
                request.upgrade();
            }
            if (cached != null) {
                cached.proxyToServer(request.requestHeaders());
            }
            if (route.idleTimeoutMillis() > 0) {
                request.idleTimeout(route.idleTimeoutMillis());
            }
            long tryMillis = retry.config().perTryTimeout().toMillis();
            if (deadlineNanos != 0) {
                long remaining = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - clock.nanoTime()));
                if (tryMillis == 0 || remaining <= tryMillis) {
                    tryMillis = remaining;
                } else {
                    perTryTimedOut = true; // a timeout of this try is the per-try one
                }
            } else if (tryMillis > 0) {
                perTryTimedOut = true;
            }
            if (tryMillis > 0) {
                request.timeout(tryMillis);
            }
            if (requestBody != null) {
                request.body(requestBody, client.requestContentLength());
            }
            exchange = request;
            current = this;
            backend.onRequestStart();
            sentNanos = clock.nanoTime();
            request.send(this);
        }

        @Override
        public void onHeaders(UpstreamExchange serverResponse) {
            responseStarted = true;
            int status = serverResponse.status();
            backend.onResponse(clock.nanoTime() - sentNanos);
            PassiveHealth.responded(backend, status);
            if (done) {
                return;
            }
            if (status == 101) {
                String problem = extendedConnect
                        ? ExtendedConnect.handshakeProblem(webSocketKey, serverResponse.responseHeaders())
                        : null;
                if (problem != null) {
                    // The tunnel end is not taken, and closes; onComplete fails this try with 502.
                    handshakeFailure = new java.io.IOException(problem);
                    return;
                }
                switchProtocols(serverResponse); // only an upgrade request gets here with a 101
                return;
            }
            if (extendedConnect && status >= 200 && status < 300) {
                // A 2xx would tell the client its tunnel is open: the backend did not switch, so 502.
                serverResponse.abort(new java.io.IOException("the backend answered " + status + ", not 101"));
                return;
            }
            if (shouldRetryStatus(status)) {
                retryStatus = status;
                serverResponse.abort(new RetryableStatusException(retryStatus));
                return;
            }
            if (cached != null && cached.resendUnconditionally(status, serverResponse.responseHeaders())) {
                retryStatus = status; // not for the client: the body is skipped, see failed()
                serverResponse.abort(new CachedExchange.Resend());
                return;
            }
            HttpFields.Mutable headers = ForwardHeaders.serverToClient(
                    serverResponse.responseHeaders(), client, backend, route, route.via(), route.hygiene());
            if (cached != null && cached.beginsCompletion(status, headers)) {
                completing = true; // the client's head waits: its answer is the stored piece plus this 206
                return;
            }
            if (cached != null) {
                dev.proxyfilter.cache.CacheAnswer replacement = cached.replaceResponse(status, headers);
                if (replacement != null) { // a 304 freshened the stored response, or stale-if-error
                    replacementBody = replacement.body();
                    clientStatus = replacement.status();
                    client.responseHead(replacement.status(), replacement.headers());
                    return;
                }
                cached.serverToClient(status, headers);
            }
            String stickyCookie = route.pool().stickyCookie(Forwarding.this, backend);
            if (stickyCookie != null) {
                headers.add(HttpHeader.SET_COOKIE, stickyCookie);
            }
            clientStatus = status;
            client.responseHead(status, headers);
        }

        /**
         * 9. Tunnel: the backend switched protocols. The client gets the 101, the two connections become one
         * byte tunnel, and this exchange ends here (its access-log line has the 101); the tunnel keeps the
         * backend's in-flight count and connection slot until it closes.
         */
        private void switchProtocols(UpstreamExchange serverResponse) {
            dev.proxyfilter.tunnel.TunnelEnd serverEnd = serverResponse.takeTunnel();
            if (serverEnd == null) {
                serverResponse.abort(new java.io.IOException("the backend's 101 left no connection to tunnel"));
                return;
            }
            // A copy: the tunnel's own headers are read from the backend's as they came (Tunnel.serverToClient).
            HttpFields.Mutable headers = ForwardHeaders.serverToClient(
                    HttpFields.build(serverResponse.responseHeaders()),
                    client,
                    backend,
                    route,
                    route.via(),
                    route.hygiene());
            if (extendedConnect) {
                ExtendedConnect.serverToClient(headers);
            } else {
                Tunnel.serverToClient(serverResponse.responseHeaders(), headers);
            }
            String stickyCookie = route.pool().stickyCookie(Forwarding.this, backend);
            if (stickyCookie != null) {
                headers.add(HttpHeader.SET_COOKIE, stickyCookie);
            }
            if (!markDone()) {
                serverEnd.close(new java.io.IOException("the client's exchange ended before the 101"));
                return;
            }
            tunnelled = true;
            clientStatus = extendedConnect ? 200 : 101;
            gate.onTunnelOpen();
            Tunnel tunnel = new Tunnel(engine, route, backend, serverEnd, tunnelPlace, () -> {
                backend.onRequestEnd();
                gate.release(backend);
                gate.onTunnelClose();
            });
            try {
                client.upgrade(headers, tunnel);
            } catch (RuntimeException x) {
                tunnel.failed(x);
            } finally {
                ended();
            }
        }

        private void record(UpstreamExchange result, Throwable failure) {
            ProxyMetrics.BackendMetrics metrics = engine.metrics(backend);
            if (metrics == null) {
                return;
            }
            if (isRetry) {
                metrics.onRetry();
            }
            if (failure == null) {
                metrics.onResponse(result.status(), endNanos - sentNanos);
            } else if (retryStatus != 0) {
                metrics.onResponse(retryStatus, endNanos - sentNanos);
            } else if (!clientGone) {
                metrics.onError(
                        RetryPolicy.neverReachedBackend(failure)
                                ? ProxyMetrics.ErrorKind.CONNECT
                                : failure instanceof TimeoutException || failure instanceof SocketTimeoutException
                                        ? ProxyMetrics.ErrorKind.TIMEOUT
                                        : ProxyMetrics.ErrorKind.RESET);
            }
        }

        /** A 502/503/504 the route retries elsewhere, when a retry is possible at all. */
        private boolean shouldRetryStatus(int status) {
            return retry.retriesStatus(status, client.method(), attempts, bodyStarted(), deadlinePassed())
                    && gate.retryAvailable()
                    && hasUntriedBackend();
        }

        @Override
        public void onContentSource(UpstreamExchange serverResponse, Content.Source source) {
            if (retryStatus != 0) {
                return; // aborted for a retry; onComplete goes on
            }
            copyStarted = true;
            if (done) {
                source.fail(new IllegalStateException("exchange already ended"));
                return;
            }
            if (completing) {
                Content.copy(source, cached.completionSink(), Callback.from(this::finishCompletion, failure -> {
                    serverResponse.abort(failure);
                    Forwarding.this.failed(this, failure);
                }));
                return;
            }
            if (replacementBody != null) {
                Content.Sink discard = (last, content, callback) -> callback.succeeded();
                Content.copy(
                        source,
                        discard,
                        Callback.from(
                                () -> writeLast(
                                        replacementBody,
                                        Callback.from(Forwarding.this::finishSuccess, Forwarding.this::finishAbort)),
                                failure -> {
                                    serverResponse.abort(failure);
                                    Forwarding.this.failed(this, failure);
                                }));
                return;
            }
            if (cached == null) {
                new ResponseCopy(source, client, null, this).start();
            } else {
                ClientSink sink = new ClientSink(client, () -> clientGone = true);
                new ResponseCopy(source, client, cached.tee(sink), this).start();
            }
        }

        @Override
        public void lastWrite() {
            stopReadingBody(); // as writeLast: before the write that completes the client's response
        }

        @Override
        public void copied() {
            bodySent();
        }

        @Override
        public void copyFailed(Throwable failure, boolean clientWrite) {
            if (clientWrite || clientGone) {
                clientFailed(failure); // the client went away mid-response: not the backend's failure
                return;
            }
            UpstreamExchange serverResponse = exchange;
            if (serverResponse != null) {
                serverResponse.abort(failure);
            }
            Forwarding.this.failed(this, failure);
        }

        /** The completing 206 arrived whole: the client gets its answer from it and the stored piece. */
        private void finishCompletion() {
            dev.proxyfilter.cache.CacheAnswer answer = cached.completedAnswer();
            if (answer == null) {
                finishWithError(
                        502,
                        "Bad Gateway: backend '" + backend.name() + "' of pool '"
                                + route.pool().name() + "' sent a part that does not complete the stored one");
                return;
            }
            clientStatus = answer.status();
            client.responseHead(answer.status(), answer.headers());
            writeLast(answer.body(), Callback.from(Forwarding.this::finishSuccess, Forwarding.this::finishAbort));
        }

        /** The backend's time so far, up to {@code now} if it has not answered in full yet. */
        long upstreamNanos(long now) {
            long end = endNanos;
            return (end == 0 || end > now ? now : end) - sentNanos;
        }

        @Override
        public void onComplete(UpstreamExchange result, Throwable failure) {
            endNanos = clock.nanoTime();
            if (failure == null && handshakeFailure != null) {
                failure = handshakeFailure;
            }
            if (tunnelled && current == this) {
                // The tunnel holds the backend now, and gives it back when it closes.
                record(result, null);
                if (isRetry) {
                    gate.onRetryEnd();
                }
                return;
            }
            backend.onRequestEnd();
            gate.release(backend);
            record(result, failure);
            if (isRetry) {
                gate.onRetryEnd();
            }
            if (failure != null && !responseStarted) {
                PassiveHealth.failed(backend, result.abortCause() != null, failure);
            }
            if (failure != null) {
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
            } else if (!copyStarted && completing) {
                finishCompletion(); // a 206 without a body: the combination will not hold, and says so
            } else if (!copyStarted) {
                java.nio.ByteBuffer replacement = replacementBody;
                if (cached != null) {
                    cached.bodyComplete(); // before the client sees the end
                }
                writeLast(
                        replacement == null ? BufferUtil.EMPTY_BUFFER : replacement,
                        Callback.from(Forwarding.this::bodySent, Forwarding.this::finishAbort));
            }
        }
    }

    /** Ends a try whose backend answered a status the route retries elsewhere. */
    private static final class RetryableStatusException extends Exception {
        private static final long serialVersionUID = 1L;

        RetryableStatusException(int status) {
            super("backend answered " + status + "; retrying elsewhere", null, false, false);
        }
    }
}
