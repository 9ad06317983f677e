package dev.proxyfilter.forward;

import dev.proxyfilter.balance.Backend;
import dev.proxyfilter.balance.BackendPool;
import dev.proxyfilter.balance.BackendState;
import dev.proxyfilter.balance.HealthListener;
import dev.proxyfilter.balance.PoolMode;
import dev.proxyfilter.config.AuthConfig;
import dev.proxyfilter.config.CacheConfig;
import dev.proxyfilter.config.PoolConfig;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.config.RouteConfig;
import dev.proxyfilter.health.HealthChecker;
import dev.proxyfilter.health.HealthLog;
import dev.proxyfilter.metrics.ProxyMetrics;
import dev.proxyfilter.route.RouteTable;
import dev.proxyfilter.security.Security;
import dev.proxyfilter.time.ProxyClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.jetty.client.HttpClient;

/**
 * Builds a {@link Generation} from a configuration, carrying over the pools of the previous one: backends
 * whose pool, name and URL stay are the same objects (see {@link BackendPool#BackendPool(PoolConfig,
 * HealthListener, BackendPool)}), so health, statistics and sticky sessions survive a reload. It also keeps
 * the metrics of every backend of a live generation. Called under the engine's reload lock.
 */
final class GenerationBuilder {
    private final UpstreamClients clients;
    private final ProxyMetrics metrics;
    /** The cache configuration the engine started with: whether a caching route may block on a disk tier. */
    private final CacheConfig cache;

    private final ProxyClock clock;
    /** Per backend of any live generation; identity keys (Backend has no equals). */
    private final Map<Backend, ProxyMetrics.BackendMetrics> backendMetrics = new ConcurrentHashMap<>();

    GenerationBuilder(UpstreamClients clients, ProxyMetrics metrics, CacheConfig cache, ProxyClock clock) {
        this.clock = clock;
        this.clients = clients;
        this.metrics = metrics;
        this.cache = cache;
    }

    /** The metrics of a backend of a live generation, or {@code null}. */
    ProxyMetrics.BackendMetrics metrics(Backend backend) {
        return backendMetrics.get(backend);
    }

    /** Drops the metrics holder of a backend no live generation has any more. */
    void forget(Backend backend) {
        backendMetrics.remove(backend);
    }

    /**
     * Builds a generation; carries over the pools of {@code previous}, if any. The parts that can fail on good
     * configuration (starting a client) come before carrying backends over, which moves their health.
     */
    Generation build(long number, ProxyConfig config, Security security, Generation previous) throws Exception {
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
                HttpClient client = clients.client(route.connectTimeout(), started);
                clientByRoute.put(route.name(), client);
                // Checks travel the way the pool's requests do: through the client of its first route.
                clientByPool.putIfAbsent(route.pool(), client);
            }
            for (PoolConfig pool : config.pools().values()) {
                if (pool.health().check() != null && !clientByPool.containsKey(pool.name())) {
                    clientByPool.put(
                            pool.name(), clients.client(pool.health().check().timeout(), started));
                }
            }
        } catch (Exception | Error e) {
            for (HttpClient client : started.values()) {
                UpstreamClients.stopQuietly(client);
            }
            throw e;
        }
        clients.adopt(started);
        Set<Duration> timeouts = new HashSet<>();
        for (var entry : clients.running().entrySet()) {
            if (clientByRoute.containsValue(entry.getValue()) || clientByPool.containsValue(entry.getValue())) {
                timeouts.add(entry.getKey());
            }
        }

        Map<String, BackendPool> pools = new LinkedHashMap<>();
        Map<String, PoolGate> gates = new LinkedHashMap<>();
        for (PoolConfig pool : config.pools().values()) {
            BackendPool before = previous == null ? null : previous.pools.get(pool.name());
            BackendPool next = new BackendPool(pool, healthListener(), before, clock);
            pools.put(pool.name(), next);
            gates.put(
                    pool.name(),
                    new PoolGate(
                            next,
                            pool,
                            config.retryBudgetPercent(),
                            clients.scheduler(),
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
                    mayBlock(config, route) || security.guard(route.name()).mayWait());
            entries.add(new RouteTable.Entry<>(route.host(), route.path(), forwardRoute));
            if (route.host() == null) {
                anyHost = true;
            } else {
                hosts.add(Generation.hostOf(route.host()));
            }
        }
        Map<String, BackendPool> frozen = Map.copyOf(pools);
        HealthChecker checker = new HealthChecker(frozen, pool -> clientByPool.get(pool.name()), clients.scheduler());
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
     * (basic authentication, tens of milliseconds by design), or a cache lookup that may read a disk tier. (Or a
     * rate limit that asks the cluster, which the route's guard knows: {@code RouteGuard.mayWait}.)
     */
    private boolean mayBlock(ProxyConfig config, RouteConfig route) {
        var routeSecurity = config.security().routes().get(route.name());
        boolean basic = routeSecurity != null
                && routeSecurity.auth() != null
                && routeSecurity.auth().kind() == AuthConfig.Kind.BASIC;
        return basic || (route.cache() && UpstreamClients.cacheMayUseDisk(cache));
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
}
