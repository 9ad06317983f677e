package dev.proxyfilter.forward;

import dev.proxyfilter.balance.Backend;
import dev.proxyfilter.balance.BackendPool;
import dev.proxyfilter.balance.BackendState;
import dev.proxyfilter.balance.HealthListener;
import dev.proxyfilter.balance.PoolMode;
import dev.proxyfilter.metrics.ProxyMetrics;
import java.util.IdentityHashMap;
import dev.proxyfilter.config.PoolConfig;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.config.RouteConfig;
import dev.proxyfilter.route.RouteTable;
import dev.proxyfilter.security.Admission;
import dev.proxyfilter.security.ResponseHygiene;
import dev.proxyfilter.security.Security;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.http.HttpCookieStore;
import org.eclipse.jetty.io.ArrayByteBufferPool;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy engine: routes, pools and the upstream {@link HttpClient}, with no servlet code.
 * Adapters call {@link #route} to decide whether a request is theirs to forward, then {@link #forward}.
 *
 * <p>One {@code HttpClient} serves every route that shares a connect timeout (Jetty sets that per
 * client, not per request); they share one thread pool, scheduler and buffer pool.
 *
 * <p>Health: pools report every change of a backend's state or of their mode to {@link HealthLog}; a
 * {@link HealthChecker} runs the active checks of pools that have {@code health.path}, through the client of
 * the pool's first route (or, for a pool no route uses, a client whose connect timeout is the check's
 * timeout), on the shared scheduler. Operators reach a backend with
 * {@code engine.pools().get(pool).backend(name)} to drain, disable or enable it.
 */
