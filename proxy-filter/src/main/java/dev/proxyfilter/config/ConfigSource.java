package dev.proxyfilter.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.net.URL;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;

/**
 * One named set of raw {@code key=value} entries: a properties file, {@code web.xml} init-params or
 * system properties. {@link ConfigLoader} merges several; later sources override earlier ones.
 *
 * <p>A source named {@value #SYSTEM_PROPERTY}, as {@link #ofSystemProperties} makes, names each key by
 * its own property in error messages: {@code [system property proxyfilter.server.port]}.
 *
 * @param name    how error messages name the source, e.g. {@code config/proxy.properties} or
 *                {@code WEB-INF/web.xml init-param}
 * @param entries raw entries (keys without any {@code proxyfilter.} prefix)
 */
public record ConfigSource(String name, Map<String, String> entries) {
    /** System properties with this prefix override every other source: {@code -Dproxyfilter.server.port=9090}. */
    public static final String SYSTEM_PROPERTY_PREFIX = "proxyfilter.";

    /** The name of the source {@link #ofSystemProperties} returns. */
    public static final String SYSTEM_PROPERTY = "system property";

    private static final String CLASSPATH_PREFIX = "classpath:";

    public ConfigSource {
        Objects.requireNonNull(name, "name");
        entries = Map.copyOf(entries);
    }

    /**
     * Reads a properties file (ISO-8859-1 escapes as in {@link Properties}, UTF-8 text), named by the
     * path as given. A key set twice in the file is an error: {@link Properties} would silently keep
     * the last value, hiding a copy-paste slip.
     *
     * @throws ConfigException if the file cannot be read or is not valid UTF-8
     */
    public static ConfigSource ofFile(Path file) {
        String name = file.toString();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return read(name, reader);
        } catch (IOException e) {
            throw new ConfigException("cannot read configuration file: " + reason(e), name, e);
        }
    }

    /**
     * Reads a classpath resource, named {@code classpath:NAME} in messages. A leading "/" is ignored,
     * as {@link ClassLoader#getResource} never expects one.
     *
     * @throws ConfigException if the resource does not exist or cannot be read
     */
    public static ConfigSource ofResource(ClassLoader loader, String resource) {
        Objects.requireNonNull(loader, "loader");
        String path = stripSlash(resource);
        String name = CLASSPATH_PREFIX + path;
        // An empty name or one ending in "/" would find a directory, which reads as a file listing.
        URL url = path.isEmpty() || path.endsWith("/") ? null : loader.getResource(path);
        if (url == null) {
            throw new ConfigException("cannot read configuration resource: not found", name, null);
        }
        // A decoder rather than a Charset: it reports malformed UTF-8 instead of replacing it.
        try (InputStream in = url.openStream();
                Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8.newDecoder())) {
            return read(name, reader);
        } catch (IOException e) {
            throw new ConfigException("cannot read configuration resource: " + reason(e), name, e);
        }
    }

    /**
     * Reads properties text from a stream the caller opened and closes, such as a webapp resource,
     * with the same rules as {@link #ofFile}.
     *
     * @param name how messages name the source, e.g. {@code WEB-INF/proxy.properties}
     * @throws ConfigException if the stream cannot be read or is not valid UTF-8
     */
    public static ConfigSource ofStream(String name, InputStream in) {
        try {
            return read(name, new InputStreamReader(in, StandardCharsets.UTF_8.newDecoder()));
        } catch (IOException e) {
            throw new ConfigException("cannot read configuration: " + reason(e), name, e);
        }
    }

    /**
     * Resolves a {@code config} init-param or {@code --config} argument: an existing file path, or else
     * a classpath resource (an optional {@code classpath:} prefix forces the latter).
     *
     * @throws ConfigException if {@code location} is neither, naming it as {@code config}
     */
    public static ConfigSource ofLocation(String location, ClassLoader loader) {
        Objects.requireNonNull(loader, "loader");
        String expected = "an existing file or classpath resource";
        if (location == null || location.isBlank()) {
            throw new ConfigException(
                    "config", location == null ? null : Setting.display(location.strip()), expected, null);
        }
        String trimmed = location.strip();
        if (trimmed.startsWith(CLASSPATH_PREFIX)) {
            return ofResource(loader, trimmed.substring(CLASSPATH_PREFIX.length()));
        }
        Path file = toPath(trimmed);
        // Any existing path, even a directory, is meant as a file; ofFile then says why it cannot be read.
        if (file != null && Files.exists(file)) {
            return ofFile(file);
        }
        if (loader.getResource(stripSlash(trimmed)) != null) {
            return ofResource(loader, trimmed);
        }
        throw new ConfigException("config", location, expected, null);
    }

    /**
     * The {@code proxyfilter.*} system properties, with the prefix removed, in a source named
     * {@value #SYSTEM_PROPERTY}. Pass {@link System#getProperties()}.
     */
    public static ConfigSource ofSystemProperties(Properties properties) {
        Map<String, String> entries = new HashMap<>();
        for (String key : properties.stringPropertyNames()) {
            String value = properties.getProperty(key);
            // Null when another thread removed the property since stringPropertyNames().
            if (key.startsWith(SYSTEM_PROPERTY_PREFIX) && value != null) {
                entries.put(key.substring(SYSTEM_PROPERTY_PREFIX.length()), value);
            }
        }
        return new ConfigSource(SYSTEM_PROPERTY, entries);
    }

    /** How messages name the source of {@code key}'s value. */
    String sourceOf(String key) {
        return name.equals(SYSTEM_PROPERTY) ? SYSTEM_PROPERTY + " " + SYSTEM_PROPERTY_PREFIX + key : name;
    }

    /** Parses properties text; package-private so that tests can feed it text without a file. */
    static ConfigSource read(String name, Reader reader) throws IOException {
        Properties properties = new Properties() {
            private static final long serialVersionUID = 1L;

            @Override
            public synchronized Object put(Object key, Object value) {
                Object previous = super.put(key, value);
                if (previous != null) {
                    throw new ConfigException(
                            Setting.display((String) key),
                            Setting.display(((String) value).strip()),
                            "each key once per file",
                            name);
                }
                return previous;
            }
        };
        try {
            properties.load(reader);
        } catch (IllegalArgumentException e) {
            // Properties' only complaint about content: a malformed backslash-u escape.
            throw new ConfigException("cannot read configuration: " + e.getMessage(), name, e);
        }
        Map<String, String> entries = new HashMap<>();
        for (String key : properties.stringPropertyNames()) {
            entries.put(key, properties.getProperty(key));
        }
        return new ConfigSource(name, entries);
    }

    private static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof CharacterCodingException) {
            return "not valid UTF-8";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private static String stripSlash(String resource) {
        return resource.startsWith("/") ? resource.substring(1) : resource;
    }

    private static Path toPath(String location) {
        try {
            return Path.of(location);
        } catch (InvalidPathException e) {
            return null;
        }
    }
}
