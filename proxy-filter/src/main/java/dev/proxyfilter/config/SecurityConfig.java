package dev.proxyfilter.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Client identity, access rules, rate limits and response hygiene: the {@code security.*} keys, plus the
 * security keys of each route ({@code route.NAME.allow}, {@code .deny}, {@code .rate-limit*},
 * {@code .auth*}) by route name.
 *
 * @param trustedProxies         peers whose {@code X-Forwarded-For} (or {@code Forwarded}) is believed;
 *                               empty: none, the peer is the client
 * @param clientIpHeader         which of the two headers a trusted peer maintains
 * @param allow                  when not empty, the client IP must be in one of these blocks (403)
 * @param deny                   a client IP in one of these blocks gets 403, whatever the allow lists say
 * @param rateLimit              a token bucket per key for every route; {@code null} for none
 * @param rateLimitMaxKeys       the most keys (buckets) each rate limit keeps; the least recently used go
 * @param maxConcurrentPerClient most requests in flight per client IP, 0 for no limit (429 past it)
 * @param stripResponseHeaders   backend response headers removed on top of {@code Server} and
 *                               {@code X-Powered-By}, in lower case
 * @param responseHeaders        headers set on every response, proxied or the proxy's own, in
 *                               configuration order, replacing any the backend sent
 * @param hsts                   the {@code Strict-Transport-Security} value for https clients, or
 *                               {@code null} for none
 * @param routes                 each route's own settings, by route name; a route not in it has none
 * @param stripRequestHeaders    request headers removed before forwarding when the peer is not a trusted
 *                               proxy, in lower case: headers that often change what an application renders
 *                               but are not part of the cache key (cache poisoning); by default
 *                               {@link #DEFAULT_STRIP_REQUEST_HEADERS}
 */
public record SecurityConfig(
        List<Cidr> trustedProxies,
        ClientIpHeader clientIpHeader,
        List<Cidr> allow,
        List<Cidr> deny,
        RateLimitConfig rateLimit,
        int rateLimitMaxKeys,
        int maxConcurrentPerClient,
        List<String> stripResponseHeaders,
        Map<String, String> responseHeaders,
        String hsts,
        Map<String, RouteSecurityConfig> routes,
        List<String> stripRequestHeaders) {
    /**
     * Default {@code security.strip-request-headers}: request headers that frameworks and applications read to
     * build URLs, pick a method or route, and that no cache keys on. {@code X-Forwarded-Host},
     * {@code X-Forwarded-Proto} and {@code X-Forwarded-Port} are not here: this hop always replaces them.
     */
    public static final List<String> DEFAULT_STRIP_REQUEST_HEADERS = List.of(
            "x-forwarded-scheme",
            "x-forwarded-prefix",
            "x-forwarded-server",
            "x-original-url",
            "x-rewrite-url",
            "x-http-method-override",
            "x-http-method",
            "x-method-override",
            "x-host");

    /** Default {@code security.rate-limit-max-keys}. */
    public static final int DEFAULT_RATE_LIMIT_MAX_KEYS = 100_000;

    /** Nothing configured: no proxy trusted, no rule, no limit, only the default response hygiene. */
    public static final SecurityConfig NONE = new SecurityConfig(
            List.of(),
            ClientIpHeader.X_FORWARDED_FOR,
            List.of(),
            List.of(),
            null,
            DEFAULT_RATE_LIMIT_MAX_KEYS,
            0,
            List.of(),
            Map.of(),
            null,
            Map.of(),
            DEFAULT_STRIP_REQUEST_HEADERS);

    /** The header that carries the chain of client addresses from a trusted proxy. */
    public enum ClientIpHeader {
        /** {@code X-Forwarded-For: client, proxy1, proxy2}. */
        X_FORWARDED_FOR("x-forwarded-for", "X-Forwarded-For"),
        /** RFC 7239 {@code Forwarded: for=client, for=proxy1}. */
        FORWARDED("forwarded", "Forwarded");

        private final String configName;
        private final String headerName;

        ClientIpHeader(String configName, String headerName) {
            this.configName = configName;
            this.headerName = headerName;
        }

        /** The value of {@code security.client-ip-header}. */
        public String configName() {
            return configName;
        }

        /** The header's name. */
        public String headerName() {
            return headerName;
        }
    }

    public SecurityConfig {
        trustedProxies = List.copyOf(trustedProxies);
        Objects.requireNonNull(clientIpHeader, "clientIpHeader");
        allow = List.copyOf(allow);
        deny = List.copyOf(deny);
        if (rateLimitMaxKeys < 1 || maxConcurrentPerClient < 0) {
            throw new IllegalArgumentException("rateLimitMaxKeys >= 1 and maxConcurrentPerClient >= 0 expected");
        }
        stripResponseHeaders = List.copyOf(stripResponseHeaders);
        responseHeaders = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(responseHeaders));
        routes = Map.copyOf(routes);
        stripRequestHeaders = List.copyOf(stripRequestHeaders);
    }

    /** As the canonical constructor, with the default {@link #stripRequestHeaders()}. */
    public SecurityConfig(
            List<Cidr> trustedProxies,
            ClientIpHeader clientIpHeader,
            List<Cidr> allow,
            List<Cidr> deny,
            RateLimitConfig rateLimit,
            int rateLimitMaxKeys,
            int maxConcurrentPerClient,
            List<String> stripResponseHeaders,
            Map<String, String> responseHeaders,
            String hsts,
            Map<String, RouteSecurityConfig> routes) {
        this(
                trustedProxies,
                clientIpHeader,
                allow,
                deny,
                rateLimit,
                rateLimitMaxKeys,
                maxConcurrentPerClient,
                stripResponseHeaders,
                responseHeaders,
                hsts,
                routes,
                DEFAULT_STRIP_REQUEST_HEADERS);
    }

    /** These settings with another {@link #stripRequestHeaders()}. */
    public SecurityConfig withStripRequestHeaders(List<String> names) {
        return new SecurityConfig(
                trustedProxies,
                clientIpHeader,
                allow,
                deny,
                rateLimit,
                rateLimitMaxKeys,
                maxConcurrentPerClient,
                stripResponseHeaders,
                responseHeaders,
                hsts,
                routes,
                names);
    }

    /** The settings of route {@code name}, {@link RouteSecurityConfig#NONE} if it has none. */
    public RouteSecurityConfig route(String name) {
        return routes.getOrDefault(name, RouteSecurityConfig.NONE);
    }
}