public final class ProxyEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProxyEngine.class);

    /** How long an idle pooled upstream connection is kept: below the common 20-30 s of backends. */
    private static final Duration UPSTREAM_POOL_IDLE = Duration.ofSeconds(15);
    /** How long exchanges cut by a close get to run their failure callbacks before the cache closes. */
    private static final Duration CUT_SETTLE = Duration.ofMillis(500);

    private final ProxyConfig config;
    private final Map<String, BackendPool> pools;
    private final Map<String, PoolGate> gates;
    private final ProxyMetrics metrics = new ProxyMetrics();
    private final Map<Backend, ProxyMetrics.BackendMetrics> backendMetrics = new IdentityHashMap<>();
    private final RouteTable<ForwardRoute> routes;
    private final QueuedThreadPool executor;
    private final ScheduledExecutorScheduler scheduler;
    private final List<HttpClient> clients;
    /** Hosts some route names, folded; and whether some route serves any host. */
    private final Set<String> routeHosts;
    private final boolean anyHostRoute;
    private final HealthChecker healthChecker;
    private final Security security;
    /** The response cache, {@code null} when {@code cache.enabled=false}. */
    private final CachingStep caching;
    /** Exchanges in flight, for a graceful {@link #close(Duration)}. */
    private final InFlight inFlight = new InFlight();
    private final java.util.concurrent.atomic.AtomicBoolean closing = new java.util.concurrent.atomic.AtomicBoolean();

    private ProxyEngine(ProxyConfig config, Security security) throws Exception {
        this.config = config;
        this.security = security;
        this.caching = CachingStep.open(config, metrics); // first: a bad cache.* setting must not leak threads
        Map<String, BackendPool> pools = new LinkedHashMap<>();
        for (PoolConfig pool : config.pools().values()) {
            pools.put(pool.name(), new BackendPool(pool, new HealthListener() {
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
            }));
        }
        this.pools = Map.copyOf(pools);

        executor = new QueuedThreadPool(256, 4);
        executor.setName("proxy-upstream");
        executor.setDaemon(true);
        scheduler = new ScheduledExecutorScheduler("proxy-upstream-scheduler", true);
        executor.start();
        scheduler.start();
        ArrayByteBufferPool bufferPool = new ArrayByteBufferPool();
        Map<String, PoolGate> gates = new LinkedHashMap<>();
        for (PoolConfig pool : config.pools().values()) {
            gates.put(pool.name(), new PoolGate(this.pools.get(pool.name()), pool, config.retryBudgetPercent(), scheduler));
        }
        this.gates = Map.copyOf(gates);
        for (BackendPool pool : this.pools.values()) {
            PoolGate gate = this.gates.get(pool.name());
            metrics.poolPending(pool.name(), gate::pending);
            for (Backend backend : pool.backends()) {
                ProxyMetrics.BackendMetrics holder = metrics.backend(pool.name(), backend.name());
                holder.state(backend::inFlight, () -> (long) backend.weight() * backend.health().weightPercent() / 100,
                        () -> backend.available() ? 1 : 0);
                backendMetrics.put(backend, holder);
            }
        }
        metrics.gauge("proxy.upstream.threads.busy", executor::getBusyThreads);
        metrics.gauge("proxy.upstream.threads.max", executor::getMaxThreads);
        metrics.gauge("proxy.upstream.threads.queued", executor::getQueueSize);

        Map<Duration, HttpClient> byConnectTimeout = new HashMap<>();
        List<RouteTable.Entry<ForwardRoute>> entries = new ArrayList<>();
        for (RouteConfig route : config.routes()) {
            HttpClient client = byConnectTimeout.get(route.connectTimeout());
            if (client == null) {
                client = newClient(route.connectTimeout(), bufferPool);
                byConnectTimeout.put(route.connectTimeout(), client);
            }
            ForwardRoute forwardRoute = new ForwardRoute(route, this.pools.get(route.pool()), this.gates.get(route.pool()), client,
                    config.limits(), metrics.route(route.name()), security.guard(route.name()));
            entries.add(new RouteTable.Entry<>(route.host(), route.path(), forwardRoute));
        }
        Map<String, HttpClient> clientByPool = healthCheckClients(byConnectTimeout, bufferPool);
        this.clients = List.copyOf(byConnectTimeout.values());
        this.routes = RouteTable.of(entries);
        Set<String> hosts = new HashSet<>();
        boolean anyHost = false;
        for (RouteConfig route : config.routes()) {
            if (route.host() == null) {
                anyHost = true;
            } else {
                hosts.add(hostOf(route.host()));
            }
        }
        this.routeHosts = Set.copyOf(hosts);
        this.anyHostRoute = anyHost;
        this.healthChecker = new HealthChecker(this.pools, pool -> clientByPool.get(pool.name()), scheduler);
        healthChecker.start();
    }

    /**
     * The client each checked pool's health checks use: the client of its first route, so that checks
     * travel the way its requests do, else one whose connect timeout is the check's timeout.
     */
    private Map<String, HttpClient> healthCheckClients(Map<Duration, HttpClient> byConnectTimeout,
            ArrayByteBufferPool bufferPool) throws Exception {
        Map<String, HttpClient> clientByPool = new HashMap<>();
        for (RouteConfig route : config.routes()) {
            clientByPool.putIfAbsent(route.pool(), byConnectTimeout.get(route.connectTimeout()));
        }
        for (PoolConfig pool : config.pools().values()) {
            if (pool.health().check() != null && !clientByPool.containsKey(pool.name())) {
                Duration timeout = pool.health().check().timeout();
                HttpClient client = byConnectTimeout.get(timeout);
                if (client == null) {
                    client = newClient(timeout, bufferPool);
                    byConnectTimeout.put(timeout, client);
                }
                clientByPool.put(pool.name(), client);
            }
        }
        return clientByPool;
    }

    /**
     * Starts an engine for a validated configuration.
     *
     * @throws dev.proxyfilter.config.ConfigException if a users or JWKS file named by the configuration is unreadable or malformed
     * @throws IllegalStateException if the upstream client cannot start
     */
    public static ProxyEngine start(ProxyConfig config) {
        return start(config, Security.start(config.security(), config.routes().stream().map(RouteConfig::name).toList()));
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
        client.start();
        return client;
    }

    /**
     * TLS to {@code https://} backends: the configured trust store or the JDK's CAs, and the backend's
     * certificate must name the host of its URL unless {@code proxy.tls.verify-hostname=false}.
     */
    private SslContextFactory.Client upstreamTls() {
        SslContextFactory.Client tls = new SslContextFactory.Client();
        var upstream = config.upstreamTls();
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

    /** The configuration this engine runs. */
    public ProxyConfig config() {
        return config;
    }

    /** Admission state (limits, queue, retry budget) of a pool, or null. */
    PoolGate gate(String pool) {
        return gates.get(pool);
    }

    /** Requests waiting in a pool's queue for a backend with room. */
    public int pending(String pool) {
        PoolGate gate = gates.get(pool);
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
        return pools;
    }

    /**
     * The route for a request, or {@code null} when no route matches (the adapter then answers 404 or
     * passes the request on).
     *
     * @param authority the Host header, may carry a port, may be null
     * @param path      the request path, starting with "/"
     */
    public ForwardRoute route(String authority, String path) {
        return routes.match(authority, path);
    }

    /**
     * Whether some route serves this Host (or absolute-form authority), port ignored. A request for a
     * host no route serves is not forwarded anywhere: this proxy is no open proxy.
     */
    public boolean servesHost(String authority) {
        return anyHostRoute || (authority != null && routeHosts.contains(hostOf(authority)));
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
        return security.hygiene();
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
        RequestChecks.Refusal refusal = RequestChecks.check(exchange.method(), exchange.requestHeaders(),
                config.limits().maxHeaderCount(), route.maxBodyBytes());
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
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        healthChecker.close();
        if (!awaitInFlight(grace)) {
            LOG.warn("{} exchange(s) still in flight after the {} ms shutdown grace; cutting them", inFlight.count(),
                    grace.toMillis());
        }
        for (HttpClient client : clients) {
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

    private static void stopQuietly(org.eclipse.jetty.util.component.LifeCycle lifeCycle) {
        try {
            lifeCycle.stop();
        } catch (Exception e) {
            LOG.warn("stopping {} failed", lifeCycle, e);
        }
    }
}
