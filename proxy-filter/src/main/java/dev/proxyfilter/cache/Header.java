package dev.proxyfilter.cache;

import java.util.Objects;

/**
 * One header field line, name and value as received.
 *
 * <p>In a {@linkplain CachedResponse#varySelection() vary selection} the name is lower case, the value is
 * normalised, and a {@code null} value means the request did not have the header (RFC 9111 §4.1: an absent
 * header only matches an absent header). Everywhere else the value is never {@code null}.
 *
 * @param name  the field name
 * @param value the field value
 */
public record Header(String name, String value) {
    public Header {
        Objects.requireNonNull(name, "name");
    }
}
