package dev.proxyfilter.config;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The key grammar: every key {@link ConfigLoader} knows, as a template where {@code NAME} stands for a
 * user-chosen pool, backend, route or demo backend name. Anything that matches no template is unknown.
 */
enum ConfigKey {
    SERVER_HOST("server.host"),
    SERVER_PORT("server.port"),
    SERVER_MAX_HEADER_BYTES("server.max-header-bytes"),
    SERVER_MAX_URI_BYTES("server.max-uri-bytes"),
    SERVER_HEADER_TIMEOUT("server.header-timeout"),
    SERVER_IDLE_TIMEOUT("server.idle-timeout"),
    SERVER_SHUTDOWN_TIMEOUT("server.shutdown-timeout"),
    SERVER_TLS_KEYSTORE("server.tls.keystore"),
    SERVER_TLS_KEYSTORE_PASSWORD("server.tls.keystore-password"),
    SERVER_TLS_REDIRECT_PORT("server.tls.redirect-port"),
    PROXY_VIA("proxy.via"),
    PROXY_CONNECT_TIMEOUT("proxy.connect-timeout"),
    PROXY_IDLE_TIMEOUT("proxy.idle-timeout"),
    PROXY_TIMEOUT("proxy.timeout"),
    PROXY_RETRIES("proxy.retries"),
    PROXY_PER_TRY_TIMEOUT("proxy.per-try-timeout"),
    PROXY_RETRY_ON("proxy.retry-on"),
    PROXY_RETRY_BUDGET("proxy.retry-budget"),
    PROXY_MAX_HEADER_COUNT("proxy.max-header-count"),
    PROXY_MAX_BODY_BYTES("proxy.max-body-bytes"),
    PROXY_BODY_TIMEOUT("proxy.body-timeout"),
    PROXY_TLS_TRUSTSTORE("proxy.tls.truststore"),
    PROXY_TLS_TRUSTSTORE_PASSWORD("proxy.tls.truststore-password"),
    PROXY_TLS_VERIFY_HOSTNAME("proxy.tls.verify-hostname"),
    POOL_STRATEGY("pool.NAME.strategy"),
    POOL_HASH_KEY("pool.NAME.hash-key"),
    POOL_STICKY("pool.NAME.sticky"),
    POOL_MAX_PENDING("pool.NAME.max-pending"),
    POOL_QUEUE_TIMEOUT("pool.NAME.queue-timeout"),
    BACKEND_URL("pool.NAME.backend.NAME.url"),
    BACKEND_WEIGHT("pool.NAME.backend.NAME.weight"),
    BACKEND_MAX_CONNECTIONS("pool.NAME.backend.NAME.max-connections"),
    // Health: active checks, outlier ejection, panic mode, slow start, backups.
    POOL_HEALTH_PATH("pool.NAME.health.path"),
    POOL_HEALTH_INTERVAL("pool.NAME.health.interval"),
    POOL_HEALTH_TIMEOUT("pool.NAME.health.timeout"),
    POOL_HEALTH_EXPECTED_STATUS("pool.NAME.health.expected-status"),
    POOL_HEALTH_RISE("pool.NAME.health.rise"),
    POOL_HEALTH_FALL("pool.NAME.health.fall"),
    POOL_OUTLIER_CONSECUTIVE_FAILURES("pool.NAME.outlier.consecutive-failures"),
    POOL_OUTLIER_BASE_EJECTION_TIME("pool.NAME.outlier.base-ejection-time"),
    POOL_OUTLIER_MAX_EJECTION_PERCENT("pool.NAME.outlier.max-ejection-percent"),
    POOL_PANIC_THRESHOLD("pool.NAME.panic-threshold"),
    POOL_SLOW_START("pool.NAME.slow-start"),
    BACKEND_BACKUP("pool.NAME.backend.NAME.backup"),
    ROUTE_PATH("route.NAME.path"),
    ROUTE_HOST("route.NAME.host"),
    ROUTE_POOL("route.NAME.pool"),
    ROUTE_STRIP_PREFIX("route.NAME.strip-prefix"),
    ROUTE_PRESERVE_HOST("route.NAME.preserve-host"),
    ROUTE_CONNECT_TIMEOUT("route.NAME.connect-timeout"),
    ROUTE_IDLE_TIMEOUT("route.NAME.idle-timeout"),
    ROUTE_TIMEOUT("route.NAME.timeout"),
    ROUTE_RETRIES("route.NAME.retries"),
    ROUTE_PER_TRY_TIMEOUT("route.NAME.per-try-timeout"),
    ROUTE_RETRY_ON("route.NAME.retry-on"),
    ROUTE_MAX_BODY_BYTES("route.NAME.max-body-bytes"),
    ROUTE_CACHE("route.NAME.cache"),
    CACHE_ENABLED("cache.enabled"),
    CACHE_HEAP_ENTRIES("cache.heap-entries"),
    CACHE_OFF_HEAP_MB("cache.off-heap-mb"),
    CACHE_DISK_MB("cache.disk-mb"),
    CACHE_DISK_PATH("cache.disk-path"),
    CACHE_DISK_PERSISTENT("cache.disk-persistent"),
    CACHE_MAX_ENTRY_BYTES("cache.max-entry-bytes"),
    CACHE_EHCACHE_XML("cache.ehcache-xml"),
    CACHE_COALESCE_TIMEOUT("cache.coalesce-timeout"),
    CACHE_HEURISTIC_MAX("cache.heuristic-max"),
    DEMO_PORT("demo.backend.NAME.port"),
    ADMIN_HOST("admin.host"),
    ADMIN_PORT("admin.port"),
    ADMIN_TOKEN("admin.token"),
    LOG_ACCESS("log.access"),
    RELOAD_WATCH("reload.watch"),
    RELOAD_DEBOUNCE("reload.debounce"),
    SECURITY_TRUSTED_PROXIES("security.trusted-proxies"),
    SECURITY_CLIENT_IP_HEADER("security.client-ip-header"),
    SECURITY_ALLOW("security.allow"),
    SECURITY_DENY("security.deny"),
    SECURITY_RATE_LIMIT("security.rate-limit"),
    SECURITY_RATE_LIMIT_BURST("security.rate-limit-burst"),
    SECURITY_RATE_LIMIT_KEY("security.rate-limit-key"),
    SECURITY_RATE_LIMIT_MAX_KEYS("security.rate-limit-max-keys"),
    SECURITY_MAX_CONCURRENT_PER_CLIENT("security.max-concurrent-per-client"),
    SECURITY_STRIP_RESPONSE_HEADERS("security.strip-response-headers"),
    SECURITY_RESPONSE_HEADER("security.response-headers.NAME"),
    SECURITY_HSTS("security.hsts"),
    ROUTE_ALLOW("route.NAME.allow"),
    ROUTE_DENY("route.NAME.deny"),
    ROUTE_RATE_LIMIT("route.NAME.rate-limit"),
    ROUTE_RATE_LIMIT_BURST("route.NAME.rate-limit-burst"),
    ROUTE_RATE_LIMIT_KEY("route.NAME.rate-limit-key"),
    ROUTE_AUTH("route.NAME.auth"),
    ROUTE_AUTH_REALM("route.NAME.auth.realm"),
    ROUTE_AUTH_USERS_FILE("route.NAME.auth.users-file"),
    ROUTE_AUTH_JWKS_FILE("route.NAME.auth.jwks-file"),
    ROUTE_AUTH_ISSUER("route.NAME.auth.issuer"),
    ROUTE_AUTH_AUDIENCE("route.NAME.auth.audience"),
    ROUTE_AUTH_CLAIMS_TO_HEADERS("route.NAME.auth.claims-to-headers"),
    ROUTE_AUTH_KEEP_AUTHORIZATION("route.NAME.auth.keep-authorization");

