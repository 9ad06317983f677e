package dev.proxyfilter.config;

/**
 * The standalone proxy's listener ({@code server.*}); ignored by the filter and the valve.
 *
 * @param host interface to bind, {@code 0.0.0.0} for all
 * @param port TCP port, 0 for an ephemeral one
 */
public record ServerConfig(String host, int port) {
    public static final String DEFAULT_HOST = "0.0.0.0";
    public static final int DEFAULT_PORT = 8080;

    public ServerConfig {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 0..65535)");
        }
    }
}
