package dev.proxyfilter.forward;

import dev.proxyfilter.balance.BackendPool;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.health.HealthChecker;
import dev.proxyfilter.route.PathNormalizer;
import dev.proxyfilter.route.RouteTable;
import dev.proxyfilter.security.Security;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Everything one configuration decides, immutable once {@link GenerationBuilder} built it: the route table,
 * the pools and their admission gates, the security layer and the health checks. {@link Reloader} swaps the
 * engine from one generation to the next; a request keeps the generation it was routed on (its
 * {@link ForwardRoute} carries the pool, gate and client), so a reload never changes a request in flight.
 */
public final class Generation {
    /** How long a retired generation is kept at least, for requests between routing and their start. */
    private static final long RETIRE_GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);

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

    /** When it stopped taking new requests, from the engine's ticker. */
    volatile long retiredAt;

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

    /** 1 for the configuration the engine started with, one more per applied reload. */
    public long number() {
        return number;
    }

    /** The configuration this generation runs. */
    public ProxyConfig config() {
        return config;
    }

    /** Pools by name. */
    public Map<String, BackendPool> pools() {
        return pools;
    }

    /** The security layer of this configuration: guards, rate limiters, response hygiene. */
    public Security security() {
        return security;
    }

    /** Requests waiting in a pool's queue for a backend with room; 0 for an unknown pool. */
    public int pending(String pool) {
        PoolGate gate = gates.get(pool);
        return gate == null ? 0 : gate.pending();
    }

    /**
     * The route for a request, or {@code null} when none matches.
     *
     * @param authority the Host header, may carry a port, may be null
     * @param path the normalised request path, starting with "/"; matched without its path parameters
     *     ({@code ;x}), as a servlet container backend would map it
     */
    public ForwardRoute route(String authority, String path) {
        return routes.match(authority, PathNormalizer.withoutParameters(path));
    }

    /**
     * Whether some route serves this Host (or absolute-form authority), port ignored. A request for a host no
     * route serves is not forwarded anywhere: this proxy is no open proxy.
     */
    boolean servesHost(String authority) {
        return anyHostRoute || (authority != null && routeHosts.contains(hostOf(authority)));
    }

    /**
     * Whether no request that started on this generation is still running, and no WebSocket tunnel it opened is
     * still open. A request counts from
     * {@link PoolGate#onRequestStart}, a moment after routing gave it its route, so a generation retired only
     * just now is not idle yet whatever its gates say.
     */
    boolean idle(long nowNanos) {
        if (nowNanos - retiredAt < RETIRE_GRACE_NANOS) {
            return false;
        }
        for (PoolGate gate : gates.values()) {
            if (gate.activeRequests() > 0 || gate.activeTunnels() > 0) {
                return false; // a tunnel keeps its client, hence its connector, and its backend's address
            }
        }
        return true;
    }

    /** Host without port or root dot, lower case; IPv6 literals keep their brackets. */
    static String hostOf(String authority) {
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
}