    /** What a pool, backend, route or demo backend name (or a header in security.response-headers.NAME) may contain. */
    static final Pattern NAME_PATTERN = Pattern.compile("[A-Za-z0-9_-]+");

    private static final String NAME = "NAME";
    // The suggestion only needs the start of a key; this bounds its cost for absurd keys.
    private static final int MAX_SUGGEST_SEGMENTS = 12;
    private static final int MAX_SUGGEST_SEGMENT_LENGTH = 32;

    private final String template;
    private final String[] segments;

    ConfigKey(String template) {
        this.template = template;
        this.segments = template.split("\\.");
    }

    /** The documented form, e.g. {@code pool.NAME.backend.NAME.weight}. */
    String template() {
        return template;
    }

    /** A key split at its dots, keeping empty segments so that {@code route..path} has an empty name. */
    static List<String> segments(String key) {
        return Arrays.asList(key.split("\\.", -1));
    }

    /** The template with this shape, or {@code null}. Names are not checked here, only positions. */
    static ConfigKey match(List<String> segments) {
        for (ConfigKey key : values()) {
            if (key.matches(segments)) {
                return key;
            }
        }
        return null;
    }

    private boolean matches(List<String> keySegments) {
        if (keySegments.size() != segments.length) {
            return false;
        }
        for (int i = 0; i < segments.length; i++) {
            if (!segments[i].equals(NAME) && !segments[i].equals(keySegments.get(i))) {
                return false;
            }
        }
        return true;
    }

