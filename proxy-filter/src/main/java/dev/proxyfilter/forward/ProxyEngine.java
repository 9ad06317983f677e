package dev.proxyfilter.forward;

import dev.proxyfilter.balance.Backend;
import dev.proxyfilter.balance.BackendPool;
import dev.proxyfilter.balance.BackendState;
import dev.proxyfilter.balance.HealthListener;
import dev.proxyfilter.balance.PoolMode;
import dev.proxyfilter.config.ConfigException;
import dev.proxyfilter.config.PoolConfig;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.config.RouteConfig;
import dev.proxyfilter.metrics.ProxyMetrics;
import dev.proxyfilter.route.PathNormalizer;
import dev.proxyfilter.route.RouteTable;
import dev.proxyfilter.security.Admission;
import dev.proxyfilter.security.ResponseHygiene;
import dev.proxyfilter.security.Security;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.http.HttpCookieStore;
import org.eclipse.jetty.io.ArrayByteBufferPool;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.Invocable.InvocationType;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy engine: routes, pools and the upstream clients, with no servlet code.
 * Adapters call {@link #route} to decide whether a request is theirs to forward, then {@link #forward}.
 *
 * <p>Per connect timeout (Jetty sets that per connector, not per request) there is one
 * {@link org.eclipse.jetty.io.ClientConnector} with two clients on it: our pooled HTTP/1.1
 * {@link dev.proxyfilter.upstream.UpstreamClient}, which forwards requests, and an {@link HttpClient}
 * (whose bean it is, so they start and stop together), which runs the health checks. All share one
 * thread pool, scheduler and buffer pool.
 *
 * <p>Health: pools report every change of a backend's state or of their mode to {@link HealthLog}; a
 * {@link HealthChecker} runs the active checks of pools that have {@code health.path}, through the client of
 * the pool's first route (or, for a pool no route uses, a client whose connect timeout is the check's
 * timeout), on the shared scheduler. Operators reach a backend with
 * {@code engine.pools().get(pool).backend(name)} to drain, disable or enable it.
 *
 * <h2>Reloading</h2>
 * The engine is the long-lived facade adapters hold; what a configuration decides (route table, pools,
 * admission gates, security, health checks) lives in an immutable {@link Generation}, which
 * {@link #reload(ProxyConfig)} replaces through one volatile write once the next one is completely built.
 * {@link #route} hands out a {@link ForwardRoute} of the current generation, and a route carries its pool,
 * gate and client, so a request in flight finishes on the generation it started on while new requests
 * take the new one. Long-lived across generations: thread pool, scheduler, buffer pool, metrics, the
 * response cache and the clients (one per connect timeout, stopped once no live generation uses it).
 * Backends whose pool, name and URL stay are the same objects in the next generation (see
 * {@link BackendPool#BackendPool(PoolConfig, HealthListener, BackendPool)}): health, statistics and sticky
 * sessions carry over. Removed backends drain, and their metrics go once their last request ended.
 * Settings the running listeners, clients or cache were built from ({@link #RESTART_ONLY}) are reported,
 * not applied.
 */
public final class ProxyEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProxyEngine.class);

    /** How long an idle pooled upstream connection is kept: below the common 20-30 s of backends. */
    private static final Duration UPSTREAM_POOL_IDLE = Duration.ofSeconds(15);
    /** How long exchanges cut by a close get to run their failure callbacks before the cache closes. */
    private static final Duration CUT_SETTLE = Duration.ofMillis(500);

    /** How often a retired generation is looked at until its requests have ended. */
    private static final long SWEEP_MILLIS = 250;

    /** How long a retired generation is kept at least, for requests between {@link #route} and their start. */
    private static final long RETIRE_GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);

    /**
     * The settings a reload cannot change, with why: the listeners ({@code server.*}, {@code admin.*}) are
     * bound, the demo backends started, the clients' TLS context ({@code proxy.tls.*}) and the cache's store
     * ({@code cache.*}) built once.
     */
    public static final List<String> RESTART_ONLY =
            List.of("server.*", "admin.*", "demo.*", "proxy.tls.*", "cache.*", "reload.*");

    private final ProxyMetrics metrics = new ProxyMetrics();
    /** Per backend of any live generation; identity keys (Backend has no equals). */
    private final Map<Backend, ProxyMetrics.BackendMetrics> backendMetrics = new ConcurrentHashMap<>();

    private final QueuedThreadPool executor;
    private final ScheduledExecutorScheduler scheduler;
    private final ArrayByteBufferPool bufferPool = new ArrayByteBufferPool();
    /** Upstream clients by connect timeout, shared by generations; guarded by {@code this}. */
    private final Map<Duration, HttpClient> clients = new HashMap<>();
    /** The response cache, {@code null} when {@code cache.enabled=false}. */
    private final CachingStep caching;
    /** Exchanges in flight, for a graceful {@link #close(Duration)}; engine-wide, across generations. */
    private final InFlight inFlight = new InFlight();

    private final java.util.concurrent.atomic.AtomicBoolean closing = new java.util.concurrent.atomic.AtomicBoolean();
    /** Set when a stop begins, before the container stops handing over requests: what {@code /readyz} reports. */
    private volatile boolean stopping;
    /** The configuration the long-lived parts were built from: what restart-only settings compare to. */
    private final ProxyConfig baseline;

    private volatile Generation current;
    /** Older generations with requests still in flight; guarded by {@code this}. */
    private final List<Generation> retired = new ArrayList<>();
    /** Removed backends still draining; guarded by {@code this}. */
    private final List<Backend> draining = new ArrayList<>();

    private boolean sweeping;
    private boolean closed;
    private volatile ReloadResult lastReload;
    private volatile Supplier<ProxyConfig> source;
    private final List<AutoCloseable> reloaders = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** Everything one configuration decides; immutable once built. */
    static final class Generation {
        final long number;
        final ProxyConfig config;
        final Map<String, BackendPool> pools;
        final Map<String, PoolGate> gates;
        final RouteTable<ForwardRoute> routes;
        /** Hosts some route names, folded; and whether some route serves any host. */
        final Set<String> routeHosts;

        final boolean anyHostRoute;
        final HealthChecker healthChecker;
        final Security security;
        /** Connect timeouts of the clients this generation's routes and checks use. */
        final Set<Duration> clientTimeouts;

        Generation(
                long number,
                ProxyConfig config,
                Map<String, BackendPool> pools,
                Map<String, PoolGate> gates,
                RouteTable<ForwardRoute> routes,
                Set<String> routeHosts,
                boolean anyHostRoute,
                HealthChecker healthChecker,
                Security security,
                Set<Duration> clientTimeouts) {
            this.number = number;
            this.config = config;
            this.pools = pools;
            this.gates = gates;
            this.routes = routes;
            this.routeHosts = routeHosts;
            this.anyHostRoute = anyHostRoute;
            this.healthChecker = healthChecker;
            this.security = security;
            this.clientTimeouts = clientTimeouts;
        }

        /** When it stopped taking new requests, from {@link System#nanoTime()}. */
        volatile long retiredAt;

        /**
         * Whether no request that started on this generation is still running. A request counts from
         * {@link PoolGate#onRequestStart}, a moment after {@link ProxyEngine#route} gave it its route, so a
         * generation retired only just now is not idle yet whatever its gates say.
         */
        boolean idle() {
            if (System.nanoTime() - retiredAt < RETIRE_GRACE_NANOS) {
                return false;
            }
            for (PoolGate gate : gates.values()) {
                if (gate.activeRequests() > 0) {
                    return false;
                }
            }
            return true;
        }
    }

    private ProxyEngine(ProxyConfig config, Security security) throws Exception {
        this.baseline = config;
        this.caching = CachingStep.open(config, metrics); // first: a bad cache.* setting must not leak threads
        executor = new QueuedThreadPool(256, 4);
        executor.setName("proxy-upstream");
        executor.setDaemon(true);
        scheduler = new ScheduledExecutorScheduler("proxy-upstream-scheduler", true);
        executor.start();
        scheduler.start();
        metrics.gauge("proxy.upstream.threads.busy", executor::getBusyThreads);
        metrics.gauge("proxy.upstream.threads.max", executor::getMaxThreads);
        metrics.gauge("proxy.upstream.threads.queued", executor::getQueueSize);
        synchronized (this) {
            current = build(1, config, security, null);
        }
        current.healthChecker.start();
        metrics.gauge("proxy.reload.generation", () -> current.number);
        metrics.gauge("proxy.reload.last_ok", () -> lastReload == null || lastReload.ok() ? 1 : 0);
        metrics.gauge(
                "proxy.reload.restart_required",
                () -> lastReload == null ? 0 : lastReload.restartRequired().size());
        metrics.registry().counter("proxy.reload.success");
        metrics.registry().counter("proxy.reload.failure");
    }

    /**
     * Builds a generation; carries over the pools of {@code previous}, if any. The parts that can fail on
     * good configuration (starting a client) come before carrying backends over, which moves their health.
     */
    private Generation build(long number, ProxyConfig config, Security security, Generation previous) throws Exception {
        // The route table's own checks (one route per host and prefix) before anything starts or a backend
        // moves: a configuration built in code has not been through the loader's.
        RouteTable.of(config.routes().stream()
                .map(route -> new RouteTable.Entry<>(route.host(), route.path(), route))
                .toList());
        Map<Duration, HttpClient> started = new HashMap<>();
        Map<String, HttpClient> clientByPool = new HashMap<>();
        Map<String, HttpClient> clientByRoute = new HashMap<>();
        try {
            for (RouteConfig route : config.routes()) {
                HttpClient client = client(route.connectTimeout(), started);
                clientByRoute.put(route.name(), client);
                // Checks travel the way the pool's requests do: through the client of its first route.
                clientByPool.putIfAbsent(route.pool(), client);
            }
            for (PoolConfig pool : config.pools().values()) {
                if (pool.health().check() != null && !clientByPool.containsKey(pool.name())) {
                    clientByPool.put(pool.name(), client(pool.health().check().timeout(), started));
                }
            }
        } catch (Exception | Error e) {
            for (HttpClient client : started.values()) {
                stopQuietly(client);
            }
            throw e;
        }
        clients.putAll(started);
        Set<Duration> timeouts = new HashSet<>();
        for (var entry : clients.entrySet()) {
            if (clientByRoute.containsValue(entry.getValue()) || clientByPool.containsValue(entry.getValue())) {
                timeouts.add(entry.getKey());
            }
        }

        Map<String, BackendPool> pools = new LinkedHashMap<>();
        Map<String, PoolGate> gates = new LinkedHashMap<>();
        for (PoolConfig pool : config.pools().values()) {
            BackendPool before = previous == null ? null : previous.pools.get(pool.name());
            BackendPool next = new BackendPool(pool, healthListener(), before);
            pools.put(pool.name(), next);
            gates.put(
                    pool.name(),
                    new PoolGate(
                            next,
                            pool,
                            config.retryBudgetPercent(),
                            scheduler,
                            before == null ? null : previous.gates.get(pool.name())));
        }
        for (BackendPool pool : pools.values()) {
            PoolGate gate = gates.get(pool.name());
            metrics.poolPending(pool.name(), gate::pending);
            for (Backend backend : pool.backends()) {
                if (!backendMetrics.containsKey(backend)) {
                    ProxyMetrics.BackendMetrics holder = metrics.backend(pool.name(), backend.name());
                    holder.state(
                            backend::inFlight,
                            () -> (long) backend.weight() * backend.health().weightPercent() / 100,
                            () -> backend.available() ? 1 : 0);
                    backendMetrics.put(backend, holder);
                }
            }
        }

        List<RouteTable.Entry<ForwardRoute>> entries = new ArrayList<>();
        Set<String> hosts = new HashSet<>();
        boolean anyHost = false;
        for (RouteConfig route : config.routes()) {
            ForwardRoute forwardRoute = new ForwardRoute(
                    route,
                    pools.get(route.pool()),
                    gates.get(route.pool()),
                    clientByRoute.get(route.name()),
                    config.limits(),
                    metrics.route(route.name()),
                    security.guard(route.name()),
                    config,
                    security.hygiene(),
                    mayBlock(config, route));
            entries.add(new RouteTable.Entry<>(route.host(), route.path(), forwardRoute));
            if (route.host() == null) {
                anyHost = true;
            } else {
                hosts.add(hostOf(route.host()));
            }
        }
        Map<String, BackendPool> frozen = Map.copyOf(pools);
        HealthChecker checker = new HealthChecker(frozen, pool -> clientByPool.get(pool.name()), scheduler);
        return new Generation(
                number,
                config,
                frozen,
                Map.copyOf(gates),
                RouteTable.of(entries),
                Set.copyOf(hosts),
                anyHost,
                checker,
                security,
                Set.copyOf(timeouts));
    }

    /**
     * Whether a request on {@code route} may do blocking work on the thread that starts it: a bcrypt check
     * (basic authentication, tens of milliseconds by design), or a cache lookup that may read a disk tier.
     */
    private static boolean mayBlock(ProxyConfig config, RouteConfig route) {
        var security = config.security().routes().get(route.name());
        boolean basic = security != null
                && security.auth() != null
                && security.auth().kind() == dev.proxyfilter.config.AuthConfig.Kind.BASIC;
        return basic || (route.cache() && cacheMayUseDisk(config.cache()));
    }

    private HealthListener healthListener() {
        return new HealthListener() {
            @Override
            public void backendChanged(Backend backend, BackendState from, BackendState to, String reason) {
                HealthLog.INSTANCE.backendChanged(backend, from, to, reason);
                if (to == BackendState.EJECTED) {
                    metrics.backend(backend.pool(), backend.name()).onEjection();
                }
            }

            @Override
            public void poolModeChanged(String pool, PoolMode from, PoolMode to, String reason) {
                HealthLog.INSTANCE.poolModeChanged(pool, from, to, reason);
            }
        };
    }

    /** The shared client for a connect timeout, started now (and noted in {@code started}) if none runs. */
    private HttpClient client(Duration connectTimeout, Map<Duration, HttpClient> started) throws Exception {
        HttpClient client = clients.get(connectTimeout);
        if (client == null) {
            client = started.get(connectTimeout);
        }
        if (client == null) {
            client = newClient(connectTimeout, bufferPool);
            started.put(connectTimeout, client);
        }
        return client;
    }

    /**
     * Starts an engine for a validated configuration.
     *
     * @throws dev.proxyfilter.config.ConfigException if a users or JWKS file named by the configuration is unreadable or malformed
     * @throws IllegalStateException if the upstream client cannot start
     */
    public static ProxyEngine start(ProxyConfig config) {
        return start(
                config,
                Security.start(
                        config.security(),
                        config.routes().stream().map(RouteConfig::name).toList()));
    }

    /** Starts an engine with a security layer built by the caller (tests inject its clocks). */
    public static ProxyEngine start(ProxyConfig config, Security security) {
        try {
            return new ProxyEngine(config, security);
        } catch (dev.proxyfilter.config.ConfigException e) {
            throw e; // the cache's store could not be opened
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the upstream HTTP client", e);
        }
    }

    private HttpClient newClient(Duration connectTimeout, ArrayByteBufferPool bufferPool) throws Exception {
        ClientConnector connector = new ClientConnector();
        connector.setSelectors(1);
        connector.setSslContextFactory(upstreamTls());
        HttpClient client = new HttpClient(new HttpClientTransportOverHTTP(connector));
        client.setExecutor(executor);
        client.setScheduler(scheduler);
        client.setByteBufferPool(bufferPool);
        client.setConnectTimeout(connectTimeout.toMillis());
        client.setIdleTimeout(UPSTREAM_POOL_IDLE.toMillis());
        // A proxy passes traffic through: no redirects, cookies, decoding or authentication of its own.
        client.setFollowRedirects(false);
        client.setHttpCookieStore(new HttpCookieStore.Empty());
        client.getContentDecoderFactories().clear();
        client.getProtocolHandlers().clear();
        client.setUserAgentField(null);
        client.setMaxConnectionsPerDestination(256);
        client.setMaxRequestsQueuedPerDestination(1024);
        // Heap buffers reach servlet output streams without a copy.
        client.setUseInputDirectByteBuffers(false);
        client.setUseOutputDirectByteBuffers(false);
        // Forwarding goes through our own pooled HTTP/1.1 client on the same connector (one selector);
        // the HttpClient runs the health checks. It starts and stops with the HttpClient.
        connector.setConnectTimeout(connectTimeout);
        dev.proxyfilter.upstream.UpstreamClient upstream = new dev.proxyfilter.upstream.UpstreamClient(
                connector, executor, scheduler, bufferPool, UPSTREAM_POOL_IDLE, 256, 1024);
        // Responses are handled on the selector thread (no hand-off per read) unless storing them in the
        // cache may write to a disk tier: the selector must never wait on a disk.
        upstream.setReadInvocationType(
                cacheMayUseDisk(baseline.cache()) ? InvocationType.BLOCKING : InvocationType.NON_BLOCKING);
        client.addBean(upstream, true);
        client.start();
        return client;
    }

    /** Whether the response cache may read or write a disk tier on the calling thread. */
    static boolean cacheMayUseDisk(dev.proxyfilter.config.CacheConfig cache) {
        return cache.enabled() && (cache.diskMb() > 0 || cache.ehcacheXml() != null);
    }

    /**
     * TLS to {@code https://} backends: the configured trust store or the JDK's CAs, and the backend's
     * certificate must name the host of its URL unless {@code proxy.tls.verify-hostname=false}.
     */
    private SslContextFactory.Client upstreamTls() {
        SslContextFactory.Client tls = new SslContextFactory.Client();
        var upstream = baseline.upstreamTls();
        if (upstream.truststore() != null) {
            tls.setTrustStorePath(upstream.truststore());
            tls.setTrustStoreType("PKCS12");
            if (upstream.truststorePassword() != null) {
                tls.setTrustStorePassword(upstream.truststorePassword());
            }
        }
        tls.setEndpointIdentificationAlgorithm(upstream.verifyHostname() ? "HTTPS" : null);
        tls.setIncludeProtocols("TLSv1.3", "TLSv1.2");
        return tls;
    }

    /**
     * The configuration this engine runs: the latest one applied, with the restart-only settings
     * ({@link #RESTART_ONLY}) the engine started with.
     */
    public ProxyConfig config() {
        return current.config;
    }

    /** The number of the configuration generation serving new requests: 1 at start, one more per applied reload. */
    public long generation() {
        return current.number;
    }

    /** Admission state (limits, queue, retry budget) of a pool, or null. */
    PoolGate gate(String pool) {
        return current.gates.get(pool);
    }

    /** Requests waiting in a pool's queue for a backend with room. */
    public int pending(String pool) {
        PoolGate gate = current.gates.get(pool);
        return gate == null ? 0 : gate.pending();
    }

    /** What the admin interface may see and change. */
    public AdminOperations admin() {
        return new AdminOperations(this);
    }

    /** This proxy's metrics. */
    public ProxyMetrics metrics() {
        return metrics;
    }

    /** The metrics of a backend of this engine. */
    ProxyMetrics.BackendMetrics metrics(Backend backend) {
        return backendMetrics.get(backend);
    }

    /** Pools by name. */
    public Map<String, BackendPool> pools() {
        return current.pools;
    }

    /**
     * The route for a request, or {@code null} when no route matches (the adapter then answers 404 or
     * passes the request on).
     *
     * @param authority the Host header, may carry a port, may be null
     * @param path      the normalised request path, starting with "/"; matched without its path
     *                  parameters ({@code ;x}), as a servlet container backend would map it
     */
    public ForwardRoute route(String authority, String path) {
        return current.routes.match(authority, PathNormalizer.withoutParameters(path));
    }

    /**
     * Whether some route serves this Host (or absolute-form authority), port ignored. A request for a
     * host no route serves is not forwarded anywhere: this proxy is no open proxy.
     */
    public boolean servesHost(String authority) {
        Generation generation = current;
        return generation.anyHostRoute || (authority != null && generation.routeHosts.contains(hostOf(authority)));
    }

    /** Host without port or root dot, lower case; IPv6 literals keep their brackets. */
    private static String hostOf(String authority) {
        String host = authority;
        int colon = host.lastIndexOf(':');
        if (colon > host.lastIndexOf(']')) {
            host = host.substring(0, colon);
        }
        if (host.endsWith(".")) {
            host = host.substring(0, host.length() - 1);
        }
        return host.toLowerCase(Locale.ROOT);
    }

    ScheduledExecutorScheduler scheduler() {
        return scheduler;
    }

    /** What every response loses and gains (identity headers out, security headers in). */
    ResponseHygiene hygiene() {
        return current.security.hygiene();
    }

    /**
     * Forwards the exchange asynchronously; the adapter must not touch the response afterwards. First a
     * request with ambiguous framing, too many headers or a too large body is refused (see
     * {@link RequestChecks}): it is not worth authenticating. Then the route's security step runs; a
     * refusal (401, 403, 429) is answered without a backend too.
     */
    public void forward(ForwardRoute route, ClientExchange exchange) {
        if (closing.get()) {
            // Closing: the container may still hand over a request on a kept-alive connection.
            new Forwarding(this, route, exchange, Admission.NONE).refuse(503, "Service Unavailable: shutting down");
            return;
        }
        RequestChecks.Refusal refusal = RequestChecks.check(
                exchange.method(), exchange.requestHeaders(), route.maxHeaderCount(), route.maxBodyBytes());
        if (refusal != null) {
            new Forwarding(this, route, exchange, Admission.NONE).refuse(refusal.status(), refusal.message());
            return;
        }
        Admission admission = SecurityStep.admit(route.guard(), exchange);
        new Forwarding(this, route, SecurityStep.releasing(exchange, admission), admission).start();
    }

    /** The response cache step, or {@code null} when the cache is off. */
    CachingStep caching() {
        return caching;
    }

    /**
     * Replaces the clock (epoch milliseconds) the response cache judges freshness by; for tests, so that
     * they need not sleep. No effect when the cache is off.
     */
    public void cacheClock(java.util.function.LongSupplier millis) {
        if (caching != null) {
            caching.clock(millis);
        }
    }

    /** Exchanges in flight now: forwarded, answered from the cache or refused, and not ended yet. */
    public int inFlightExchanges() {
        return inFlight.count();
    }

    InFlight inFlight() {
        return inFlight;
    }

    /**
     * Marks the engine as going away, so that readiness checks fail and load balancers in front stop
     * sending new work while in-flight exchanges finish; {@link #close(Duration)} marks it too.
     */
    public void startDraining() {
        stopping = true;
    }

    /** Whether a stop has begun ({@link #startDraining} or {@link #close(Duration)}). */
    public boolean draining() {
        return stopping;
    }

    /** Closes at once, like {@link #close(Duration)} with no grace: in-flight exchanges fail. */
    @Override
    public void close() {
        close(Duration.ZERO);
    }

    /**
     * Closes gracefully: new exchanges get 503, the health checks stop, in-flight exchanges get up to
     * {@code grace} to end; then the upstream clients stop (cutting what is left, which ends with 502 or an
     * aborted response), then the cache closes (a persistent disk tier is flushed and reopens consistent),
     * then the metrics (JMX). Blocks the caller meanwhile; only the first call does anything.
     */
    public void close(Duration grace) {
        stopping = true;
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        List<HttpClient> running = closeGenerations(); // watchers and health checks stop first
        if (!awaitInFlight(grace)) {
            LOG.warn(
                    "{} exchange(s) still in flight after the {} ms shutdown grace; cutting them",
                    inFlight.count(),
                    grace.toMillis());
        }
        for (HttpClient client : running) {
            stopQuietly(client);
        }
        // A cut exchange ends through its failure callback, which may still touch the cache: let it first.
        awaitInFlight(CUT_SETTLE);
        stopQuietly(scheduler);
        stopQuietly(executor);
        if (caching != null) {
            caching.close();
        }
        metrics.close();
    }

    private boolean awaitInFlight(Duration timeout) {
        try {
            return inFlight.awaitIdle(timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // close the rest at once
            return false;
        }
    }

    /**
     * Stops watching for reloads and every generation's health checks; returns the clients to stop.
     * Idempotent: a second call returns none.
     */
    private List<HttpClient> closeGenerations() {
        for (AutoCloseable reloader : reloaders) {
            try {
                reloader.close();
            } catch (Exception e) {
                LOG.warn("stopping {} failed", reloader, e);
            }
        }
        reloaders.clear();
        synchronized (this) {
            closed = true;
            current.healthChecker.close();
            for (Generation generation : retired) {
                generation.healthChecker.close();
            }
            retired.clear();
            draining.clear();
            List<HttpClient> running = List.copyOf(clients.values());
            clients.clear();
            return running;
        }
    }

    // ---- Reloading ----

    /**
     * Applies a new configuration (see the class comment), for requests that start from now on. Nothing
     * changes unless the whole configuration can be started: a users or JWKS file that cannot be read, or
     * a client that cannot start, rejects it and the old configuration keeps serving. Settings listed in
     * {@link #RESTART_ONLY} that differ from the running ones are named in the result and the log, and
     * otherwise ignored. Thread-safe; reloads run one at a time.
     */
    public ReloadResult reload(ProxyConfig next) {
        return reload(next, "api");
    }

    /** {@link #reload(ProxyConfig)}, naming what triggered it ({@code file}, {@code signal}, {@code admin}). */
    public synchronized ReloadResult reload(ProxyConfig next, String trigger) {
        Generation previous = current;
        if (closed) {
            return rejected(trigger, previous, "engine closed");
        }
        List<String> restartRequired = restartRequired(next);
        ProxyConfig effective = new ProxyConfig(
                baseline.server(),
                next.pools(),
                next.routes(),
                baseline.demo(),
                next.via(),
                next.sources(),
                next.retryBudgetPercent(),
                baseline.admin(),
                next.accessLog(),
                next.security(),
                next.limits(),
                baseline.upstreamTls(),
                baseline.cache(),
                baseline.reload());
        if (effective.equals(previous.config)) {
            return record(new ReloadResult(
                    ReloadResult.Outcome.UNCHANGED,
                    previous.number,
                    restartRequired.isEmpty()
                            ? "configuration unchanged"
                            : "configuration unchanged; needs a restart: " + String.join(", ", restartRequired),
                    restartRequired,
                    trigger,
                    Instant.now()));
        }
        Generation generation;
        try {
            Security security = Security.start(
                    next.security(),
                    next.routes().stream().map(RouteConfig::name).toList(),
                    previous.security); // unchanged rate limits keep their buckets
            generation = build(previous.number + 1, effective, security, previous);
        } catch (ConfigException e) {
            return rejected(trigger, previous, e.getMessage());
        } catch (Exception | LinkageError e) {
            LOG.warn("configuration reload ({}) could not start", trigger, e);
            return rejected(trigger, previous, "cannot start the new configuration: " + e);
        }
        current = generation;
        generation.healthChecker.start();
        previous.healthChecker.close();
        retire(previous, generation);
        String summary =
                "generation " + generation.number + ": " + effective.routes().size() + " route(s), "
                        + effective.pools().size() + " pool(s)"
                        + (restartRequired.isEmpty()
                                ? ""
                                : "; not applied, needs a restart: " + String.join(", ", restartRequired));
        return record(new ReloadResult(
                ReloadResult.Outcome.APPLIED, generation.number, summary, restartRequired, trigger, Instant.now()));
    }

    /**
     * Re-reads the sources the configuration came from ({@link #configSource}) and applies them; an error
     * reading or validating them is a rejected result, never an exception.
     */
    public ReloadResult reloadFromSource(String trigger) {
        Supplier<ProxyConfig> from = source;
        if (from == null) {
            synchronized (this) {
                return rejected(
                        trigger,
                        current,
                        "reload: no configuration source (expected: an engine started"
                                + " from a configuration file or init-params)");
            }
        }
        ProxyConfig next;
        try {
            next = from.get();
        } catch (ConfigException e) {
            synchronized (this) {
                return rejected(trigger, current, e.getMessage());
            }
        } catch (RuntimeException e) {
            synchronized (this) {
                return rejected(trigger, current, "cannot read the configuration: " + e);
            }
        }
        return reload(next, trigger);
    }

    /**
     * Where {@link #reloadFromSource} reads the configuration: the loader the adapter started the engine
     * with, which reads the same sources again (throwing {@link ConfigException} when they are invalid).
     */
    public void configSource(Supplier<ProxyConfig> loader) {
        this.source = loader;
    }

    /** Whether {@link #configSource} was given. */
    public boolean reloadable() {
        return source != null;
    }

    /**
     * Watches {@code file} (the properties file the configuration was loaded from) and reloads from
     * {@link #configSource} when it changes; stopped by {@link #close()}.
     */
    public ConfigWatcher watch(java.nio.file.Path file) {
        ConfigWatcher watcher = ConfigWatcher.start(file, baseline.reload().debounce(), () -> reloadFromSource("file"));
        reloaders.add(watcher);
        return watcher;
    }

    /** The generation serving new requests now. */
    Generation serving() {
        return current;
    }

    /** Upstream clients running now; for tests that check that a retired generation's clients stop. */
    synchronized int clientCount() {
        return clients.size();
    }

    /** Backend addresses the upstream clients hold pools for; for tests that check removed ones go. */
    synchronized int upstreamDestinations() {
        int count = 0;
        for (HttpClient client : clients.values()) {
            count += client.getBean(dev.proxyfilter.upstream.UpstreamClient.class)
                    .destinations();
        }
        return count;
    }

    /** The outcome of the last reload, or {@code null} before the first. */
    public ReloadResult lastReload() {
        return lastReload;
    }

    /** Restart-only settings that differ between the running configuration and {@code next}. */
    private List<String> restartRequired(ProxyConfig next) {
        List<String> keys = new ArrayList<>();
        if (!next.server().equals(baseline.server())) {
            keys.add("server.*");
        }
        if (!next.admin().equals(baseline.admin())) {
            keys.add("admin.*");
        }
        if (!next.demo().equals(baseline.demo())) {
            keys.add("demo.*");
        }
        if (!next.upstreamTls().equals(baseline.upstreamTls())) {
            keys.add("proxy.tls.*");
        }
        if (!next.cache().equals(baseline.cache())) {
            keys.add("cache.*");
        }
        if (!next.reload().equals(baseline.reload())) {
            keys.add("reload.*");
        }
        return keys;
    }

    /** Under {@code this}. */
    private ReloadResult rejected(String trigger, Generation serving, String message) {
        return record(new ReloadResult(
                ReloadResult.Outcome.REJECTED, serving.number, message, List.of(), trigger, Instant.now()));
    }

    private ReloadResult record(ReloadResult result) {
        lastReload = result;
        switch (result.outcome()) {
            case APPLIED -> {
                metrics.registry().counter("proxy.reload.success").inc();
                if (result.restartRequired().isEmpty()) {
                    LOG.info("configuration reloaded ({}): {}", result.trigger(), result.message());
                } else {
                    LOG.warn("configuration reloaded ({}): {}", result.trigger(), result.message());
                }
            }
            case UNCHANGED -> {
                metrics.registry().counter("proxy.reload.success").inc();
                LOG.info("configuration reload ({}): {}", result.trigger(), result.message());
            }
            case REJECTED -> {
                metrics.registry().counter("proxy.reload.failure").inc();
                LOG.error(
                        "configuration reload ({}) rejected, generation {} keeps serving: {}",
                        result.trigger(),
                        result.generation(),
                        result.message());
            }
        }
        return result;
    }

    /**
     * Drains the backends {@code next} dropped and keeps {@code previous} until its requests have ended;
     * {@link #sweep} then stops the clients and removes the metrics nobody uses any more. Under {@code this}.
     */
    private void retire(Generation previous, Generation next) {
        Set<Backend> kept = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (BackendPool pool : next.pools.values()) {
            kept.addAll(pool.backends());
        }
        for (BackendPool pool : previous.pools.values()) {
            for (Backend backend : pool.backends()) {
                if (!kept.contains(backend)) {
                    backend.retire();
                    draining.add(backend);
                }
            }
            if (!next.pools.containsKey(pool.name())) {
                metrics.removePool(pool.name());
            }
        }
        previous.retiredAt = System.nanoTime();
        retired.add(previous);
        if (!sweeping) {
            sweeping = true;
            scheduler.schedule(this::sweep, SWEEP_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    /** Lets go of what retired generations held once their requests have ended; again later while some run. */
    private void sweep() {
        List<HttpClient> unused = new ArrayList<>();
        synchronized (this) {
            if (closed) {
                return;
            }
            Generation serving = current;
            retired.removeIf(Generation::idle);
            Set<Duration> inUse = new HashSet<>(serving.clientTimeouts);
            Set<String> routesInUse = new HashSet<>();
            for (Generation generation : retired) {
                inUse.addAll(generation.clientTimeouts);
            }
            for (Generation generation : retired) {
                generation.config.routes().forEach(route -> routesInUse.add(route.name()));
            }
            serving.config.routes().forEach(route -> routesInUse.add(route.name()));
            for (var it = clients.entrySet().iterator(); it.hasNext(); ) {
                var entry = it.next();
                if (!inUse.contains(entry.getKey())) {
                    unused.add(entry.getValue());
                    it.remove();
                }
            }
            // Backend addresses no live generation routes to lose their connection pools.
            Set<String> addresses = new HashSet<>();
            addAddresses(serving, addresses);
            for (Generation generation : retired) {
                addAddresses(generation, addresses);
            }
            for (HttpClient client : clients.values()) {
                client.getBean(dev.proxyfilter.upstream.UpstreamClient.class).retainDestinations(addresses);
            }
            for (var it = draining.iterator(); it.hasNext(); ) {
                Backend backend = it.next();
                if (backend.inFlight() == 0) {
                    it.remove();
                    backendMetrics.remove(backend);
                    BackendPool pool = serving.pools.get(backend.pool());
                    if (pool == null || pool.backend(backend.name()).isEmpty()) {
                        metrics.removeBackend(backend.pool(), backend.name());
                    }
                }
            }
            for (String name : List.copyOf(metrics.routeNames())) {
                if (!routesInUse.contains(name)) {
                    metrics.removeRoute(name);
                }
            }
            if (retired.isEmpty() && draining.isEmpty()) {
                sweeping = false;
            } else {
                scheduler.schedule(this::sweep, SWEEP_MILLIS, TimeUnit.MILLISECONDS);
            }
        }
        for (HttpClient client : unused) {
            stopQuietly(client);
        }
    }

    private static void addAddresses(Generation generation, Set<String> addresses) {
        for (BackendPool pool : generation.pools.values()) {
            for (Backend backend : pool.backends()) {
                addresses.add(
                        dev.proxyfilter.upstream.UpstreamClient.key(backend.scheme(), backend.host(), backend.port()));
            }
        }
    }

    private static void stopQuietly(org.eclipse.jetty.util.component.LifeCycle lifeCycle) {
        try {
            lifeCycle.stop();
        } catch (Exception e) {
            LOG.warn("stopping {} failed", lifeCycle, e);
        }
    }
}
