package dev.proxyfilter.security;

import java.util.Objects;

/**
 * One header field the security layer wants set: on a refusal ({@code WWW-Authenticate},
 * {@code Retry-After}), on every response (security headers) or on the upstream request (claims).
 *
 * @param name  the field name
 * @param value the field value, already free of CR, LF and other control characters
 */
public record Header(String name, String value) {
    public Header {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
    }
}
