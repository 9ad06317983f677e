package dev.proxyfilter.config;

/**
 * A configuration value is missing, malformed or contradicts another one.
 *
 * <p>The message has the shape {@code key: value (expected: constraint) [source]}, for example
 * {@code pool.web.backend.b.weight: -1 (expected: integer >= 0) [config/proxy.properties]}, so that an
 * operator can find and fix the line without reading code.
 */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String key;
    private final String source;

    /** A problem with one key. {@code value} is {@code null} when the key is missing. */
    public ConfigException(String key, String value, String expected, String source) {
        super(format(key, value, expected, source));
        this.key = key;
        this.source = source;
    }

    /** A problem that is not about one key, such as an unreadable file. */
    public ConfigException(String message, String source, Throwable cause) {
        super(message + " [" + source + "]", cause);
        this.key = null;
        this.source = source;
    }

    static String format(String key, String value, String expected, String source) {
        return key + ": " + (value == null ? "missing" : value) + " (expected: " + expected + ")"
                + (source == null ? "" : " [" + source + "]");
    }

    /** The key at fault, or {@code null} when the problem is not about one key. */
    public String key() {
        return key;
    }

    /** Where the bad value came from: a file path, {@code WEB-INF/web.xml init-param}, a system property. */
    public String source() {
        return source;
    }
}
