package dev.proxyfilter.config;

import java.util.Objects;

/**
 * What a {@link StrategyName#CONSISTENT_HASH consistent-hash} pool hashes to pick a backend, the
 * value of {@code pool.NAME.hash-key}: {@code client-ip}, {@code header:NAME}, {@code cookie:NAME} or
 * {@code path}.
 *
 * @param source where the key is read from
 * @param name   the header or cookie name, an HTTP token, for {@link Source#HEADER} and
 *               {@link Source#COOKIE}; {@code null} for the others
 */
public record HashKey(Source source, String name) {

    /** Where a request's hash key is read from. */
    public enum Source {
        /** The client's IP address: the peer's, or behind trusted proxies the one they report. */
        CLIENT_IP("client-ip"),
        /** The first value of a request header. */
        HEADER("header"),
        /** The value of a request cookie. */
        COOKIE("cookie"),
        /** The request path as received, still percent-encoded, without the query. */
        PATH("path");

        private final String configName;

        Source(String configName) {
            this.configName = configName;
        }

        /** The name used in configuration, e.g. {@code client-ip}. */
        public String configName() {
            return configName;
        }

        /** Whether the source needs a name after a colon, e.g. {@code header:X-User}. */
        public boolean named() {
            return this == HEADER || this == COOKIE;
        }
    }

    public HashKey {
        Objects.requireNonNull(source, "source");
        if (source.named()) {
            if (name == null || !ConfigValues.isToken(name)) {
                throw new IllegalArgumentException(
                        source.configName() + " name: " + name + " (expected: " + ConfigValues.TOKEN + ")");
            }
        } else if (name != null) {
            throw new IllegalArgumentException(source.configName() + " takes no name: " + name);
        }
    }

    /** The peer's IP address. */
    public static HashKey clientIp() {
        return new HashKey(Source.CLIENT_IP, null);
    }

    /** The first value of request header {@code name}. */
    public static HashKey header(String name) {
        return new HashKey(Source.HEADER, name);
    }

    /** The value of request cookie {@code name}. */
    public static HashKey cookie(String name) {
        return new HashKey(Source.COOKIE, name);
    }

    /** The request path. */
    public static HashKey path() {
        return new HashKey(Source.PATH, null);
    }

    /** The configuration form, e.g. {@code header:X-User} or {@code client-ip}. */
    @Override
    public String toString() {
        return name == null ? source.configName() : source.configName() + ":" + name;
    }
}
