package dev.proxyfilter.config;

import java.util.List;

/**
 * The security settings of one route, on top of the global ones of {@link SecurityConfig}.
 *
 * @param allow                  {@code route.NAME.allow}: when not empty, the client IP must be in one of
 *                               these blocks (in addition to {@code security.allow})
 * @param deny                   {@code route.NAME.deny}: a client IP in one of these blocks gets 403
 * @param rateLimit              {@code route.NAME.rate-limit}: a token bucket of the route's own, taken in
 *                               addition to {@code security.rate-limit}; {@code null} for none
 * @param exemptFromGlobalLimit  {@code route.NAME.rate-limit=none}: the route takes no token from
 *                               {@code security.rate-limit} (a health check, say)
 * @param auth                   {@code route.NAME.auth}; {@code null} for none
 */
public record RouteSecurityConfig(
        List<Cidr> allow, List<Cidr> deny, RateLimitConfig rateLimit, boolean exemptFromGlobalLimit, AuthConfig auth) {
    /** A route with no settings of its own. */
    public static final RouteSecurityConfig NONE = new RouteSecurityConfig(List.of(), List.of(), null, false, null);

    public RouteSecurityConfig {
        allow = List.copyOf(allow);
        deny = List.copyOf(deny);
        if (exemptFromGlobalLimit && rateLimit != null) {
            throw new IllegalArgumentException("a route exempt from the global rate limit has no limit of its own");
        }
    }
}
