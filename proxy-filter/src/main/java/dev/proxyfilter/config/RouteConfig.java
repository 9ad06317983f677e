package dev.proxyfilter.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Maps requests to a pool: {@code route.NAME.*}.
 *
 * @param name           the route name
 * @param host           Host to match (case-insensitive, without port), or {@code null} for any host
 * @param path           path prefix starting with "/"; matches whole segments ("/api" matches "/api" and
 *                       "/api/x", not "/apix"); the longest matching prefix wins
 * @param pool           name of the pool that serves the route
 * @param stripPrefix    remove {@code path} from the forwarded path
 * @param preserveHost   send the client's Host header (true) or the backend's authority (false)
 * @param connectTimeout time to open a connection to a backend
 * @param idleTimeout    longest silence on the backend exchange before 504
 * @param timeout        total time for the backend exchange before 504, {@link Duration#ZERO} for no limit;
 *                       it spans every try
 * @param retry          when a failed exchange is tried again
 * @param maxBodyBytes   most request body bytes, 0 for no limit, {@link #INHERIT} for {@code proxy.max-body-bytes}
 * @param cache          whether this route's responses go through the response cache ({@code route.NAME.cache},
 *                       default {@code cache.enabled}); without an enabled cache it has no effect
 * @param websocket      whether a WebSocket upgrade becomes a tunnel ({@code route.NAME.websocket}); when false
 *                       the request is forwarded without {@code Upgrade}, as nginx does without
 *                       {@code proxy_set_header Upgrade}
 * @param maxTunnels     most tunnels open on this route at once, 0 for {@code proxy.max-tunnels} alone
 */
public record RouteConfig(
        String name,
        String host,
        String path,
        String pool,
        boolean stripPrefix,
        boolean preserveHost,
        Duration connectTimeout,
        Duration idleTimeout,
        Duration timeout,
        RetryConfig retry,
        long maxBodyBytes,
        boolean cache,
        boolean websocket,
        int maxTunnels) {
    /** {@code maxBodyBytes} when the route has no limit of its own. */
    public static final long INHERIT = -1;

    public RouteConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(pool, "pool");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(retry, "retry");
        if (maxBodyBytes < INHERIT) {
            throw new IllegalArgumentException("maxBodyBytes: " + maxBodyBytes + " (expected: >= -1)");
        }
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("path: " + path + " (expected: starts with /)");
        }
        if (host != null && host.isEmpty()) {
            host = null;
        }
        if (maxTunnels < 0) {
            throw new IllegalArgumentException("maxTunnels: " + maxTunnels + " (expected: >= 0)");
        }
    }

    /** A route that tunnels WebSocket upgrades within {@code proxy.max-tunnels} alone. */
    public RouteConfig(
            String name,
            String host,
            String path,
            String pool,
            boolean stripPrefix,
            boolean preserveHost,
            Duration connectTimeout,
            Duration idleTimeout,
            Duration timeout,
            RetryConfig retry,
            long maxBodyBytes,
            boolean cache) {
        this(
                name,
                host,
                path,
                pool,
                stripPrefix,
                preserveHost,
                connectTimeout,
                idleTimeout,
                timeout,
                retry,
                maxBodyBytes,
                cache,
                true,
                0);
    }

    /** A route with its own body limit and caching choice left to {@code cache.enabled}. */
    public RouteConfig(
            String name,
            String host,
            String path,
            String pool,
            boolean stripPrefix,
            boolean preserveHost,
            Duration connectTimeout,
            Duration idleTimeout,
            Duration timeout,
            RetryConfig retry,
            long maxBodyBytes) {
        this(
                name,
                host,
                path,
                pool,
                stripPrefix,
                preserveHost,
                connectTimeout,
                idleTimeout,
                timeout,
                retry,
                maxBodyBytes,
                true);
    }

    /** A route inheriting {@code proxy.max-body-bytes}, with a caching choice. */
    public RouteConfig(
            String name,
            String host,
            String path,
            String pool,
            boolean stripPrefix,
            boolean preserveHost,
            Duration connectTimeout,
            Duration idleTimeout,
            Duration timeout,
            RetryConfig retry,
            boolean cache) {
        this(
                name,
                host,
                path,
                pool,
                stripPrefix,
                preserveHost,
                connectTimeout,
                idleTimeout,
                timeout,
                retry,
                INHERIT,
                cache);
    }

    /** A route inheriting {@code proxy.max-body-bytes}. */
    public RouteConfig(
            String name,
            String host,
            String path,
            String pool,
            boolean stripPrefix,
            boolean preserveHost,
            Duration connectTimeout,
            Duration idleTimeout,
            Duration timeout,
            RetryConfig retry) {
        this(name, host, path, pool, stripPrefix, preserveHost, connectTimeout, idleTimeout, timeout, retry, INHERIT);
    }

    /** A route with the default retry policy. */
    public RouteConfig(
            String name,
            String host,
            String path,
            String pool,
            boolean stripPrefix,
            boolean preserveHost,
            Duration connectTimeout,
            Duration idleTimeout,
            Duration timeout) {
        this(
                name,
                host,
                path,
                pool,
                stripPrefix,
                preserveHost,
                connectTimeout,
                idleTimeout,
                timeout,
                RetryConfig.DEFAULT);
    }

    /** This route with another caching choice. */
    public RouteConfig withCache(boolean cache) {
        return new RouteConfig(
                name,
                host,
                path,
                pool,
                stripPrefix,
                preserveHost,
                connectTimeout,
                idleTimeout,
                timeout,
                retry,
                maxBodyBytes,
                cache,
                websocket,
                maxTunnels);
    }

    /** This route with other WebSocket settings. */
    public RouteConfig withWebSocket(boolean websocket, int maxTunnels) {
        return new RouteConfig(
                name,
                host,
                path,
                pool,
                stripPrefix,
                preserveHost,
                connectTimeout,
                idleTimeout,
                timeout,
                retry,
                maxBodyBytes,
                cache,
                websocket,
                maxTunnels);
    }
}
