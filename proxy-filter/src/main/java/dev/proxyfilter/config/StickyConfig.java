package dev.proxyfilter.config;

import java.util.Objects;

/**
 * Session affinity for a pool, the value of {@code pool.NAME.sticky}: {@code cookie:NAME}. A request
 * whose cookie names an eligible backend of the pool goes to that backend; any other request is placed
 * by the pool's strategy, and the response sets the cookie to the backend that served it.
 *
 * @param cookie the cookie name, an HTTP token
 */
public record StickyConfig(String cookie) {
    public StickyConfig {
        Objects.requireNonNull(cookie, "cookie");
        if (!ConfigValues.isToken(cookie)) {
            throw new IllegalArgumentException("cookie name: " + cookie + " (expected: " + ConfigValues.TOKEN + ")");
        }
    }

    /** The configuration form, {@code cookie:NAME}. */
    @Override
    public String toString() {
        return "cookie:" + cookie;
    }
}
