package dev.proxyfilter.security;

import dev.proxyfilter.config.AuthConfig;
import dev.proxyfilter.config.ConfigException;
import dev.proxyfilter.config.RouteSecurityConfig;
import dev.proxyfilter.config.SecurityConfig;
import java.time.Clock;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The security layer of one engine: a {@link RouteGuard} per route and the {@link ResponseHygiene} of
 * every response. The global rate limit and the concurrency cap are one table each, shared by all routes.
 */
public final class Security {
    private final Map<String, RouteGuard> guards;
    private final ResponseHygiene hygiene;

    private Security(Map<String, RouteGuard> guards, ResponseHygiene hygiene) {
        this.guards = Map.copyOf(guards);
        this.hygiene = hygiene;
    }

    /** With the system clocks. */
    public static Security start(SecurityConfig config, Collection<String> routes) {
        return start(config, routes, Clock.systemUTC(), System::nanoTime);
    }

    /**
     * Builds the guards of {@code routes}, reading the users and JWKS files.
     *
     * @param clock    the wall clock JWT {@code exp} and {@code nbf} are checked against
     * @param nanoTime the monotonic clock of the token buckets and tables
     * @throws ConfigException naming the key whose file is unreadable or malformed
     */
    public static Security start(SecurityConfig config, Collection<String> routes, Clock clock, LongSupplier nanoTime) {
        ClientIdentity identity = new ClientIdentity(config.trustedProxies(), config.clientIpHeader());
        RateLimiter global = config.rateLimit() == null ? null
                : new RateLimiter("global", config.rateLimit(), config.rateLimitMaxKeys(), nanoTime);
        ConcurrencyLimiter concurrency = config.maxConcurrentPerClient() == 0 ? null
                : new ConcurrencyLimiter(config.maxConcurrentPerClient());
        boolean globalActive = identity.trustsAny() || !config.allow().isEmpty() || !config.deny().isEmpty()
                || global != null || concurrency != null;
        Map<String, RouteGuard> guards = new HashMap<>();
        for (String route : routes) {
            RouteSecurityConfig own = config.route(route);
            if (!globalActive && own.equals(RouteSecurityConfig.NONE)) {
                continue;
            }
            RateLimiter routeLimit = own.rateLimit() == null ? null
                    : new RateLimiter("route-" + route, own.rateLimit(), config.rateLimitMaxKeys(), nanoTime);
            guards.put(route, new RouteGuard(identity,
                    new AccessRules(config.allow(), config.deny(), own.allow(), own.deny()),
                    own.exemptFromGlobalLimit() ? null : global, routeLimit, concurrency,
                    authenticator(route, own.auth(), clock, nanoTime), RouteGuard.removedRequestHeaders(own)));
        }
        return new Security(guards, new ResponseHygiene(config));
    }

    private static Authenticator authenticator(String route, AuthConfig auth, Clock clock, LongSupplier nanoTime) {
        if (auth == null) {
            return null;
        }
        String prefix = "route." + route + ".auth.";
        return switch (auth.kind()) {
            case BASIC -> BasicAuthenticator.load(auth, prefix + "users-file", nanoTime);
            case JWT -> JwtAuthenticator.load(auth, prefix + "jwks-file", clock);
        };
    }

    /** The guard of route {@code name}; {@link RouteGuard#NONE} when nothing applies to it. */
    public RouteGuard guard(String name) {
        return guards.getOrDefault(name, RouteGuard.NONE);
    }

    /** What every response loses and gains. */
    public ResponseHygiene hygiene() {
        return hygiene;
    }
}
