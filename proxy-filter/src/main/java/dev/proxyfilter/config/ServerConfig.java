package dev.proxyfilter.config;

import java.time.Duration;
import java.util.Objects;

/**
 * The standalone proxy's listener ({@code server.*}); ignored by the filter and the valve, whose
 * container owns the listener.
 *
 * @param host           interface to bind, {@code 0.0.0.0} for all
 * @param port           TCP port, 0 for an ephemeral one; HTTPS when {@code tls} is set
 * @param maxHeaderBytes most bytes of request line plus headers; past it 431 (414 if the request line alone)
 * @param maxUriBytes    most bytes of the request target; past it 414
 * @param headerTimeout  time a client has to send a complete request head (slowloris)
 * @param idleTimeout    longest silence on a client connection, a stalled request body included
 * @param tls            HTTPS termination, or {@code null} for plain HTTP
 */
public record ServerConfig(String host, int port, int maxHeaderBytes, int maxUriBytes, Duration headerTimeout,
        Duration idleTimeout, ServerTlsConfig tls) {
    public static final String DEFAULT_HOST = "0.0.0.0";
    public static final int DEFAULT_PORT = 8080;
    /** Room for large cookies and bearer tokens; Jetty's and Tomcat's own default is 8 KiB. */
    public static final int DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
    public static final int DEFAULT_MAX_URI_BYTES = 8 * 1024;
    public static final Duration DEFAULT_HEADER_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);

    public ServerConfig {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 0..65535)");
        }
        if (maxHeaderBytes < 1 || maxUriBytes < 1) {
            throw new IllegalArgumentException("maxHeaderBytes, maxUriBytes: " + maxHeaderBytes + ", " + maxUriBytes
                    + " (expected: > 0)");
        }
        Objects.requireNonNull(headerTimeout, "headerTimeout");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
    }

    /** A plain HTTP listener with the default limits and timeouts. */
    public ServerConfig(String host, int port) {
        this(host, port, DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_URI_BYTES, DEFAULT_HEADER_TIMEOUT, DEFAULT_IDLE_TIMEOUT,
                null);
    }
}
