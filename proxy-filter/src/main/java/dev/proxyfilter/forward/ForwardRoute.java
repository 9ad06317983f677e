package dev.proxyfilter.forward;

import dev.proxyfilter.balance.BackendPool;
import dev.proxyfilter.config.RequestLimits;
import dev.proxyfilter.config.RouteConfig;
import dev.proxyfilter.metrics.ProxyMetrics;
import dev.proxyfilter.security.RouteGuard;
import org.eclipse.jetty.client.HttpClient;

/**
 * A route at run time: its config resolved to a pool and an upstream client, with the numbers the hot
 * path needs precomputed.
 */
public final class ForwardRoute {
    private final RouteConfig config;
    private final BackendPool pool;
    private final PoolGate gate;
    private final ProxyMetrics.RouteMetrics metrics;
    private final dev.proxyfilter.upstream.Upstream upstream;
    private final String prefix;
    private final long idleTimeoutMillis;
    private final long timeoutMillis;
    private final long maxBodyBytes;
    private final long bodyTimeoutMillis;
    private final int maxHeaderCount;
    private final RouteGuard guard;
    /** Settings of the configuration this route belongs to: a request in flight keeps them across a reload. */
    private final String via;

    private final dev.proxyfilter.config.AccessLogFormat accessLog;
    private final dev.proxyfilter.security.ResponseHygiene hygiene;
    /** {@code security.strip-request-headers}: dropped from requests whose peer is not a trusted proxy. */
    private final java.util.Set<String> untrustedRequestHeaders;

    private final boolean mayBlock;
    private final RetryPolicy retryPolicy;
    /** WebSocket settings of the route and of its configuration. */
    private final boolean websocket;

    private final int maxTunnels;
    private final int maxTunnelsTotal;
    private final long tunnelIdleMillis;

    ForwardRoute(
            RouteConfig config,
            BackendPool pool,
            PoolGate gate,
            HttpClient client,
            RequestLimits limits,
            ProxyMetrics.RouteMetrics metrics,
            RouteGuard guard,
            dev.proxyfilter.config.ProxyConfig generation,
            dev.proxyfilter.security.ResponseHygiene hygiene,
            boolean mayBlock) {
        this.guard = guard;
        this.mayBlock = mayBlock;
        this.retryPolicy = new RetryPolicy(config.retry());
        this.via = generation.via();
        this.accessLog = generation.accessLog();
        this.hygiene = hygiene;
        // Case-insensitive, so that the forwarding loop looks names up as they are, allocating nothing
        java.util.TreeSet<String> untrusted = new java.util.TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        untrusted.addAll(generation.security().stripRequestHeaders());
        this.untrustedRequestHeaders = java.util.Collections.unmodifiableSet(untrusted);
        this.config = config;
        this.pool = pool;
        this.gate = gate;
        this.metrics = metrics;
        this.upstream = UpstreamClients.upstream(client, generation.pools().get(config.pool()));
        String path = config.path();
        this.prefix = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        this.idleTimeoutMillis = config.idleTimeout().toMillis();
        this.timeoutMillis = config.timeout().toMillis();
        this.maxBodyBytes =
                config.maxBodyBytes() == RouteConfig.INHERIT ? limits.maxBodyBytes() : config.maxBodyBytes();
        this.bodyTimeoutMillis = limits.bodyTimeout().toMillis();
        this.maxHeaderCount = limits.maxHeaderCount();
        this.websocket = config.websocket();
        this.maxTunnels = config.maxTunnels();
        this.maxTunnelsTotal = generation.websocket().maxTunnels();
        this.tunnelIdleMillis = generation.websocket().idleTimeout().toMillis();
    }

    /** Whether a WebSocket upgrade on this route may become a tunnel ({@code route.NAME.websocket}). */
    boolean websocket() {
        return websocket;
    }

    /** Most tunnels open on this route, 0 for no limit of its own ({@code route.NAME.max-tunnels}). */
    int maxTunnels() {
        return maxTunnels;
    }

    /** Most tunnels open over every route, 0 for no limit ({@code proxy.max-tunnels} of this configuration). */
    int maxTunnelsTotal() {
        return maxTunnelsTotal;
    }

    /** {@code proxy.websocket-idle-timeout} of this configuration. */
    long tunnelIdleMillis() {
        return tunnelIdleMillis;
    }

    /** Request headers not forwarded from a peer that is not a trusted proxy; a case-insensitive set. */
    java.util.Set<String> untrustedRequestHeaders() {
        return untrustedRequestHeaders;
    }

    /** Most request body bytes, 0 for no limit: the route's own or {@code proxy.max-body-bytes}. */
    long maxBodyBytes() {
        return maxBodyBytes;
    }

    /** {@code proxy.max-header-count} of the configuration this route belongs to. */
    int maxHeaderCount() {
        return maxHeaderCount;
    }

    /** Time to receive the request body, 0 for none. */
    long bodyTimeoutMillis() {
        return bodyTimeoutMillis;
    }

    /** The route's retry rules. */
    RetryPolicy retryPolicy() {
        return retryPolicy;
    }

    /** The route's configuration. */
    public RouteConfig config() {
        return config;
    }

    /** The route's name. */
    public String name() {
        return config.name();
    }

    /** The pool that serves the route. */
    public BackendPool pool() {
        return pool;
    }

    ProxyMetrics.RouteMetrics metrics() {
        return metrics;
    }

    PoolGate gate() {
        return gate;
    }

    /**
     * Whether starting a request on this route may block (basic authentication's bcrypt, a cache lookup
     * in a disk tier): an adapter running on a selector thread hands such requests to a worker.
     */
    public boolean mayBlock() {
        return mayBlock;
    }

    /** The {@code Via} name of this route's configuration. */
    String via() {
        return via;
    }

    /** The access-log format of this route's configuration. */
    dev.proxyfilter.config.AccessLogFormat accessLog() {
        return accessLog;
    }

    /** The response hygiene of this route's configuration. */
    dev.proxyfilter.security.ResponseHygiene hygiene() {
        return hygiene;
    }

    /** The route's security step; {@link RouteGuard#NONE} when nothing applies to it. */
    RouteGuard guard() {
        return guard;
    }

    /** The client requests to this route's backends go through: HTTP/1.1 or HTTP/2, as the pool says. */
    dev.proxyfilter.upstream.Upstream upstream() {
        return upstream;
    }

    /** The path prefix without a trailing slash ("" for the root route). */
    String prefix() {
        return prefix;
    }

    boolean stripPrefix() {
        return config.stripPrefix();
    }

    boolean preserveHost() {
        return config.preserveHost();
    }

    long idleTimeoutMillis() {
        return idleTimeoutMillis;
    }

    long timeoutMillis() {
        return timeoutMillis;
    }

    /** The path to send upstream for a client path that this route matched. */
    String serverPath(String clientPath) {
        if (!config.stripPrefix() || prefix.isEmpty()) {
            return clientPath;
        }
        // The route matched the path without its parameters: cut the prefix where it ends in the path as received.
        int end = clientPath.indexOf(';') < 0
                ? Math.min(prefix.length(), clientPath.length())
                : dev.proxyfilter.route.PathNormalizer.indexAfter(clientPath, prefix.length());
        String rest = clientPath.substring(end);
        return rest.isEmpty() ? "/" : rest;
    }
}
