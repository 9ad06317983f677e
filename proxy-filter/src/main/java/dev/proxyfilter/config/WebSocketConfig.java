package dev.proxyfilter.config;

import java.time.Duration;
import java.util.Objects;

/**
 * WebSocket tunnels, proxy-wide ({@code proxy.websocket-idle-timeout}, {@code proxy.max-tunnels}); a route
 * switches them off or caps its own with {@code route.NAME.websocket} and {@code route.NAME.max-tunnels}.
 *
 * @param idleTimeout longest time a tunnel carries no byte in either direction before both connections close
 * @param maxTunnels  most tunnels open at once over every route, 0 for no limit; past it 503
 */
public record WebSocketConfig(Duration idleTimeout, int maxTunnels) {
    /** Default {@code proxy.websocket-idle-timeout}: an hour, far above the pings of WebSocket libraries. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofHours(1);
    /**
     * Default {@code proxy.max-tunnels}: each tunnel holds two sockets (and no thread), so this bounds the
     * file descriptors tunnels can take, well below a typical {@code LimitNOFILE} of 65536.
     */
    public static final int DEFAULT_MAX_TUNNELS = 10_000;

    public static final WebSocketConfig DEFAULT = new WebSocketConfig(DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_TUNNELS);

    public WebSocketConfig {
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("idleTimeout: " + idleTimeout + " (expected: > 0)");
        }
        if (maxTunnels < 0) {
            throw new IllegalArgumentException("maxTunnels: " + maxTunnels + " (expected: >= 0)");
        }
    }
}
