package dev.proxyfilter.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Several proxy instances as one ({@code cluster.*}): whether this instance takes part in a cluster, how (a
 * member in this JVM, or a client of members elsewhere), and how it finds the others. Off by default, and
 * then nothing of the cluster is loaded at all.
 *
 * <p>Members find each other over TCP-IP only, from the {@link #members()} list (no multicast, no cloud
 * discovery): every instance lists some or all of the others, and one it reaches introduces it to the rest.
 * An operator who needs more (TLS, discovery plugins, another port range) hands over a whole Hazelcast
 * configuration instead ({@link #hazelcastXml()}), which then replaces {@code name}, {@code members},
 * {@code port} and {@code bindInterface}.
 *
 * @param enabled       whether this instance joins a cluster
 * @param mode          a member in this JVM, or a client of an existing cluster
 * @param name          the cluster name: only instances with the same name form one cluster
 * @param members       {@code host[:port]} addresses of members to join (embedded) or connect to (client,
 *                      then at least one); empty for an embedded member that starts alone
 * @param port          the embedded member's port, 1..65535; ignored by a client
 * @param bindInterface the interface the embedded member binds to and announces, an IPv4 address in which
 *                      {@code *} may stand for any one number ({@code 10.0.1.*}); {@code null} lets the
 *                      member pick one and bind every interface
 * @param hazelcastXml  a Hazelcast member (embedded) or client (client) configuration file, XML or YAML, used
 *                      instead of the other settings but {@code mode}; {@code null} when not given
 * @param rateLimits    whether the rate limits ({@code security.rate-limit}, {@code route.NAME.rate-limit}) hold
 *                      across the cluster or per instance
 * @param rateLimitTimeout how long a request waits for the cluster's token bucket before this instance decides
 *                      with its own bucket; positive
 */
public record ClusterConfig(
        boolean enabled,
        Mode mode,
        String name,
        List<String> members,
        int port,
        String bindInterface,
        Path hazelcastXml,
        RateLimitScope rateLimits,
        Duration rateLimitTimeout) {

    /** Default of {@link #name()}. */
    public static final String DEFAULT_NAME = "proxy-filter";
    /** Default of {@link #port()}, Hazelcast's own. */
    public static final int DEFAULT_PORT = 5701;
    /**
     * Default of {@link #rateLimitTimeout()}, as {@code cache.shared-timeout}'s: many round trips on a LAN, and
     * above the scheduling delays of a busy host, yet short enough that the one request a second that pays it
     * during an outage hardly notices.
     */
    public static final Duration DEFAULT_RATE_LIMIT_TIMEOUT = Duration.ofMillis(100);

    /** Where the token buckets of the rate limits live ({@code cluster.rate-limits}). */
    public enum RateLimitScope {
        /** One bucket per key for the whole cluster: a limit of 10/s admits 10/s in all. */
        CLUSTER,
        /** A bucket per key on each instance, as without a cluster: N instances admit up to N times the limit. */
        NODE;

        /** The value of {@code cluster.rate-limits}. */
        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The scope a {@code cluster.rate-limits} value names, in any case. */
        public static Optional<RateLimitScope> fromConfigName(String value) {
            for (RateLimitScope scope : values()) {
                if (scope.configName().equalsIgnoreCase(value)) {
                    return Optional.of(scope);
                }
            }
            return Optional.empty();
        }
    }

    /** How this instance takes part. */
    public enum Mode {
        /** A cluster member runs in this JVM and holds its share of the data. */
        EMBEDDED,
        /** A client connects to an existing cluster, holding no data itself. */
        CLIENT;

        /** The value of {@code cluster.mode}. */
        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The mode a {@code cluster.mode} value names, in any case. */
        public static Optional<Mode> fromConfigName(String value) {
            for (Mode mode : values()) {
                if (mode.configName().equalsIgnoreCase(value)) {
                    return Optional.of(mode);
                }
            }
            return Optional.empty();
        }
    }

    public ClusterConfig {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(name, "name");
        members = List.copyOf(members);
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("cluster.port: " + port + " (expected: " + ClusterSettings.PORT + ")");
        }
        Objects.requireNonNull(rateLimits, "rateLimits");
        if (rateLimitTimeout.isNegative() || rateLimitTimeout.isZero()) {
            throw new IllegalArgumentException("cluster.rate-limit-timeout: " + rateLimitTimeout.toMillis()
                    + "ms (expected: " + ClusterSettings.RATE_LIMIT_TIMEOUT + ")");
        }
    }

    /** As the canonical constructor, with cluster-wide rate limits and the default timeout. */
    public ClusterConfig(
            boolean enabled,
            Mode mode,
            String name,
            List<String> members,
            int port,
            String bindInterface,
            Path hazelcastXml) {
        this(
                enabled,
                mode,
                name,
                members,
                port,
                bindInterface,
                hazelcastXml,
                RateLimitScope.CLUSTER,
                DEFAULT_RATE_LIMIT_TIMEOUT);
    }

    /** Whether rate limits hold across the cluster: it is enabled and {@link #rateLimits()} says so. */
    public boolean sharesRateLimits() {
        return enabled && rateLimits == RateLimitScope.CLUSTER;
    }

    /** This configuration with other rate-limit settings. */
    public ClusterConfig withRateLimits(RateLimitScope scope, Duration timeout) {
        return new ClusterConfig(enabled, mode, name, members, port, bindInterface, hazelcastXml, scope, timeout);
    }

    /** No cluster: every other value at its default. */
    public static ClusterConfig disabled() {
        return new ClusterConfig(false, Mode.EMBEDDED, DEFAULT_NAME, List.of(), DEFAULT_PORT, null, null);
    }

    /**
     * An embedded member on {@code 127.0.0.1:port} in cluster {@code name}, joining {@code members}: what tests
     * and single-host set-ups use.
     */
    public static ClusterConfig loopback(String name, int port, List<String> members) {
        return new ClusterConfig(true, Mode.EMBEDDED, name, members, port, "127.0.0.1", null);
    }

    /** This configuration as a client of {@code members} instead. */
    public ClusterConfig asClientOf(List<String> clientMembers) {
        return new ClusterConfig(
                enabled, Mode.CLIENT, name, clientMembers, port, null, hazelcastXml, rateLimits, rateLimitTimeout);
    }
}
