package dev.proxyfilter.config;

/**
 * One merged {@code key=value} with the source that supplied the winning value.
 *
 * @param key          the key, trimmed
 * @param value        the value, trimmed
 * @param source       how messages name the source of this value, e.g. {@code config/proxy.properties}
 * @param firstSource  how messages name the earliest source that set this key, even if a later one
 *                     overrode it: where the key's group (pool, backend, route) was defined
 * @param firstIndex   position of {@code firstSource} in merge order
 */
record Setting(String key, String value, String source, String firstSource, int firstIndex) {

    /** This setting overridden by a later source, remembering where the key was first set. */
    Setting overriddenBy(String newValue, String newSource) {
        return new Setting(key, newValue, newSource, firstSource, firstIndex);
    }

    /** A {@link ConfigException} about this setting's value. */
    ConfigException invalid(String expected) {
        return new ConfigException(display(key), display(value), expected, source);
    }

    /** Like {@link #invalid(String)}, showing {@code shownValue} instead, e.g. with a password masked. */
    ConfigException invalid(String shownValue, String expected) {
        return new ConfigException(display(key), display(shownValue), expected, source);
    }

    /** Shows an empty key or value as {@code ""} so that the message never reads {@code key:  (expected...}. */
    static String display(String text) {
        return text.isEmpty() ? "\"\"" : text;
    }
}
