package dev.proxyfilter.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parsers for the value types of {@link ConfigLoader}'s keys. Each either returns a valid value or
 * throws {@link ConfigException} naming the setting; none lets a {@link NumberFormatException} or
 * {@link IllegalArgumentException} escape.
 */
final class ConfigValues {
    static final String URL = "absolute http(s) URL";
    static final String URL_NO_PATH = "absolute http(s) URL without path, query or fragment, e.g. http://10.0.0.1:8080";
    static final String URL_NO_USER_INFO = "absolute http(s) URL without user info";
    static final String URL_PORT = "absolute http(s) URL with port 1..65535";
    static final String WEIGHT = "integer >= 0";
    static final String WEIGHT_RANGE = "integer 0.." + Integer.MAX_VALUE;
    static final String LISTEN_PORT = "integer 0..65535";
    static final String DEMO_PORT = "integer 1..65535";
    static final String BOOLEAN = "true|false";
    static final String POSITIVE_DURATION = "duration > 0 such as 500ms, 5s, 2m or 1h";
    static final String DURATION = "duration such as 500ms, 5s, 2m or 1h, or 0 for none";
    static final String DURATION_RANGE = "duration of at most " + Long.MAX_VALUE + "ms";
    static final String PATH = "path starting with /";
    static final String PATH_CHARS = "path without whitespace, ? or #";
    static final String ROUTE_HOST = "host name without scheme, port or path, e.g. example.com, or empty for any";
    static final String LISTEN_HOST = "host name or IP address, e.g. 0.0.0.0";
    static final String TOKEN = "token of letters, digits and !#$%&'*+-.^_`|~";
    static final String HASH_KEY = "client-ip|path|header:NAME|cookie:NAME with NAME a " + TOKEN;
    static final String STICKY = "cookie:NAME with NAME a " + TOKEN;
    // Health: checks, outlier ejection, panic, slow start, backups.
    static final String HEALTH_PATH = "path starting with / in URI characters, optionally with a query, e.g. /health";
    static final String STATUS_RANGE = "status 100..599 or a range of them such as 200-399";
    static final String COUNT = "integer >= 1";
    static final String COUNT_OR_ZERO = "integer >= 0, 0 for off";

