package dev.proxyfilter.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * How a pool's backends are spoken to ({@code pool.NAME.protocol}), and, for HTTP/2, how many connections and
 * streams one backend gets ({@code pool.NAME.h2.max-connections}, {@code pool.NAME.h2.max-streams}).
 *
 * @param kind           HTTP/1.1, h2c (HTTP/2 in clear text, prior knowledge) or h2 (HTTP/2 over TLS, ALPN)
 * @param maxConnections most HTTP/2 connections open to one backend address; unused for HTTP/1.1
 * @param maxStreams     most concurrent streams on one HTTP/2 connection; a backend's lower
 *                       {@code SETTINGS_MAX_CONCURRENT_STREAMS} wins; unused for HTTP/1.1
 */
public record UpstreamProtocol(Kind kind, int maxConnections, int maxStreams) {
    /** Default {@code pool.NAME.h2.max-connections}. */
    public static final int DEFAULT_MAX_CONNECTIONS = 4;
    /** Default {@code pool.NAME.h2.max-streams}. */
    public static final int DEFAULT_MAX_STREAMS = 128;
    /** HTTP/1.1 with the HTTP/2 defaults: what a pool without {@code protocol} has. */
    public static final UpstreamProtocol DEFAULT =
            new UpstreamProtocol(Kind.HTTP_1_1, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_STREAMS);

    public UpstreamProtocol {
        Objects.requireNonNull(kind, "kind");
        if (maxConnections < 1 || maxStreams < 1) {
            throw new IllegalArgumentException(
                    "maxConnections, maxStreams: " + maxConnections + ", " + maxStreams + " (expected: > 0)");
        }
    }

    /** Whether backends are spoken to over HTTP/2. */
    public boolean http2() {
        return kind != Kind.HTTP_1_1;
    }

    /** The protocols {@code pool.NAME.protocol} takes. */
    public enum Kind {
        HTTP_1_1("http/1.1"),
        H2C("h2c"),
        H2("h2");

        private final String configName;

        Kind(String configName) {
            this.configName = configName;
        }

        public String configName() {
            return configName;
        }

        /** The kind a configuration value names, in any case. */
        public static Optional<Kind> fromConfigName(String value) {
            String lower = value.toLowerCase(Locale.ROOT);
            return Arrays.stream(values())
                    .filter(k -> k.configName.equals(lower))
                    .findFirst();
        }

        /** {@code http/1.1|h2c|h2}. */
        public static String configNames() {
            return Arrays.stream(values()).map(Kind::configName).collect(Collectors.joining("|"));
        }
    }
}
