package dev.proxyfilter.config;

import java.time.Duration;
import java.util.Objects;

/**
 * The standalone proxy's listener ({@code server.*}); ignored by the filter and the valve, whose
 * container owns the listener, except {@code shutdownTimeout}, which every adapter honours when it stops.
 *
 * @param host           interface to bind, {@code 0.0.0.0} for all
 * @param port           TCP port, 0 for an ephemeral one; HTTPS when {@code tls} is set
 * @param maxHeaderBytes most bytes of request line plus headers; past it 431 (414 if the request line alone)
 * @param maxUriBytes    most bytes of the request target; past it 414
 * @param headerTimeout  time a client has to send a complete request head (slowloris)
 * @param idleTimeout    longest silence on a client connection, a stalled request body included
 * @param tls            HTTPS termination, or {@code null} for plain HTTP
 * @param shutdownTimeout grace that in-flight exchanges get to finish when the proxy stops (SIGTERM, undeploy);
 *                       zero cuts them at once
 * @param reusePort      standalone: bind every listener with {@code SO_REUSEPORT}, so that a new process can
 *                       take the ports over while this one still serves ({@code bin/proxy-filter --takeover})
 * @param fastPath       standalone, plain HTTP/1.1: the fast path on Jetty's io layer ({@code server.fast-path})
 */
public record ServerConfig(
        String host,
        int port,
        int maxHeaderBytes,
        int maxUriBytes,
        Duration headerTimeout,
        Duration idleTimeout,
        ServerTlsConfig tls,
        Duration shutdownTimeout,
        boolean reusePort,
        boolean h2c,
        boolean fastPath) {
    public static final String DEFAULT_HOST = "0.0.0.0";
    public static final int DEFAULT_PORT = 8080;
    /** Room for large cookies and bearer tokens; Jetty's and Tomcat's own default is 8 KiB. */
    public static final int DEFAULT_MAX_HEADER_BYTES = 16 * 1024;

    public static final int DEFAULT_MAX_URI_BYTES = 8 * 1024;
    /** {@code server.fast-path}: plain HTTP/1.1 on Jetty's io layer, the rest through Jetty's connection. */
    public static final boolean DEFAULT_FAST_PATH = true;

    public static final Duration DEFAULT_HEADER_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);
    /**
     * Below Kubernetes' default {@code terminationGracePeriodSeconds} (30 s), after which it kills the process:
     * the remaining seconds close the upstream pools and the cache, so the exit stays clean. Spring Boot's
     * graceful shutdown also defaults to 30 s per phase; Envoy's drain time (600 s) suits long-lived
     * connections more than request/response traffic.
     */
    public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(25);

    public ServerConfig {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 0..65535)");
        }
        if (maxHeaderBytes < 1 || maxUriBytes < 1) {
            throw new IllegalArgumentException(
                    "maxHeaderBytes, maxUriBytes: " + maxHeaderBytes + ", " + maxUriBytes + " (expected: > 0)");
        }
        Objects.requireNonNull(headerTimeout, "headerTimeout");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(shutdownTimeout, "shutdownTimeout");
        if (shutdownTimeout.isNegative()) {
            throw new IllegalArgumentException("shutdownTimeout: " + shutdownTimeout + " (expected: >= 0)");
        }
    }

    /** A listener without {@code SO_REUSEPORT}, with HTTP/2 in clear text ({@code server.h2c}) next to HTTP/1.1. */
    public ServerConfig(
            String host,
            int port,
            int maxHeaderBytes,
            int maxUriBytes,
            Duration headerTimeout,
            Duration idleTimeout,
            ServerTlsConfig tls,
            Duration shutdownTimeout) {
        this(
                host,
                port,
                maxHeaderBytes,
                maxUriBytes,
                headerTimeout,
                idleTimeout,
                tls,
                shutdownTimeout,
                false,
                true,
                DEFAULT_FAST_PATH);
    }

    /** A listener with the default HTTP/1.1 fast path ({@code server.fast-path}). */
    public ServerConfig(
            String host,
            int port,
            int maxHeaderBytes,
            int maxUriBytes,
            Duration headerTimeout,
            Duration idleTimeout,
            ServerTlsConfig tls,
            Duration shutdownTimeout,
            boolean reusePort,
            boolean h2c) {
        this(
                host,
                port,
                maxHeaderBytes,
                maxUriBytes,
                headerTimeout,
                idleTimeout,
                tls,
                shutdownTimeout,
                reusePort,
                h2c,
                DEFAULT_FAST_PATH);
    }

    /** This listener with or without the HTTP/1.1 fast path. */
    public ServerConfig withFastPath(boolean fastPath) {
        return new ServerConfig(
                host,
                port,
                maxHeaderBytes,
                maxUriBytes,
                headerTimeout,
                idleTimeout,
                tls,
                shutdownTimeout,
                reusePort,
                h2c,
                fastPath);
    }

    /** This listener with or without h2c. */
    public ServerConfig withH2c(boolean h2c) {
        return new ServerConfig(
                host,
                port,
                maxHeaderBytes,
                maxUriBytes,
                headerTimeout,
                idleTimeout,
                tls,
                shutdownTimeout,
                reusePort,
                h2c,
                fastPath);
    }

    /** A listener with the default shutdown timeout. */
    public ServerConfig(
            String host,
            int port,
            int maxHeaderBytes,
            int maxUriBytes,
            Duration headerTimeout,
            Duration idleTimeout,
            ServerTlsConfig tls) {
        this(host, port, maxHeaderBytes, maxUriBytes, headerTimeout, idleTimeout, tls, DEFAULT_SHUTDOWN_TIMEOUT);
    }

    /** This listener with another shutdown timeout. */
    public ServerConfig withShutdownTimeout(Duration shutdownTimeout) {
        return new ServerConfig(
                host,
                port,
                maxHeaderBytes,
                maxUriBytes,
                headerTimeout,
                idleTimeout,
                tls,
                shutdownTimeout,
                reusePort,
                h2c,
                fastPath);
    }

    /** This listener with {@code SO_REUSEPORT} on or off. */
    public ServerConfig withReusePort(boolean reusePort) {
        return new ServerConfig(
                host,
                port,
                maxHeaderBytes,
                maxUriBytes,
                headerTimeout,
                idleTimeout,
                tls,
                shutdownTimeout,
                reusePort,
                h2c,
                fastPath);
    }

    /** A plain HTTP listener with the default limits and timeouts. */
    public ServerConfig(String host, int port) {
        this(
                host,
                port,
                DEFAULT_MAX_HEADER_BYTES,
                DEFAULT_MAX_URI_BYTES,
                DEFAULT_HEADER_TIMEOUT,
                DEFAULT_IDLE_TIMEOUT,
                null,
                DEFAULT_SHUTDOWN_TIMEOUT);
    }
}
