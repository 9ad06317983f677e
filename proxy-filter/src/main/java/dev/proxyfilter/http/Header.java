package dev.proxyfilter.http;

import java.util.Objects;

/**
 * One header field, name and value: a line of a stored response, a field the security layer sets (on a
 * refusal such as {@code WWW-Authenticate}, on every response, or upstream from a token's claims), and the
 * request header values that select a stored variant.
 *
 * <p>In a vary selection (see {@code dev.proxyfilter.cache.StoredResponse#varySelection()}) the name is lower
 * case, the value is normalised, and a {@code null} value means the request did not have the header (RFC 9111
 * §4.1: an absent header only matches an absent header). Everywhere else the value is never {@code null}; the
 * security layer's values are free of CR, LF and other control characters.
 *
 * @param name the field name
 * @param value the field value
 */
public record Header(String name, String value) {
    public Header {
        Objects.requireNonNull(name, "name");
    }
}