    /** The segments at the {@code NAME} positions of a matching key, outermost first. */
    List<String> names(List<String> keySegments) {
        List<String> names = new ArrayList<>(2);
        for (int i = 0; i < segments.length; i++) {
            if (segments[i].equals(NAME)) {
                names.add(keySegments.get(i));
            }
        }
        return names;
    }

    /** What the {@code index}-th name names: the segment in front of it, e.g. {@code pool} or {@code backend}. */
    String nameKind(int index) {
        int seen = 0;
        for (int i = 0; i < segments.length; i++) {
            if (segments[i].equals(NAME) && seen++ == index) {
                return segments[i - 1];
            }
        }
        throw new IndexOutOfBoundsException(index);
    }

    /**
     * The known key closest to an unknown one, for the hint in its error message. Keys are compared
     * segment by segment (an edit distance over segments, where a valid name costs nothing against
     * {@code NAME}), so {@code pool.web.backend.a.wieght} suggests {@code pool.NAME.backend.NAME.weight}.
     */
    static String suggest(String unknownKey) {
        List<String> keySegments = new ArrayList<>();
        for (String segment : segments(unknownKey)) {
            if (keySegments.size() == MAX_SUGGEST_SEGMENTS) {
                break;
            }
            keySegments.add(
                    segment.length() > MAX_SUGGEST_SEGMENT_LENGTH
                            ? segment.substring(0, MAX_SUGGEST_SEGMENT_LENGTH)
                            : segment);
        }
        ConfigKey best = values()[0];
        int bestCost = Integer.MAX_VALUE;
        for (ConfigKey key : values()) {
            int cost = key.distance(keySegments);
            if (cost < bestCost) {
                best = key;
                bestCost = cost;
            }
        }
        return best.template;
    }

    private int distance(List<String> keySegments) {
        int n = keySegments.size();
        int m = segments.length;
        int[][] d = new int[n + 1][m + 1];
        for (int i = 1; i <= n; i++) {
            d[i][0] = d[i - 1][0] + indelCost(keySegments.get(i - 1));
        }
        for (int j = 1; j <= m; j++) {
            d[0][j] = d[0][j - 1] + indelCost(segments[j - 1]);
        }
        for (int i = 1; i <= n; i++) {
            for (int j = 1; j <= m; j++) {
                d[i][j] = Math.min(
                        Math.min(
                                d[i - 1][j] + indelCost(keySegments.get(i - 1)),
                                d[i][j - 1] + indelCost(segments[j - 1])),
                        d[i - 1][j - 1] + substitutionCost(keySegments.get(i - 1), segments[j - 1]));
            }
        }
        return d[n][m];
    }

    // A missing or extra segment costs about half its length: forgetting "backend." in
    // pool.web.a.url is a smaller mistake than a wholly different key.
    private static int indelCost(String segment) {
        return segment.equals(NAME) ? 1 : Math.max(1, (segment.length() + 1) / 2);
    }

    private static int substitutionCost(String keySegment, String templateSegment) {
        if (templateSegment.equals(NAME)) {
            return NAME_PATTERN.matcher(keySegment).matches() ? 0 : 1;
        }
        return levenshtein(keySegment, templateSegment);
    }

    private static int levenshtein(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
