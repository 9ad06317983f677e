package dev.proxyfilter.config;

import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/**
 * One named set of raw {@code key=value} entries: a properties file, {@code web.xml} init-params or
 * system properties. {@link ConfigLoader} merges several; later sources override earlier ones.
 *
 * @param name    how error messages name the source, e.g. {@code config/proxy.properties} or
 *                {@code WEB-INF/web.xml init-param}
 * @param entries raw entries (keys without any {@code proxyfilter.} prefix)
 */
public record ConfigSource(String name, Map<String, String> entries) {
    /** System properties with this prefix override every other source: {@code -Dproxyfilter.server.port=9090}. */
    public static final String SYSTEM_PROPERTY_PREFIX = "proxyfilter.";

    public ConfigSource {
        entries = Map.copyOf(entries);
    }

    /** Reads a properties file (ISO-8859-1 escapes as in {@link Properties}, UTF-8 text). */
    public static ConfigSource ofFile(Path file) {
        throw new UnsupportedOperationException("TODO");
    }

    /** Reads a classpath resource, named {@code classpath:NAME} in messages. */
    public static ConfigSource ofResource(ClassLoader loader, String resource) {
        throw new UnsupportedOperationException("TODO");
    }

    /**
     * Resolves a {@code config} init-param or {@code --config} argument: an existing file path, or else
     * a classpath resource (an optional {@code classpath:} prefix forces the latter).
     */
    public static ConfigSource ofLocation(String location, ClassLoader loader) {
        throw new UnsupportedOperationException("TODO");
    }

    /** The {@code proxyfilter.*} system properties, with the prefix removed. */
    public static ConfigSource ofSystemProperties(Properties properties) {
        throw new UnsupportedOperationException("TODO");
    }
}
