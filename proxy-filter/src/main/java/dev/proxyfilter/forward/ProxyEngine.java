package dev.proxyfilter.forward;

import dev.proxyfilter.accesslog.AccessLog;
import dev.proxyfilter.balance.Backend;
import dev.proxyfilter.balance.BackendPool;
import dev.proxyfilter.cluster.Cluster;
import dev.proxyfilter.config.ConfigException;
import dev.proxyfilter.config.ConfigKey;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.metrics.ProxyMetrics;
import dev.proxyfilter.reload.ConfigWatcher;
import dev.proxyfilter.reload.ReloadResult;
import dev.proxyfilter.security.Admission;
import dev.proxyfilter.security.Security;
import dev.proxyfilter.time.ProxyClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy engine, with no servlet code: adapters hand every request to {@link #handle}, whose body is the
 * whole pipeline in order (see the package documentation for the class behind each step).
 *
 * <p>The engine is the long-lived facade adapters hold. What a configuration decides lives in an immutable
 * {@link Generation}, which the {@link Reloader} swaps on {@link #reload}; the upstream side (threads, buffer
 * pool, one client pair per connect timeout) is {@link UpstreamClients}; the response cache is the
 * {@link CachingStep}. Operators reach backends through {@link #pools()} or the {@code admin} package.
 */
public final class ProxyEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProxyEngine.class);

    /** How long exchanges cut by a close get to run their failure callbacks before the cache closes. */
    private static final Duration CUT_SETTLE = Duration.ofMillis(500);

    /**
     * The settings a reload cannot change, as {@link ConfigKey} declares them: the listeners ({@code server.*},
     * {@code admin.*}) are bound, the demo backends started, the clients' TLS context ({@code proxy.tls.*}) and
     * the cache's store ({@code cache.*}) built once.
     */
    public static final List<String> RESTART_ONLY = ConfigKey.restartOnly();

    /** What {@link #handle} does with a request that no route matches. */
    public enum Unrouted {
        /** Answer it: 404, or 403 when no route serves its host (a proxy listener, a proxy servlet). */
        ANSWER,
        /** Leave it to the adapter, which passes it on (a filter to its chain, a valve to the webapps). */
        PASS_ON
    }

    private final ProxyClock clock;
    private final ProxyMetrics metrics;
    private final UpstreamClients clients;
    private final GenerationBuilder builder;
    private final Reloader reloader;
    /** The cluster, the shared rate limits, the cache, the clients, the access log: opened and closed together. */
    private final EngineResources resources;
    /** This instance's part in a cluster, {@code null} without {@code cluster.enabled=true}. */
    private final Cluster cluster;
    /** Heartbeats and admin commands across the cluster, {@code null} without one. */
    private final ClusterNode clusterNode;
    /** The response cache, {@code null} when {@code cache.enabled=false}. */
    private final CachingStep caching;
    /** The access log's queue and writer thread; engine-wide, across generations. */
    private final AccessLog accessLog;
    /** Exchanges in flight, for a graceful {@link #close(Duration)}; engine-wide, across generations. */
    private final InFlight inFlight = new InFlight();
    /** WebSocket tunnels open, engine-wide, across generations (step 9, {@link Tunnel}). */
    private final Tunnels tunnels = new Tunnels();

    private final AtomicBoolean closing = new AtomicBoolean();
    /** Set when a stop begins, before the container stops handing over requests: what {@code /readyz} reports. */
    private volatile boolean stopping;

    private ProxyEngine(ProxyConfig config, Security security, ProxyClock clock) throws Exception {
        this.clock = clock;
        this.metrics = new ProxyMetrics(clock);
        this.resources = EngineResources.open(config, security, clock, metrics);
        this.cluster = resources.cluster;
        this.caching = resources.caching;
        this.clients = resources.clients;
        this.accessLog = resources.accessLog;
        try {
            metrics.gauge("proxy.requests.in_flight", inFlight::count);
            this.builder = new GenerationBuilder(clients, metrics, config.cache(), clock);
            this.reloader =
                    new Reloader(config, resources.security, resources.sharedBuckets, builder, clients, metrics, clock);
            this.clusterNode = cluster == null ? null : startClusterNode(cluster);
        } catch (Exception | Error e) {
            resources.close();
            throw e;
        }
    }

    /** This node's heartbeat and admin commands; without them (a cluster that fails now) each node is on its own. */
    private ClusterNode startClusterNode(Cluster running) {
        try {
            return new ClusterNode(this, running, clients.scheduler());
        } catch (RuntimeException e) {
            LOG.warn(
                    "cluster {}: no heartbeats nor admin commands across the cluster: {}",
                    running.name(),
                    e.toString());
            return null;
        }
    }

    /**
     * Starts an engine for a validated configuration.
     *
     * @throws ConfigException if a users or JWKS file named by the configuration is unreadable or malformed
     * @throws IllegalStateException if the upstream client cannot start
     */
    public static ProxyEngine start(ProxyConfig config) {
        return start(config, ProxyClock.system());
    }

    /**
     * Starts an engine on {@code clock}, the one time source of everything in it that reads time: health and
     * ejection, slow start, rate limits, cache freshness, metrics rates, generation retirement. Tests pass a
     * fake clock and move it instead of sleeping.
     */
    public static ProxyEngine start(ProxyConfig config, ProxyClock clock) {
        return start(config, null, clock); // the security layer once the cluster runs, whose buckets it may use
    }

    /**
     * Starts an engine with a security layer built by the caller, on the system clock. Its rate limits are this
     * instance's own, even in a cluster; a reload builds the next one with the cluster's.
     */
    public static ProxyEngine start(ProxyConfig config, Security security) {
        return start(config, security, ProxyClock.system());
    }

    private static ProxyEngine start(ProxyConfig config, Security security, ProxyClock clock) {
        try {
            return new ProxyEngine(config, security, clock);
        } catch (ConfigException e) {
            throw e; // the cluster or the cache's store could not be started as configured
        } catch (IllegalStateException e) {
            throw e; // says what could not start (the shared cache)
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the upstream HTTP client", e);
        }
    }

    // ---- The pipeline ----

    /**
     * Handles one client request, from its first look to its access-log line; the adapter must not touch the
     * response afterwards. Returns {@code false} only for a request no route matches when {@code unrouted} is
     * {@link Unrouted#PASS_ON}: the engine did not touch it, and the adapter passes it on.
     */
    public boolean handle(ClientExchange exchange, Unrouted unrouted) {
        // 1. Strict checks: no tunnels but RFC 8441's for WebSocket, and one normalised path for routes, rules
        // and backends.
        boolean extendedConnect = false;
        if (StrictChecks.isTunnel(exchange.method())) {
            String protocol = exchange.connectProtocol();
            if (!ExtendedConnect.websocket(protocol)) {
                exchange.begin("/");
                StrictChecks.refuseTunnel(exchange, protocol);
                return true;
            }
            extendedConnect = true; // goes on like an HTTP/1.1 upgrade (ExtendedConnect)
        }
        String path = StrictChecks.normalisedPath(exchange.rawPath());
        if (path == null) {
            exchange.begin("/");
            StrictChecks.refusePath(exchange);
            return true;
        }
        // 2. Route: the Host plus the longest whole-segment path prefix picks a route, and with it a pool.
        Generation generation = reloader.serving();
        String host = exchange.host();
        ForwardRoute route = generation.route(host, path);
        if (route == null) {
            if (unrouted == Unrouted.PASS_ON) {
                return false;
            }
            exchange.begin(path);
            StrictChecks.refuseUnrouted(GrpcExchange.wrap(exchange), generation.servesHost(host));
            return true;
        }
        exchange.begin(path);
        ClientExchange call = GrpcExchange.wrap(exchange); // a gRPC call's errors are gRPC statuses
        boolean tunnel = extendedConnect;
        if (route.mayBlock()) {
            call.dispatch(() -> admit(route, call, tunnel)); // bcrypt, a disk-tier cache read: off the selector
        } else {
            admit(route, call, tunnel);
        }
        return true;
    }

    /** Steps 3 and 4, then {@link Forwarding} for the rest. */
    private void admit(ForwardRoute route, ClientExchange exchange, boolean extendedConnect) {
        if (closing.get()) {
            // Closing: the container may still hand over a request on a kept-alive connection.
            new Forwarding(this, route, exchange, Admission.NONE).refuse(503, "Service Unavailable: shutting down");
            return;
        }
        // 3. Request checks: one framing, header count and body size within the limits (RequestChecks).
        RequestChecks.Refusal refusal = RequestChecks.check(
                exchange.method(),
                extendedConnect,
                exchange.requestHeaders(),
                route.maxHeaderCount(),
                route.maxBodyBytes());
        if (refusal != null) {
            new Forwarding(this, route, exchange, Admission.NONE).refuse(refusal.status(), refusal.message());
            return;
        }
        // 4. Security: access rules, authentication, rate limits, the per-client concurrency cap (SecurityStep).
        Admission admission = SecurityStep.admit(route.guard(), exchange);
        // 5-12. Cache lookup, admission and queue, pick a backend, forward, tunnel, retry, cache store, log
        // (Forwarding, Tunnel).
        new Forwarding(this, route, SecurityStep.releasing(exchange, admission), admission, extendedConnect).start();
    }

    // ---- Reloading ----

    /**
     * Applies a new configuration for requests that start from now on (see {@link Reloader}). Nothing changes
     * unless the whole configuration can be started: a users or JWKS file that cannot be read, or a client
     * that cannot start, rejects it and the old configuration keeps serving. Settings listed in {@link
     * #RESTART_ONLY} that differ from the running ones are named in the result and the log, and otherwise
     * ignored. Thread-safe; reloads run one at a time.
     */
    public ReloadResult reload(ProxyConfig next) {
        return reload(next, "api");
    }

    /** {@link #reload(ProxyConfig)}, naming what triggered it ({@code file}, {@code signal}, {@code admin}). */
    public ReloadResult reload(ProxyConfig next, String trigger) {
        return reloader.reload(next, trigger);
    }

    /**
     * Re-reads the sources the configuration came from ({@link #configSource}) and applies them; an error
     * reading or validating them is a rejected result, never an exception.
     */
    public ReloadResult reloadFromSource(String trigger) {
        return reloader.reloadFromSource(trigger);
    }

    /**
     * Where {@link #reloadFromSource} reads the configuration: the loader the adapter started the engine with,
     * which reads the same sources again (throwing {@link ConfigException} when they are invalid).
     */
    public void configSource(Supplier<ProxyConfig> loader) {
        reloader.source(loader);
    }

    /** Whether {@link #configSource} was given. */
    public boolean reloadable() {
        return reloader.reloadable();
    }

    /** Watches {@code file} and reloads from {@link #configSource} when it changes; stopped by {@link #close()}. */
    public ConfigWatcher watch(Path file) {
        return reloader.watch(file);
    }

    /** The outcome of the last reload, or {@code null} before the first. */
    public ReloadResult lastReload() {
        return reloader.lastReload();
    }

    // ---- What the engine runs ----

    /** The generation serving new requests now: one consistent view of pools and configuration. */
    public Generation serving() {
        return reloader.serving();
    }

    /**
     * The configuration this engine runs: the latest one applied, with the restart-only settings ({@link
     * #RESTART_ONLY}) the engine started with.
     */
    public ProxyConfig config() {
        return reloader.serving().config;
    }

    /** The number of the configuration generation serving new requests: 1 at start, one more per reload. */
    public long generation() {
        return reloader.serving().number;
    }

    /** Pools by name. */
    public Map<String, BackendPool> pools() {
        return reloader.serving().pools;
    }

    /** Requests waiting in a pool's queue for a backend with room. */
    public int pending(String pool) {
        return reloader.serving().pending(pool);
    }

    /** This proxy's metrics. */
    public ProxyMetrics metrics() {
        return metrics;
    }

    /** The metrics of a backend of a live generation, or {@code null}. */
    public ProxyMetrics.BackendMetrics metrics(Backend backend) {
        return builder.metrics(backend);
    }

    /** The response cache, or {@code null} when {@code cache.enabled=false}. */
    public CachingStep caching() {
        return caching;
    }

    /**
     * This instance's part in a cluster of instances, or {@code null} without {@code cluster.enabled=true}: what
     * features that span the cluster build on.
     */
    public Cluster cluster() {
        return cluster;
    }

    /**
     * This node's heartbeat and the admin commands it sends to and takes from the other nodes, or {@code null}
     * without a cluster.
     */
    public ClusterNode clusterNode() {
        return clusterNode;
    }

    /** The engine's one time source. */
    public ProxyClock clock() {
        return clock;
    }

    /** Exchanges in flight now: forwarded, answered from the cache or refused, and not ended yet. */
    public int inFlightExchanges() {
        return inFlight.count();
    }

    InFlight inFlight() {
        return inFlight;
    }

    /** See {@link InUse}. */
    public InUse inUse() {
        Generation generation = reloader.serving();
        int backendRequests = 0;
        int queued = 0;
        for (BackendPool pool : generation.pools.values()) {
            for (Backend backend : pool.backends()) {
                backendRequests += backend.inFlight();
            }
            queued += generation.pending(pool.name());
        }
        int[] upstream;
        synchronized (reloader) {
            upstream = clients.busyAndWaiting();
        }
        return new InUse(
                inFlight.count(), backendRequests, queued, upstream[0], upstream[1], tunnels.count(), upstream[2]);
    }

    /** WebSocket tunnels open now, or opening for an upgrade in flight. */
    public int openTunnels() {
        return tunnels.count();
    }

    /**
     * Completes once no WebSocket tunnel is open (at once if none is): what a container's graceful stop waits
     * for, since it sees no request of a tunnel once its 101 is out.
     */
    public java.util.concurrent.CompletableFuture<Void> tunnelsClosed() {
        return tunnels.whenNone();
    }

    Tunnels tunnels() {
        return tunnels;
    }

    AccessLog accessLog() {
        return accessLog;
    }

    Scheduler scheduler() {
        return clients.scheduler();
    }

    /** Admission state (limits, queue, retry budget) of a pool, or null. */
    PoolGate gate(String pool) {
        return reloader.serving().gates.get(pool);
    }

    /** Upstream clients running now; for tests that check that a retired generation's clients stop. */
    int clientCount() {
        synchronized (reloader) {
            return clients.running().size();
        }
    }

    /** Backend addresses the upstream clients hold pools for; for tests that check removed ones go. */
    int upstreamDestinations() {
        synchronized (reloader) {
            return clients.destinations();
        }
    }

    // ---- Stopping ----

    /**
     * Marks the engine as going away, so that readiness checks fail and load balancers in front stop sending
     * new work while in-flight exchanges finish; {@link #close(Duration)} marks it too.
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
     * Closes gracefully: new exchanges get 503, the health checks stop, in-flight exchanges and WebSocket
     * tunnels get up to {@code grace} to end; then the tunnels left close; then the upstream clients stop
     * (cutting what is left, which ends with 502 or an aborted response), then the access log writes what it
     * queued, then the cache closes (a persistent disk tier is flushed and reopens consistent), then this
     * instance leaves its cluster (an embedded member hands its share of the shared cache over), then the
     * metrics (JMX). Blocks the caller meanwhile; only the first call does anything.
     */
    public void close(Duration grace) {
        stopping = true;
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        List<HttpClient> running = reloader.close(); // watchers and health checks stop first
        if (clusterNode != null) {
            clusterNode.close(); // the others stop expecting this node's acknowledgements
        }
        long deadline = System.nanoTime() + grace.toNanos();
        if (!awaitInFlight(grace)) {
            LOG.warn(
                    "{} exchange(s) still in flight after the {} ms shutdown grace; cutting them",
                    inFlight.count(),
                    grace.toMillis());
        }
        // WebSocket tunnels get what is left of the grace too, then close: a client reconnects elsewhere.
        if (!awaitTunnels(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))) {
            LOG.warn(
                    "{} WebSocket tunnel(s) still open after the {} ms shutdown grace; closing them",
                    tunnels.count(),
                    grace.toMillis());
        }
        tunnels.closeAll(new java.io.EOFException("the proxy is shutting down"));
        for (HttpClient client : running) {
            UpstreamClients.stopQuietly(client);
        }
        // A cut exchange ends through its failure callback, which may still touch the cache: let it first.
        awaitInFlight(CUT_SETTLE);
        resources.close(); // the access log writes the lines of every exchange that ended, then the rest closes
    }

    private boolean awaitTunnels(Duration timeout) {
        try {
            return tunnels.awaitNone(timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private boolean awaitInFlight(Duration timeout) {
        try {
            return inFlight.awaitIdle(timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // close the rest at once
            return false;
        }
    }
}
