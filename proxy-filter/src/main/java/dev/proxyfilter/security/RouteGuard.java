package dev.proxyfilter.security;

import dev.proxyfilter.config.RouteSecurityConfig;
import dev.proxyfilter.http.Header;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The security step of one route, in order:
 * <ol>
 *   <li><b>client identity</b>: the peer, or the right-most untrusted address of a trusted proxy's chain
 *       ({@link ClientIdentity});</li>
 *   <li><b>access</b>: global then route allow and deny lists, 403 ({@link AccessRules});</li>
 *   <li><b>rate limits</b>: the global bucket (unless the route is exempt), then the route's own, 429 with
 *       {@code Retry-After}, {@code RateLimit-Policy} and {@code RateLimit} ({@link RateLimiter}); a token
 *       taken from the global bucket is given back when the route's refuses;</li>
 *   <li><b>concurrency</b>: a slot per client IP, 429 with {@code Retry-After: 1}
 *       ({@link ConcurrencyLimiter});</li>
 *   <li><b>authentication</b>: 401 with {@code WWW-Authenticate} ({@link Authenticator}); the slot is
 *       given back.</li>
 * </ol>
 * Each refusal is cheap and comes before the expensive steps: a flood of bad passwords is rate limited
 * before bcrypt runs. {@link #NONE}, the guard of a route when nothing at all is configured, reads nothing
 * and allocates nothing.
 */
public final class RouteGuard {
    /** Nothing configured: {@link #admit} answers {@link Admission#NONE}. */
    public static final RouteGuard NONE = new RouteGuard();

    static final String FORBIDDEN = "Forbidden";
    static final String TOO_MANY = "Too Many Requests: rate limit exceeded";
    static final String TOO_MANY_IN_FLIGHT = "Too Many Requests: too many requests in flight from this client";
    static final String UNAUTHORIZED = "Unauthorized";

    private final ClientIdentity identity;
    private final AccessRules access;
    private final RateLimiter globalLimit;
    private final RateLimiter routeLimit;
    private final ConcurrencyLimiter concurrency;
    private final Authenticator authenticator;
    private final Set<String> removedRequestHeaders;

    private RouteGuard() {
        this(null, null, null, null, null, null, Set.of());
    }

    RouteGuard(
            ClientIdentity identity,
            AccessRules access,
            RateLimiter globalLimit,
            RateLimiter routeLimit,
            ConcurrencyLimiter concurrency,
            Authenticator authenticator,
            Set<String> removedRequestHeaders) {
        this.identity = identity;
        this.access = access == null || access.isEmpty() ? null : access;
        this.globalLimit = globalLimit;
        this.routeLimit = routeLimit;
        this.concurrency = concurrency;
        this.authenticator = authenticator;
        this.removedRequestHeaders = Set.copyOf(removedRequestHeaders);
    }

    /**
     * The request headers a route with these settings never forwards: {@code Authorization} on a route that
     * authenticates (unless it keeps it), and the headers that carry claims, so that a client cannot send
     * its own.
     */
    static Set<String> removedRequestHeaders(RouteSecurityConfig config) {
        if (config.auth() == null) {
            return Set.of();
        }
        java.util.HashSet<String> names = new java.util.HashSet<>();
        if (!config.auth().keepAuthorization()) {
            names.add("authorization");
        }
        for (String header : config.auth().claimsToHeaders().values()) {
            names.add(header.toLowerCase(Locale.ROOT));
        }
        return names;
    }

    /**
     * Whether {@link #admit} may wait on the cluster: a rate limit of this route asks the cluster's buckets
     * (bounded by their timeout), so the engine runs it off the thread that reads the network.
     */
    public boolean mayWait() {
        return (globalLimit != null && globalLimit.isShared()) || (routeLimit != null && routeLimit.isShared());
    }

    /** Whether this guard has nothing to check. */
    public boolean isOpen() {
        return this == NONE;
    }

    /** Runs the steps on {@code request}; the caller answers a refusal, or forwards and later releases. */
    public Admission admit(ClientRequest request) {
        if (this == NONE) {
            return Admission.NONE;
        }
        ClientIdentity.Resolved client = identity.resolve(request);
        String ip = client.ip();
        if (access != null && !access.permits(client.address())) {
            return Admission.refused(403, FORBIDDEN, List.of(), ip);
        }
        String globalKey = null;
        RateLimiter.Outcome globalToken = null;
        if (globalLimit != null) {
            globalKey = globalLimit.key(request, ip);
            globalToken = globalLimit.tryAcquire(globalKey);
            if (!globalToken.allowed()) {
                return tooMany(globalLimit, globalToken, ip);
            }
        }
        if (routeLimit != null) {
            RateLimiter.Outcome outcome = routeLimit.tryAcquire(routeLimit.key(request, ip));
            if (!outcome.allowed()) {
                if (globalKey != null) {
                    globalLimit.refund(globalKey, globalToken);
                }
                return tooMany(routeLimit, outcome, ip);
            }
        }
        if (concurrency != null && !concurrency.tryAcquire(ip)) {
            return Admission.refused(429, TOO_MANY_IN_FLIGHT, List.of(new Header("Retry-After", "1")), ip);
        }
        List<Header> upstream = List.of();
        if (authenticator != null) {
            Authenticator.Result result = authenticator.authenticate(request.header("Authorization"));
            if (!result.accepted()) {
                if (concurrency != null) {
                    concurrency.release(ip);
                }
                return Admission.refused(401, UNAUTHORIZED, List.of(result.challenge()), ip);
            }
            upstream = result.upstreamHeaders();
        }
        return Admission.admitted(ip, client.peerTrusted(), removedRequestHeaders, upstream, concurrency);
    }

    /**
     * 429 with {@code Retry-After}, and the draft's fields (draft-ietf-httpapi-ratelimit-headers-09/10):
     * {@code RateLimit-Policy: "name";q=BURST;w=SECONDS} and {@code RateLimit: "name";r=0;t=SECONDS}.
     */
    private static Admission tooMany(RateLimiter limiter, RateLimiter.Outcome outcome, String ip) {
        String seconds = Long.toString(outcome.retryAfterSeconds());
        String policy = limiter.policy();
        String name = policy.substring(0, policy.indexOf(';'));
        List<Header> headers = new ArrayList<>(3);
        headers.add(new Header("Retry-After", seconds));
        headers.add(new Header("RateLimit-Policy", policy));
        headers.add(new Header("RateLimit", name + ";r=" + outcome.remaining() + ";t=" + seconds));
        return Admission.refused(429, TOO_MANY, headers, ip);
    }
}
