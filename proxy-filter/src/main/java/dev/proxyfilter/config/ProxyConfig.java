package dev.proxyfilter.config;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The whole, validated configuration of one proxy instance. Built by {@link ConfigLoader} from any
 * mix of sources; every instance is consistent (each route names an existing pool).
 *
 * @param server  the standalone listener
 * @param pools   pools by name
 * @param routes  routes in declaration-name order
 * @param demo    demo backends for the standalone proxy
 * @param via     the pseudonym this proxy adds to {@code Via}, e.g. {@code 1.1 proxy-filter}
 * @param sources where the values came from, for reports and error messages
 * @param retryBudgetPercent retries each pool may add on top of its requests, in percent of them
 *                (Finagle's retry budget), so that a failing pool is not hammered by retries
 * @param admin   the standalone proxy's admin listener
 * @param accessLog how each request is logged
 * @param security client identity, access rules, rate limits, authentication and response hygiene
 * @param limits  what the engine accepts of a client request (header count, body size and time)
 * @param upstreamTls how {@code https://} backends are trusted
 * @param cache   the shared response cache ({@code cache.*}); off unless {@code cache.enabled}
 * @param reload  how the configuration is reloaded ({@code reload.*})
 * @param websocket WebSocket tunnels: their idle timeout and how many may be open
 * @param cluster the cluster this instance takes part in ({@code cluster.*}); off unless {@code cluster.enabled}
 * @param accessLogTarget where the access log's lines go ({@code log.access.to})
 */
public record ProxyConfig(
        ServerConfig server,
        Map<String, PoolConfig> pools,
        List<RouteConfig> routes,
        DemoConfig demo,
        String via,
        List<String> sources,
        int retryBudgetPercent,
        AdminConfig admin,
        AccessLogFormat accessLog,
        SecurityConfig security,
        RequestLimits limits,
        UpstreamTlsConfig upstreamTls,
        CacheConfig cache,
        ReloadConfig reload,
        WebSocketConfig websocket,
        ClusterConfig cluster,
        AccessLogTarget accessLogTarget) {
    /** Default {@code proxy.retry-budget}. */
    public static final int DEFAULT_RETRY_BUDGET_PERCENT = 20;

    public ProxyConfig {
        Objects.requireNonNull(server, "server");
        pools = Map.copyOf(pools);
        routes = List.copyOf(routes);
        Objects.requireNonNull(demo, "demo");
        Objects.requireNonNull(via, "via");
        sources = List.copyOf(sources);
        Objects.requireNonNull(admin, "admin");
        Objects.requireNonNull(accessLog, "accessLog");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(upstreamTls, "upstreamTls");
        Objects.requireNonNull(cache, "cache");
        Objects.requireNonNull(reload, "reload");
        Objects.requireNonNull(websocket, "websocket");
        Objects.requireNonNull(cluster, "cluster");
        Objects.requireNonNull(accessLogTarget, "accessLogTarget");
        if (retryBudgetPercent < 0 || retryBudgetPercent > 100) {
            throw new IllegalArgumentException("retryBudgetPercent: " + retryBudgetPercent + " (expected: 0..100)");
        }
        for (RouteConfig route : routes) {
            if (!pools.containsKey(route.pool())) {
                throw new IllegalArgumentException("route " + route.name() + " names unknown pool " + route.pool());
            }
        }
        Objects.requireNonNull(security, "security");
        for (String name : security.routes().keySet()) {
            if (routes.stream().noneMatch(route -> route.name().equals(name))) {
                throw new IllegalArgumentException("security settings for unknown route " + name);
            }
        }
    }

    /** A configuration whose access log goes through the SLF4J logger. */
    public ProxyConfig(
            ServerConfig server,
            Map<String, PoolConfig> pools,
            List<RouteConfig> routes,
            DemoConfig demo,
            String via,
            List<String> sources,
            int retryBudgetPercent,
            AdminConfig admin,
            AccessLogFormat accessLog,
            SecurityConfig security,
            RequestLimits limits,
            UpstreamTlsConfig upstreamTls,
            CacheConfig cache,
            ReloadConfig reload,
            WebSocketConfig websocket,
            ClusterConfig cluster) {
        this(
                server,
                pools,
                routes,
                demo,
                via,
                sources,
                retryBudgetPercent,
                admin,
                accessLog,
                security,
                limits,
                upstreamTls,
                cache,
                reload,
                websocket,
                cluster,
                AccessLogTarget.LOGGER);
    }

    /** A configuration with the default {@link WebSocketConfig} and no cluster. */
    public ProxyConfig(
            ServerConfig server,
            Map<String, PoolConfig> pools,
            List<RouteConfig> routes,
            DemoConfig demo,
            String via,
            List<String> sources,
            int retryBudgetPercent,
            AdminConfig admin,
            AccessLogFormat accessLog,
            SecurityConfig security,
            RequestLimits limits,
            UpstreamTlsConfig upstreamTls,
            CacheConfig cache,
            ReloadConfig reload) {
        this(
                server,
                pools,
                routes,
                demo,
                via,
                sources,
                retryBudgetPercent,
                admin,
                accessLog,
                security,
                limits,
                upstreamTls,
                cache,
                reload,
                WebSocketConfig.DEFAULT,
                ClusterConfig.disabled());
    }

    /** A configuration with the default {@link ReloadConfig}. */
    public ProxyConfig(
            ServerConfig server,
            Map<String, PoolConfig> pools,
            List<RouteConfig> routes,
            DemoConfig demo,
            String via,
            List<String> sources,
            int retryBudgetPercent,
            AdminConfig admin,
            AccessLogFormat accessLog,
            SecurityConfig security,
            RequestLimits limits,
            UpstreamTlsConfig upstreamTls,
            CacheConfig cache) {
        this(
                server,
                pools,
                routes,
                demo,
                via,
                sources,
                retryBudgetPercent,
                admin,
                accessLog,
                security,
                limits,
                upstreamTls,
                cache,
                ReloadConfig.DEFAULT);
    }

    /** A configuration without security settings ({@link SecurityConfig#NONE}) or response cache. */
    public ProxyConfig(
            ServerConfig server,
            Map<String, PoolConfig> pools,
            List<RouteConfig> routes,
            DemoConfig demo,
            String via,
            List<String> sources,
            int retryBudgetPercent,
            AdminConfig admin,
            AccessLogFormat accessLog) {
        this(server, pools, routes, demo, via, sources, retryBudgetPercent, admin, accessLog, SecurityConfig.NONE);
    }

    /** A configuration with security settings, the default request limits and upstream trust, and no cache. */
    public ProxyConfig(
            ServerConfig server,
            Map<String, PoolConfig> pools,
            List<RouteConfig> routes,
            DemoConfig demo,
            String via,
            List<String> sources,
            int retryBudgetPercent,
            AdminConfig admin,
            AccessLogFormat accessLog,
            SecurityConfig security) {
        this(
                server,
                pools,
                routes,
                demo,
                via,
                sources,
                retryBudgetPercent,
                admin,
                accessLog,
                security,
                RequestLimits.DEFAULT,
                UpstreamTlsConfig.DEFAULT);
    }

    /** A configuration with a response cache and the defaults for the rest. */
    public ProxyConfig(
            ServerConfig server,
            Map<String, PoolConfig> pools,
            List<RouteConfig> routes,
            DemoConfig demo,
            String via,
            List<String> sources,
            int retryBudgetPercent,
            AdminConfig admin,
            AccessLogFormat accessLog,
            CacheConfig cache) {
        this(
                server,
                pools,
                routes,
                demo,
                via,
                sources,
                retryBudgetPercent,
                admin,
                accessLog,
                SecurityConfig.NONE,
                RequestLimits.DEFAULT,
                UpstreamTlsConfig.DEFAULT,
                cache);
    }

    /** A configuration without a response cache. */
    public ProxyConfig(
            ServerConfig server,
            Map<String, PoolConfig> pools,
            List<RouteConfig> routes,
            DemoConfig demo,
            String via,
            List<String> sources,
            int retryBudgetPercent,
            AdminConfig admin,
            AccessLogFormat accessLog,
            SecurityConfig security,
            RequestLimits limits,
            UpstreamTlsConfig upstreamTls) {
        this(
                server,
                pools,
                routes,
                demo,
                via,
                sources,
                retryBudgetPercent,
                admin,
                accessLog,
                security,
                limits,
                upstreamTls,
                CacheConfig.disabled());
    }

    /** A configuration with the default retry budget. */
    public ProxyConfig(
            ServerConfig server,
            Map<String, PoolConfig> pools,
            List<RouteConfig> routes,
            DemoConfig demo,
            String via,
            List<String> sources) {
        this(
                server,
                pools,
                routes,
                demo,
                via,
                sources,
                DEFAULT_RETRY_BUDGET_PERCENT,
                AdminConfig.defaults(),
                AccessLogFormat.COMBINED);
    }

    /** This configuration with another cache configuration. */
    public ProxyConfig withCache(CacheConfig cache) {
        return new ProxyConfig(
                server,
                pools,
                routes,
                demo,
                via,
                sources,
                retryBudgetPercent,
                admin,
                accessLog,
                security,
                limits,
                upstreamTls,
                cache,
                reload,
                websocket,
                cluster,
                accessLogTarget);
    }

    /** This configuration with other WebSocket settings. */
    public ProxyConfig withWebSocket(WebSocketConfig websocket) {
        return new ProxyConfig(
                server,
                pools,
                routes,
                demo,
                via,
                sources,
                retryBudgetPercent,
                admin,
                accessLog,
                security,
                limits,
                upstreamTls,
                cache,
                reload,
                websocket,
                cluster,
                accessLogTarget);
    }

    /** This configuration with another cluster configuration. */
    public ProxyConfig withCluster(ClusterConfig cluster) {
        return new ProxyConfig(
                server,
                pools,
                routes,
                demo,
                via,
                sources,
                retryBudgetPercent,
                admin,
                accessLog,
                security,
                limits,
                upstreamTls,
                cache,
                reload,
                websocket,
                cluster,
                accessLogTarget);
    }

    /** This configuration with other security settings. */
    public ProxyConfig withSecurity(SecurityConfig security) {
        return new ProxyConfig(
                server,
                pools,
                routes,
                demo,
                via,
                sources,
                retryBudgetPercent,
                admin,
                accessLog,
                security,
                limits,
                upstreamTls,
                cache,
                reload,
                websocket,
                cluster,
                accessLogTarget);
    }
}