    // Up to 9 digits always fits an int and 18 a long, so parsing can never overflow.
    private static final Pattern INT = Pattern.compile("[0-9]{1,9}");
    private static final Pattern DIGITS = Pattern.compile("[0-9]+");
    private static final Pattern DURATION_PATTERN = Pattern.compile("([0-9]{1,18})(ms|s|m|h)");
    private static final Pattern TOKEN_PATTERN = Pattern.compile("[A-Za-z0-9!#$%&'*+.^_`|~-]+");
    private static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9._-]+|\\[[0-9A-Fa-f:.]+]");
    private static final Pattern LISTEN_HOST_PATTERN = Pattern.compile("[A-Za-z0-9._%:-]+|\\[[0-9A-Fa-f:.%A-Za-z]+]");
    private static final Pattern HEALTH_PATH_PATTERN =
            Pattern.compile("/(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*");
    private static final Pattern STATUS_RANGE_PATTERN = Pattern.compile("([0-9]{3})(?:-([0-9]{3}))?");
    private static final Pattern PATH_FORBIDDEN = Pattern.compile("[\\s\\p{Cntrl}?#]");

    private ConfigValues() {}

    /** A port for the standalone listener: 0 (ephemeral) to 65535. */
    static int listenPort(Setting setting) {
        return intInRange(setting, 0, 65535, LISTEN_PORT);
    }

    /** A port for a demo backend: 1 to 65535. */
    static int demoPort(Setting setting) {
        return intInRange(setting, 1, 65535, DEMO_PORT);
    }

    /** A backend weight: 0 (no new traffic) to {@link Integer#MAX_VALUE}. */
    static int weight(Setting setting) {
        String value = setting.value();
        if (DIGITS.matcher(value).matches() && !INT.matcher(value).matches()) {
            // Too big for an int: say so, rather than repeat ">= 0" to someone who typed a positive number.
            throw setting.invalid(WEIGHT_RANGE);
        }
        return intInRange(setting, 0, Integer.MAX_VALUE, WEIGHT);
    }

    static final String HEADER_BYTES = "integer 1024..1048576 (bytes)";
    static final String HEADER_COUNT = "integer 1..10000";
    static final String BODY_BYTES = "integer >= 0 (bytes, 0 for no limit)";
    static final String REDIRECT_PORT = "integer 0..65535 other than server.port, or empty for none";
    static final String FILE = "path of a readable PKCS12 file";
    static final String PASSWORD = "a password";
    private static final Pattern LONG = Pattern.compile("[0-9]{1,18}");

    /** Bytes of a request head or target: 1 KiB to 1 MiB. */
    static int headerBytes(Setting setting) {
        return intInRange(setting, 1024, 1024 * 1024, HEADER_BYTES);
    }

    static int headerCount(Setting setting) {
        return intInRange(setting, 1, 10_000, HEADER_COUNT);
    }

    /** A body size in bytes, 0 for no limit. */
    static long bodyBytes(Setting setting) {
        if (!LONG.matcher(setting.value()).matches()) {
            throw setting.invalid(BODY_BYTES);
        }
        return Long.parseLong(setting.value());
    }

    /** The plain HTTP port that redirects to HTTPS, or -1 when empty. */
    static int redirectPort(Setting setting) {
        if (setting.value().isEmpty()) {
            return -1;
        }
        return intInRange(setting, 0, 65535, REDIRECT_PORT);
    }

    /** A key or trust store file: it must exist when the configuration is loaded. */
    static String storeFile(Setting setting) {
        String value = setting.value();
        java.nio.file.Path file;
        try {
            file = java.nio.file.Path.of(value);
        } catch (java.nio.file.InvalidPathException e) {
            throw setting.invalid(FILE);
        }
        if (value.isEmpty() || !java.nio.file.Files.isRegularFile(file) || !java.nio.file.Files.isReadable(file)) {
            throw setting.invalid(FILE);
        }
        return value;
    }

    static final String MAX_CONNECTIONS = "integer 0..1000000 (0 for no limit)";
    static final String MAX_PENDING = "integer 0..1000000";
    static final String MAX_TUNNELS = "integer 0..1000000 (0 for no limit)";
    static final String H2_LIMIT = "integer 1..10000";
    static final String RETRIES = "integer 0..10";
    static final String PERCENT = "integer 0..100";

    static int maxConnections(Setting setting) {
        return intInRange(setting, 0, 1_000_000, MAX_CONNECTIONS);
    }

    static int maxTunnels(Setting setting) {
        return intInRange(setting, 0, 1_000_000, MAX_TUNNELS);
    }

    static int h2Limit(Setting setting) {
        return intInRange(setting, 1, 10_000, H2_LIMIT);
    }

    static int maxPending(Setting setting) {
        return intInRange(setting, 0, 1_000_000, MAX_PENDING);
    }

    static int retries(Setting setting) {
        return intInRange(setting, 0, 10, RETRIES);
    }

    static int percent(Setting setting) {
        return intInRange(setting, 0, 100, PERCENT);
    }

    static final String RETRY_ON = "none, or a comma-separated list of: "
            + String.join(
                    ", ",
                    java.util.Arrays.stream(RetryConfig.RetryOn.values())
                            .map(RetryConfig.RetryOn::configName)
                            .toList());

    /** A comma-separated list of retry conditions, or {@code none}. */
    static java.util.Set<RetryConfig.RetryOn> retryOn(Setting setting) {
        String expected = RETRY_ON;
        java.util.Set<RetryConfig.RetryOn> on = java.util.EnumSet.noneOf(RetryConfig.RetryOn.class);
        if (setting.value().equalsIgnoreCase("none")) {
            return on;
        }
        for (String token : setting.value().split(",", -1)) {
            RetryConfig.RetryOn condition =
                    RetryConfig.RetryOn.fromConfigName(token.strip().toLowerCase(Locale.ROOT));
            if (condition == null) {
                throw setting.invalid(expected);
            }
            on.add(condition);
        }
        return on;
    }

    static final String ADMIN_PORT = "integer -1..65535 (-1 for no admin listener, 0 for any free port)";

    static final String ACCESS_LOG = "off|combined|json";
    static final String ACCESS_LOG_TO = "logger|stdout|stderr|an absolute file path";
    static final String ADMIN_TOKEN = "at least 16 visible ASCII characters";

    static int adminPort(Setting setting) {
        if (setting.value().equals("-1")) {
            return -1;
        }
        return intInRange(setting, 0, 65535, ADMIN_PORT);
    }

    static AccessLogFormat accessLog(Setting setting) {
        AccessLogFormat format = AccessLogFormat.fromConfigName(setting.value().toLowerCase(Locale.ROOT));
        if (format == null) {
            throw setting.invalid(ACCESS_LOG);
        }
        return format;
    }

    static AccessLogTarget accessLogTarget(Setting setting) {
        String value = setting.value();
        switch (value.toLowerCase(Locale.ROOT)) {
            case "logger":
                return AccessLogTarget.LOGGER;
            case "stdout":
                return AccessLogTarget.STDOUT;
            case "stderr":
                return AccessLogTarget.STDERR;
            default:
                try {
                    java.nio.file.Path file = java.nio.file.Path.of(value);
                    if (file.isAbsolute() && file.getFileName() != null) {
                        return AccessLogTarget.file(file.normalize());
                    }
                } catch (java.nio.file.InvalidPathException e) {
                    // reported below
                }
                throw setting.invalid(ACCESS_LOG_TO);
        }
    }

    /** A token of at least 16 visible ASCII characters. */
    static String adminToken(Setting setting) {
        String value = setting.value();
        if (value.length() < 16 || !value.chars().allMatch(c -> c > 32 && c < 127)) {
            throw setting.invalid("***", ADMIN_TOKEN);
        }
        return value;
    }

    private static int intInRange(Setting setting, int min, int max, String expected) {
        if (!INT.matcher(setting.value()).matches()) {
            throw setting.invalid(expected);
        }
        int value = Integer.parseInt(setting.value());
        if (value < min || value > max) {
            throw setting.invalid(expected);
        }
        return value;
    }

    /** Exactly {@code true} or {@code false}, in any case. */
    static boolean bool(Setting setting) {
        if (setting.value().equalsIgnoreCase("true")) {
            return true;
        }
        if (setting.value().equalsIgnoreCase("false")) {
            return false;
        }
        throw setting.invalid(BOOLEAN);
    }

    /** {@code <integer><unit>} with unit ms, s, m or h; plain {@code 0} only when {@code positive} is false. */
    static Duration duration(Setting setting, boolean positive) {
        String expected = positive ? POSITIVE_DURATION : DURATION;
        String value = setting.value();
        if (value.equals("0")) {
            if (positive) {
                throw setting.invalid(expected);
            }
            return Duration.ZERO;
        }
        Matcher matcher = DURATION_PATTERN.matcher(value);
        if (!matcher.matches()) {
            throw setting.invalid(expected);
        }
        long amount = Long.parseLong(matcher.group(1));
        long unitMillis = switch (matcher.group(2)) {
            case "ms" -> 1L;
            case "s" -> 1_000L;
            case "m" -> 60_000L;
            default -> 3_600_000L;
        };
        // Callers hand the limit to clients as milliseconds; reject what toMillis() could not return.
        if (amount > Long.MAX_VALUE / unitMillis) {
            throw setting.invalid(DURATION_RANGE);
        }
        Duration duration = Duration.ofMillis(amount * unitMillis);
        if (positive && duration.isZero()) {
            throw setting.invalid(expected);
        }
        return duration;
    }

    /** A pool's strategy by its configuration name, in any case. */
    static StrategyName strategy(Setting setting) {
        return StrategyName.fromConfigName(setting.value().toLowerCase(Locale.ROOT))
                .orElseThrow(() -> setting.invalid(StrategyName.configNames()));
    }

    /** {@code client-ip}, {@code path}, {@code header:NAME} or {@code cookie:NAME}; the source in any case. */
    static HashKey hashKey(Setting setting) {
        String value = setting.value();
        int colon = value.indexOf(':');
        String source = (colon < 0 ? value : value.substring(0, colon)).toLowerCase(Locale.ROOT);
        String name = colon < 0 ? null : value.substring(colon + 1);
        for (HashKey.Source candidate : HashKey.Source.values()) {
            if (candidate.configName().equals(source)
                    && candidate.named() == (name != null)
                    && (name == null || isToken(name))) {
                return new HashKey(candidate, name);
            }
        }
        throw setting.invalid(HASH_KEY);
    }

    /** {@code cookie:NAME}, {@code cookie} in any case. */
    static StickyConfig sticky(Setting setting) {
        String value = setting.value();
        int colon = value.indexOf(':');
        if (colon < 0
                || !value.substring(0, colon).equalsIgnoreCase("cookie")
                || !isToken(value.substring(colon + 1))) {
            throw setting.invalid(STICKY);
        }
        return new StickyConfig(value.substring(colon + 1));
    }

    /** Whether {@code text} is an HTTP token (RFC 9110 section 5.6.2), as header and cookie names are. */
    static boolean isToken(String text) {
        return TOKEN_PATTERN.matcher(text).matches();
    }

    /**
     * A backend address: absolute http or https URL with a host, an optional port, and nothing after
     * the authority but an optional "/". Returned as {@code scheme://host[:port]}, scheme and host in
     * lower case, without the slash, so that the forwarder can append the request path as it is.
     */
    static URI backendUrl(Setting setting) {
        URI uri;
        try {
            uri = new URI(setting.value());
        } catch (URISyntaxException e) {
            throw setting.invalid(URL);
        }
        String scheme = uri.getScheme();
        if (scheme == null
                || uri.isOpaque()
                || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))) {
            throw setting.invalid(URL);
        }
        // A null host also covers authorities java.net.URI cannot parse as host[:port],
        // such as a port beyond int range or an underscore in the host name.
        if (uri.getHost() == null) {
            throw setting.invalid(URL);
        }
        if (uri.getRawUserInfo() != null) {
            // Error messages end up in logs: do not copy a password there.
            throw setting.invalid(setting.value().replace(uri.getRawUserInfo() + "@", "***@"), URL_NO_USER_INFO);
        }
        String path = uri.getRawPath();
        if (!(path == null || path.isEmpty() || path.equals("/"))
                || uri.getRawQuery() != null
                || uri.getRawFragment() != null) {
            throw setting.invalid(URL_NO_PATH);
        }
        int port = uri.getPort();
        if (port == 0 || port > 65535) {
            throw setting.invalid(URL_PORT);
        }
        String normalised = scheme.toLowerCase(Locale.ROOT) + "://"
                + uri.getHost().toLowerCase(Locale.ROOT) + (port == -1 ? "" : ":" + port);
        try {
            return new URI(normalised);
        } catch (URISyntaxException e) {
            // Rebuilt from parts java.net.URI has just accepted; kept as a ConfigException all the same.
            throw setting.invalid(URL);
        }
    }

    /** A route path prefix: starts with "/", no whitespace, query or fragment. */
    static String path(Setting setting) {
        String value = setting.value();
        if (!value.startsWith("/")) {
            throw setting.invalid(PATH);
        }
        if (PATH_FORBIDDEN.matcher(value).find()) {
            throw setting.invalid(PATH_CHARS);
        }
        return value;
    }

    /** A route's Host to match, in lower case, or {@code null} for any host when empty. */
    static String routeHost(Setting setting) {
        String value = setting.value();
        if (value.isEmpty()) {
            return null;
        }
        if (!HOST_NAME.matcher(value).matches()) {
            throw setting.invalid(ROUTE_HOST);
        }
        return value.toLowerCase(Locale.ROOT);
    }

    /** The interface the standalone proxy binds: a host name or an IPv4 or IPv6 address. */
    static String listenHost(Setting setting) {
        if (!LISTEN_HOST_PATTERN.matcher(setting.value()).matches()) {
            throw setting.invalid(LISTEN_HOST);
        }
        return setting.value();
    }

    /** An HTTP token (RFC 9110 section 5.6.2), as the pseudonym in {@code Via} must be. */
    static String token(Setting setting) {
        if (!isToken(setting.value())) {
            throw setting.invalid(TOKEN);
        }
        return setting.value();
    }

    // ---- Health: checks, outlier ejection, panic, slow start ----

    /** A health check path: "/" then URI characters, a query allowed, no fragment. */
    static String healthPath(Setting setting) {
        if (!HEALTH_PATH_PATTERN.matcher(setting.value()).matches()) {
            throw setting.invalid(HEALTH_PATH);
        }
        return setting.value();
    }

    /** {@code 200-399} or {@code 204}: statuses 100..599, the first not above the second. */
    static ActiveCheckConfig.StatusRange statusRange(Setting setting) {
        Matcher matcher = STATUS_RANGE_PATTERN.matcher(setting.value());
        if (!matcher.matches()) {
            throw setting.invalid(STATUS_RANGE);
        }
        int min = Integer.parseInt(matcher.group(1));
        int max = matcher.group(2) == null ? min : Integer.parseInt(matcher.group(2));
        if (min < 100 || max > 599 || min > max) {
            throw setting.invalid(STATUS_RANGE);
        }
        return new ActiveCheckConfig.StatusRange(min, max);
    }

    /** A count of checks or failures: 1 or more. */
    static int count(Setting setting) {
        return intInRange(setting, 1, Integer.MAX_VALUE, COUNT);
    }

    /** A count where 0 turns the feature off. */
    static int countOrZero(Setting setting) {
        return intInRange(setting, 0, Integer.MAX_VALUE, COUNT_OR_ZERO);
    }

    // ---- security.* and the security keys of routes ----

    static final String CIDRS = "comma-separated IPv4 or IPv6 addresses or CIDR blocks without bits set after the "
            + "prefix, e.g. 10.0.0.0/8, 192.0.2.7, 2001:db8::/32; empty for none";
    static final String RATE = "tokens per period: N/s, N/m, N/h or N/DURATION such as 100/s or 5/10s, N 1..1000000000";
    static final String ROUTE_RATE = RATE + ", or none to take nothing from security.rate-limit";
    static final String BURST = "integer 1..1000000000";
    static final String RATE_LIMIT_KEY = "client-ip|header:NAME with NAME a " + TOKEN;
    static final String MAX_KEYS = "integer 1..10000000";
    static final String MAX_CONCURRENT = "integer 0..1000000 (0 for no limit)";
    static final String HEADER_NAMES = "comma-separated header names, each a " + TOKEN;
    static final String HEADER_NAME = "a header field name, a " + TOKEN + ", other than Cache-Control and Expires";
    static final String HEADER_VALUE = "a header value of visible ASCII characters and spaces";
    static final String RESPONSE_HEADER_NAME = "a header the proxy may set: not hop-by-hop, framing or " + "Set-Cookie";
    static final String HSTS = "max-age=SECONDS with optional ; includeSubDomains and ; preload";
    static final String CLIENT_IP_HEADER = "x-forwarded-for|forwarded";
    static final String AUTH = "none|basic|jwt";
    static final String REALM = "1..100 visible ASCII characters or spaces, without \" or \\";
    static final String READABLE_FILE = "path of a readable file";
    static final String CLAIMS_TO_HEADERS = "comma-separated claim:Header pairs, e.g. sub:X-User,email:X-Email, "
            + "each header a " + TOKEN + " that the proxy does not manage itself (Host, Authorization, "
            + "Forwarded, X-Forwarded-*, Via, hop-by-hop and framing headers)";
    static final String TEXT = "non-empty text without control characters";

    private static final Pattern RATE_PATTERN = Pattern.compile("([0-9]{1,10})/(s|m|h|[0-9]{1,18}(?:ms|s|m|h))");
    private static final Pattern HEADER_VALUE_PATTERN = Pattern.compile("[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?");
    private static final Pattern HSTS_PATTERN = Pattern.compile(
            "max-age=[0-9]{1,10}(\\s*;\\s*includeSubDomains)?(\\s*;\\s*preload)?", Pattern.CASE_INSENSITIVE);
    private static final Pattern REALM_PATTERN = Pattern.compile("[\\x20-\\x21\\x23-\\x5b\\x5d-\\x7e]{1,100}");
    private static final Pattern CONTROL = Pattern.compile("[\\p{Cntrl}]");
    /** Headers the proxy manages on the way out; configuration may not set them. */
    private static final java.util.Set<String> FRAMING_AND_HOP = java.util.Set.of(
            "connection",
            "keep-alive",
            "proxy-connection",
            "transfer-encoding",
            "te",
            "trailer",
            "upgrade",
            "content-length",
            "content-encoding",
            "content-type",
            "content-range",
            "expect");

    private static final java.util.Set<String> PROXY_REQUEST_HEADERS = java.util.Set.of(
            "host",
            "authorization",
            "proxy-authorization",
            "forwarded",
            "x-forwarded-for",
            "x-forwarded-proto",
            "x-forwarded-host",
            "x-forwarded-port",
            "via",
            "cookie");

    /** A comma-separated list of CIDR blocks; empty for none. */
    static java.util.List<Cidr> cidrs(Setting setting) {
        java.util.List<Cidr> blocks = new java.util.ArrayList<>();
        if (setting.value().isEmpty()) {
            return blocks;
        }
        for (String item : setting.value().split(",", -1)) {
            try {
                blocks.add(Cidr.parse(item.strip()));
            } catch (IllegalArgumentException e) {
                throw setting.invalid(CIDRS);
            }
        }
        return blocks;
    }

    /** {@code N/s}, {@code N/m}, {@code N/h} or {@code N/DURATION}; {@code none} (null) when {@code allowNone}. */
    static RateLimitConfig rate(Setting setting, boolean allowNone) {
        String expected = allowNone ? ROUTE_RATE : RATE;
        if (allowNone && setting.value().equalsIgnoreCase("none")) {
            return null;
        }
        Matcher matcher = RATE_PATTERN.matcher(setting.value());
        if (!matcher.matches()) {
            throw setting.invalid(expected);
        }
        long tokens = Long.parseLong(matcher.group(1));
        if (tokens < 1 || tokens > 1_000_000_000L) {
            throw setting.invalid(expected);
        }
        String unit = matcher.group(2);
        Duration period;
        try {
            period = switch (unit) {
                case "s" -> Duration.ofSeconds(1);
                case "m" -> Duration.ofMinutes(1);
                case "h" -> Duration.ofHours(1);
                default ->
                    duration(
                            new Setting(
                                    setting.key(), unit, setting.source(), setting.firstSource(), setting.firstIndex()),
                            true);
            };
        } catch (ConfigException e) {
            throw setting.invalid(expected);
        }
        if (period.toMillis() < 1 || period.compareTo(Duration.ofDays(366)) > 0) {
            throw setting.invalid(expected);
        }
        return new RateLimitConfig(tokens, period, tokens, HashKey.clientIp());
    }

    static long burst(Setting setting) {
        return intInRange(setting, 1, 1_000_000_000, BURST);
    }

    /** {@code client-ip} or {@code header:NAME}. */
    static HashKey rateLimitKey(Setting setting) {
        String value = setting.value();
        if (value.equalsIgnoreCase("client-ip")) {
            return HashKey.clientIp();
        }
        int colon = value.indexOf(':');
        if (colon > 0 && value.substring(0, colon).equalsIgnoreCase("header") && isToken(value.substring(colon + 1))) {
            return HashKey.header(value.substring(colon + 1));
        }
        throw setting.invalid(RATE_LIMIT_KEY);
    }

    static int maxKeys(Setting setting) {
        return intInRange(setting, 1, 10_000_000, MAX_KEYS);
    }

    static int maxConcurrent(Setting setting) {
        return intInRange(setting, 0, 1_000_000, MAX_CONCURRENT);
    }

    /** Comma-separated header names, returned in lower case; empty for none. */
    static java.util.List<String> headerNames(Setting setting) {
        java.util.List<String> names = new java.util.ArrayList<>();
        if (setting.value().isEmpty()) {
            return names;
        }
        for (String item : setting.value().split(",", -1)) {
            String name = item.strip();
            if (!isToken(name)) {
                throw setting.invalid(HEADER_NAMES);
            }
            names.add(name.toLowerCase(Locale.ROOT));
        }
        return names;
    }

    /** One header field name, as written; empty for none ({@code null}). */
    static String headerName(Setting setting) {
        String name = setting.value();
        if (name.isEmpty()) {
            return null;
        }
        if (!isToken(name) || name.equalsIgnoreCase("Cache-Control") || name.equalsIgnoreCase("Expires")) {
            throw setting.invalid(HEADER_NAME);
        }
        return name;
    }

    /** The value of {@code security.response-headers.NAME}; the name is checked too. */
    static String responseHeaderValue(Setting setting, String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        if (FRAMING_AND_HOP.contains(lower) || lower.equals("set-cookie")) {
            throw setting.invalid(RESPONSE_HEADER_NAME);
        }
        if (!HEADER_VALUE_PATTERN.matcher(setting.value()).matches()) {
            throw setting.invalid(HEADER_VALUE);
        }
        return setting.value();
    }

    /** A {@code Strict-Transport-Security} value; empty for none (null). */
    static String hsts(Setting setting) {
        if (setting.value().isEmpty()) {
            return null;
        }
        if (!HSTS_PATTERN.matcher(setting.value()).matches()) {
            throw setting.invalid(HSTS);
        }
        return setting.value();
    }

    static SecurityConfig.ClientIpHeader clientIpHeader(Setting setting) {
        for (SecurityConfig.ClientIpHeader header : SecurityConfig.ClientIpHeader.values()) {
            if (header.configName().equalsIgnoreCase(setting.value())) {
                return header;
            }
        }
        throw setting.invalid(CLIENT_IP_HEADER);
    }

    /** {@code none} (null), {@code basic} or {@code jwt}. */
    static AuthConfig.Kind auth(Setting setting) {
        if (setting.value().equalsIgnoreCase("none")) {
            return null;
        }
        for (AuthConfig.Kind kind : AuthConfig.Kind.values()) {
            if (kind.configName().equalsIgnoreCase(setting.value())) {
                return kind;
            }
        }
        throw setting.invalid(AUTH);
    }

    static String realm(Setting setting) {
        if (!REALM_PATTERN.matcher(setting.value()).matches()) {
            throw setting.invalid(REALM);
        }
        return setting.value();
    }

    /** A file that exists and can be read now; its content is checked when the engine starts. */
    static java.nio.file.Path readableFile(Setting setting) {
        java.nio.file.Path path;
        try {
            path = java.nio.file.Path.of(setting.value());
        } catch (java.nio.file.InvalidPathException e) {
            throw setting.invalid(READABLE_FILE);
        }
        if (setting.value().isEmpty()
                || !java.nio.file.Files.isRegularFile(path)
                || !java.nio.file.Files.isReadable(path)) {
            throw setting.invalid(READABLE_FILE);
        }
        return path;
    }

    /** Non-empty text without control characters, e.g. an issuer or an audience. */
    static String text(Setting setting) {
        if (setting.value().isEmpty() || CONTROL.matcher(setting.value()).find()) {
            throw setting.invalid(TEXT);
        }
        return setting.value();
    }

    /** {@code claim:Header,...}; the claim is everything before the last colon, so it may be a URI. */
    static java.util.Map<String, String> claimsToHeaders(Setting setting) {
        java.util.Map<String, String> claims = new java.util.LinkedHashMap<>();
        java.util.Set<String> headers = new java.util.HashSet<>();
        for (String item : setting.value().split(",", -1)) {
            String pair = item.strip();
            int colon = pair.lastIndexOf(':');
            if (colon <= 0) {
                throw setting.invalid(CLAIMS_TO_HEADERS);
            }
            String claim = pair.substring(0, colon).strip();
            String header = pair.substring(colon + 1).strip();
            String lower = header.toLowerCase(Locale.ROOT);
            if (claim.isEmpty()
                    || CONTROL.matcher(claim).find()
                    || !isToken(header)
                    || FRAMING_AND_HOP.contains(lower)
                    || PROXY_REQUEST_HEADERS.contains(lower)
                    || lower.startsWith("proxy-")
                    || claims.containsKey(claim)
                    || !headers.add(lower)) {
                throw setting.invalid(CLAIMS_TO_HEADERS);
            }
            claims.put(claim, header);
        }
        return claims;
    }
}
