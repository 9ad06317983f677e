package dev.proxyfilter.config;

import java.util.Objects;

/**
 * The admin interface of the standalone proxy ({@code admin.*}): dashboard, metrics, API, health.
 * It listens on loopback by default; on any other interface a token is required.
 *
 * @param host  interface to bind; {@code 127.0.0.1} by default
 * @param port  TCP port, 0 for an ephemeral one, -1 for no admin listener
 * @param token bearer token the API and dashboard require, or null (only allowed on loopback)
 */
public record AdminConfig(String host, int port, String token) {
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8081;

    public AdminConfig {
        Objects.requireNonNull(host, "host");
        if (port < -1 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: -1..65535)");
        }
        if (token != null && token.isEmpty()) {
            token = null;
        }
    }

    /** The default: 127.0.0.1:8081, no token. */
    public static AdminConfig defaults() {
        return new AdminConfig(DEFAULT_HOST, DEFAULT_PORT, null);
    }

    /** Whether {@link #host} is a loopback address. */
    public boolean loopback() {
        return host.equals("127.0.0.1")
                || host.equals("localhost")
                || host.equals("::1")
                || host.equals("[::1]")
                || host.startsWith("127.");
    }
}
