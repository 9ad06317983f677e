package dev.proxyfilter.security;

import dev.proxyfilter.config.AuthConfig;
import dev.proxyfilter.config.ConfigException;
import dev.proxyfilter.config.RateLimitConfig;
import dev.proxyfilter.config.RouteSecurityConfig;
import dev.proxyfilter.config.SecurityConfig;
import dev.proxyfilter.time.ProxyClock;
import java.time.Clock;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * The security layer of one engine: a {@link RouteGuard} per route and the {@link ResponseHygiene} of
 * every response. The global rate limit and the concurrency cap are one table each, shared by all routes.
 *
 * <p>A configuration reload builds a new one from the running one ({@link #start(SecurityConfig,
 * Collection, Security)}): a rate limit whose policy did not change keeps its buckets, and an unchanged
 * concurrency cap its count of requests in flight, so a reload never hands clients a fresh allowance.
 */
public final class Security {
    private final Map<String, RouteGuard> guards;
    private final ResponseHygiene hygiene;
    /** The rate limiters by policy name ({@code global}, {@code route-NAME}), for the next reload. */
    private final Map<String, RateLimiter> limiters;

    private final ConcurrencyLimiter concurrency;

    private Security(
            Map<String, RouteGuard> guards,
            ResponseHygiene hygiene,
            Map<String, RateLimiter> limiters,
            ConcurrencyLimiter concurrency) {
        this.guards = Map.copyOf(guards);
        this.hygiene = hygiene;
        this.limiters = Map.copyOf(limiters);
        this.concurrency = concurrency;
    }

    /** With the system clock. */
    public static Security start(SecurityConfig config, Collection<String> routes) {
        return start(config, routes, ProxyClock.system(), null);
    }

    /**
     * With the system clock, for a reload: the rate limiters and concurrency cap of {@code running} whose
     * settings are unchanged are kept, with their state (buckets, requests in flight).
     */
    public static Security start(SecurityConfig config, Collection<String> routes, Security running) {
        return start(config, routes, ProxyClock.system(), running);
    }

    /** {@link #start(SecurityConfig, Collection, ProxyClock, Security)} with nothing to keep. */
    public static Security start(SecurityConfig config, Collection<String> routes, ProxyClock clock) {
        return start(config, routes, clock, null);
    }

    /**
     * As {@link #start(SecurityConfig, Collection, ProxyClock)} on two clocks given apart.
     *
     * @deprecated pass the engine's {@link ProxyClock}, so that one clock moves everything
     */
    @Deprecated
    public static Security start(SecurityConfig config, Collection<String> routes, Clock clock, LongSupplier nanoTime) {
        return start(config, routes, ProxyClock.of(clock, nanoTime), null);
    }

    /**
     * As {@link #start(SecurityConfig, Collection, ProxyClock, Security)} on two clocks given apart.
     *
     * @deprecated pass the engine's {@link ProxyClock}, so that one clock moves everything
     */
    @Deprecated
    public static Security start(
            SecurityConfig config, Collection<String> routes, Clock clock, LongSupplier nanoTime, Security running) {
        return start(config, routes, ProxyClock.of(clock, nanoTime), running);
    }

    /** {@link #start(SecurityConfig, Collection, ProxyClock, Security, SharedBuckets)} on this instance only. */
    public static Security start(SecurityConfig config, Collection<String> routes, ProxyClock clock, Security running) {
        return start(config, routes, clock, running, null);
    }

    /**
     * Builds the guards of {@code routes}, reading the users and JWKS files.
     *
     * @param clock   the engine's clock: its wall clock checks JWT {@code exp} and {@code nbf}, its ticker
     *                runs the token buckets and tables (of new ones: kept ones keep theirs, the same clock
     *                in an engine that has one)
     * @param running the security layer serving until now, whose unchanged limiters are kept; or null
     * @param shared  the cluster's token buckets, which the rate limits then ask first; {@code null} for this
     *                instance's only. Concurrency caps are per instance either way.
     * @throws ConfigException naming the key whose file is unreadable or malformed
     */
    public static Security start(
            SecurityConfig config,
            Collection<String> routes,
            ProxyClock clock,
            Security running,
            SharedBuckets shared) {
        Objects.requireNonNull(clock, "clock");
        ClientIdentity identity = new ClientIdentity(config.trustedProxies(), config.clientIpHeader());
        Map<String, RateLimiter> limiters = new HashMap<>();
        RateLimiter global = config.rateLimit() == null
                ? null
                : limiter("global", config.rateLimit(), config.rateLimitMaxKeys(), clock, running, shared, limiters);
        ConcurrencyLimiter concurrency = concurrency(config.maxConcurrentPerClient(), running);
        boolean globalActive = identity.trustsAny()
                || !config.allow().isEmpty()
                || !config.deny().isEmpty()
                || global != null
                || concurrency != null;
        Map<String, RouteGuard> guards = new HashMap<>();
        for (String route : routes) {
            RouteSecurityConfig own = config.route(route);
            if (!globalActive && own.equals(RouteSecurityConfig.NONE)) {
                continue;
            }
            RateLimiter routeLimit = own.rateLimit() == null
                    ? null
                    : limiter(
                            "route-" + route,
                            own.rateLimit(),
                            config.rateLimitMaxKeys(),
                            clock,
                            running,
                            shared,
                            limiters);
            guards.put(
                    route,
                    new RouteGuard(
                            identity,
                            new AccessRules(config.allow(), config.deny(), own.allow(), own.deny()),
                            own.exemptFromGlobalLimit() ? null : global,
                            routeLimit,
                            concurrency,
                            authenticator(route, own.auth(), clock),
                            RouteGuard.removedRequestHeaders(own)));
        }
        return new Security(guards, new ResponseHygiene(config), limiters, concurrency);
    }

    /** The running cap if it is unchanged (with its requests in flight), else a new one; null for none. */
    private static ConcurrencyLimiter concurrency(int max, Security running) {
        if (max == 0) {
            return null;
        }
        ConcurrencyLimiter kept = running == null ? null : running.concurrency;
        return kept != null && kept.max() == max ? kept : new ConcurrencyLimiter(max);
    }

    /** The running limiter of that policy if it is unchanged, else a new one; recorded in {@code limiters}. */
    private static RateLimiter limiter(
            String name,
            RateLimitConfig config,
            int maxKeys,
            ProxyClock clock,
            Security running,
            SharedBuckets shared,
            Map<String, RateLimiter> limiters) {
        RateLimiter kept = running == null ? null : running.limiters.get(name);
        RateLimiter limiter = kept != null && kept.enforces(name, config, maxKeys, shared)
                ? kept
                : new RateLimiter(name, config, maxKeys, clock, shared);
        limiters.put(name, limiter);
        return limiter;
    }

    private static Authenticator authenticator(String route, AuthConfig auth, ProxyClock clock) {
        if (auth == null) {
            return null;
        }
        String prefix = "route." + route + ".auth.";
        return switch (auth.kind()) {
            case BASIC -> BasicAuthenticator.load(auth, prefix + "users-file", clock);
            case JWT -> JwtAuthenticator.load(auth, prefix + "jwks-file", clock);
        };
    }

    /** The guard of route {@code name}; {@link RouteGuard#NONE} when nothing applies to it. */
    public RouteGuard guard(String name) {
        return guards.getOrDefault(name, RouteGuard.NONE);
    }

    /** The rate limiters by policy name ({@code global}, {@code route-NAME}). */
    public Map<String, RateLimiter> rateLimiters() {
        return limiters;
    }

    /** What every response loses and gains. */
    public ResponseHygiene hygiene() {
        return hygiene;
    }
}
