package dev.proxyfilter.config;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * The one loader for every source: a properties file, {@code web.xml} init-params and
 * {@code -Dproxyfilter.*} system properties all become the same {@link ProxyConfig}.
 *
 * <h2>Keys</h2>
 * This table is the reference; {@code config/proxy.properties} is a commented sample of it.
 * {@code NAME} is a pool, backend, route or demo backend name of letters, digits, {@code _} and
 * {@code -}.
 *
 * <table>
 * <caption>Configuration keys</caption>
 * <tr><th>key</th><th>value</th><th>default</th></tr>
 * <tr><td>{@code server.host}</td><td>interface the standalone proxy listens on</td>
 *     <td>{@code 0.0.0.0}</td></tr>
 * <tr><td>{@code server.port}</td><td>port of the standalone proxy, 0..65535 (0 picks a free one)</td>
 *     <td>{@code 8080}</td></tr>
 * <tr><td>{@code server.max-header-bytes}</td><td>standalone: most bytes of request line plus headers, 1024..1048576;
 *     past it 431 (414 when the request line alone is too long)</td><td>{@code 16384}</td></tr>
 * <tr><td>{@code server.max-uri-bytes}</td><td>standalone: most bytes of the request target, 1024..1048576; past it
 *     414</td><td>{@code 8192}</td></tr>
 * <tr><td>{@code server.header-timeout}</td><td>standalone: time a client has to send a whole request head, then the
 *     connection is closed (slowloris); duration &gt; 0</td><td>{@code 10s}</td></tr>
 * <tr><td>{@code server.idle-timeout}</td><td>standalone: longest silence on a client connection, a stalled request
 *     body included; duration &gt; 0</td><td>{@code 30s}</td></tr>
 * <tr><td>{@code server.shutdown-timeout}</td><td>every adapter: on SIGTERM (standalone) or when the webapp or valve
 *     stops, the grace in-flight exchanges get to finish while new connections are refused; then the upstream
 *     pools and the cache close, cutting what is left; duration &gt;= 0 (0 cuts at once)</td><td>{@code 25s}</td></tr>
 * <tr><td>{@code server.tls.keystore}</td><td>standalone: a PKCS12 file with key and certificate; when set,
 *     {@code server.port} speaks HTTPS only (TLS 1.2+, HTTP/2 and HTTP/1.1 over ALPN)</td><td>none (plain HTTP)</td></tr>
 * <tr><td>{@code server.tls.keystore-password}</td><td>password of that key store and its key; required with
 *     it</td><td></td></tr>
 * <tr><td>{@code server.tls.redirect-port}</td><td>standalone with TLS: a plain HTTP port that answers every request
 *     with a 308 redirect to HTTPS on {@code server.port}; 0..65535, empty for none</td><td>none</td></tr>
 * <tr><td>{@code proxy.max-header-count}</td><td>most request header fields, every adapter; past it 431;
 *     1..10000</td><td>{@code 100}</td></tr>
 * <tr><td>{@code proxy.max-body-bytes}</td><td>most request body bytes, every adapter, also counted while a chunked body
 *     streams; past it 413 (or an aborted response if the backend already answered); 0 for no limit</td>
 *     <td>{@code 0}</td></tr>
 * <tr><td>{@code proxy.body-timeout}</td><td>time to receive the whole request body, every adapter; past it 408 (or an
 *     aborted response); duration, 0 for none</td><td>{@code 0}</td></tr>
 * <tr><td>{@code proxy.tls.truststore}</td><td>PKCS12 trust store for {@code https://} backends, instead of the JDK's
 *     trusted CAs</td><td>the JDK's</td></tr>
 * <tr><td>{@code proxy.tls.truststore-password}</td><td>its password</td><td>none</td></tr>
 * <tr><td>{@code proxy.tls.verify-hostname}</td><td>{@code true}: a backend's certificate must name the host of its
 *     URL</td><td>{@code true}</td></tr>
 * <tr><td>{@code route.NAME.max-body-bytes}</td><td>overrides {@code proxy.max-body-bytes}</td>
 *     <td>{@code proxy.max-body-bytes}</td></tr>
 * <tr><td>{@code proxy.via}</td><td>pseudonym this proxy adds to {@code Via}; an HTTP token</td>
 *     <td>{@code proxy-filter}</td></tr>
 * <tr><td>{@code proxy.connect-timeout}</td><td>time to open a backend connection, for every route; duration &gt; 0</td>
 *     <td>{@code 5s}</td></tr>
 * <tr><td>{@code proxy.idle-timeout}</td><td>longest silence on a backend exchange, for every route; duration &gt; 0</td>
 *     <td>{@code 30s}</td></tr>
 * <tr><td>{@code proxy.timeout}</td><td>total time of a backend exchange, for every route; duration, 0 for none</td>
 *     <td>{@code 0}</td></tr>
 * <tr><td>{@code proxy.retries}</td><td>tries after the first on another backend, for every route; 0..10</td>
 *     <td>{@code 1}</td></tr>
 * <tr><td>{@code proxy.per-try-timeout}</td><td>limit of one try, for every route; duration, 0 for none</td>
 *     <td>{@code 0}</td></tr>
 * <tr><td>{@code proxy.retry-on}</td><td>failures that allow a retry, for every route: {@code none} or a list of
 *     {@code connect-failure}, {@code reset}, {@code timeout}, {@code 502}, {@code 503}, {@code 504} (the last
 *     four for idempotent methods only)</td><td>{@code connect-failure,reset}</td></tr>
 * <tr><td>{@code proxy.retry-budget}</td><td>retries a pool may add, in percent of its requests; 0..100</td>
 *     <td>{@code 20}</td></tr>
 * <tr><td>{@code pool.NAME.max-pending}</td><td>requests that may wait when every backend is at its
 *     {@code max-connections}; past it, 503 at once; 0..1000000</td><td>{@code 0}</td></tr>
 * <tr><td>{@code pool.NAME.queue-timeout}</td><td>longest wait in that queue before 503; duration &gt; 0</td>
 *     <td>{@code 1s}</td></tr>
 * <tr><td>{@code pool.NAME.backend.NAME.max-connections}</td><td>most requests in flight to the backend,
 *     0..1000000, 0 for no limit</td><td>{@code 0}</td></tr>
 * <tr><td>{@code route.NAME.retries}</td><td>overrides {@code proxy.retries}</td><td>{@code proxy.retries}</td></tr>
 * <tr><td>{@code route.NAME.per-try-timeout}</td><td>overrides {@code proxy.per-try-timeout}</td>
 *     <td>{@code proxy.per-try-timeout}</td></tr>
 * <tr><td>{@code route.NAME.retry-on}</td><td>overrides {@code proxy.retry-on}</td><td>{@code proxy.retry-on}</td></tr>
 * <tr><td>{@code pool.NAME.strategy}</td><td>how a backend is picked (see {@code dev.proxyfilter.balance.Strategy}):
 *     {@code weighted-round-robin} (smooth, as nginx), {@code round-robin} (ignores weights but 0),
 *     {@code random} (weighted), {@code least-request} (fewest in-flight requests per weight of two random
 *     backends), {@code response-time} (weighted random, weights divided by a decaying average of latency)
 *     or {@code consistent-hash} (a hash ring over {@code hash-key})</td>
 *     <td>{@code weighted-round-robin}</td></tr>
 * <tr><td>{@code pool.NAME.hash-key}</td><td>what {@code consistent-hash} hashes, required by it and rejected with
 *     any other strategy: {@code client-ip}, {@code path}, {@code header:NAME} or {@code cookie:NAME}; a request
 *     without that header or cookie is hashed by its client IP</td><td></td></tr>
 * <tr><td>{@code pool.NAME.sticky}</td><td>session affinity with any strategy, {@code cookie:NAME}: a request whose
 *     cookie names an available backend goes there; otherwise the strategy picks and the response sets
 *     {@code NAME=<opaque id>; Path=/; HttpOnly}</td><td>none</td></tr>
 * <tr><td>{@code pool.NAME.backend.NAME.url}</td><td>required: absolute {@code http} or {@code https} URL with
 *     host and optional port, nothing after but an optional "/"</td><td></td></tr>
 * <tr><td>{@code pool.NAME.backend.NAME.weight}</td><td>share of traffic, integer &gt;= 0 (0 takes none)</td>
 *     <td>{@code 1}</td></tr>
 * <tr><td>{@code pool.NAME.backend.NAME.backup}</td><td>{@code true}: a backup, which takes traffic only while
 *     the pool's primary backends cannot (see {@link HealthConfig} for the order)</td><td>{@code false}</td></tr>
 * <tr><td>{@code pool.NAME.health.path}</td><td>turns active health checks on: {@code GET} of the backend's
 *     URL plus this path (query allowed) with the backend's Host, through the pool's upstream client</td>
 *     <td>no checks</td></tr>
 * <tr><td>{@code pool.NAME.health.interval}</td><td>time between two checks of a backend; duration &gt; 0</td>
 *     <td>{@code 5s}</td></tr>
 * <tr><td>{@code pool.NAME.health.timeout}</td><td>longest a check may take, connect included; duration &gt; 0</td>
 *     <td>{@code 2s}</td></tr>
 * <tr><td>{@code pool.NAME.health.expected-status}</td><td>statuses that pass, a status or a range of them,
 *     100..599, e.g. {@code 200-399} or {@code 204}</td><td>{@code 200-399}</td></tr>
 * <tr><td>{@code pool.NAME.health.rise}</td><td>passed checks in a row that bring a DOWN backend back UP;
 *     integer &gt;= 1</td><td>{@code 2}</td></tr>
 * <tr><td>{@code pool.NAME.health.fall}</td><td>failed checks in a row that take an UP backend DOWN (backends
 *     start UP); integer &gt;= 1</td><td>{@code 3}</td></tr>
 * <tr><td>{@code pool.NAME.outlier.consecutive-failures}</td><td>requests in a row failed by a backend (connect
 *     failure, reset or timeout before the response, or a 502, 503 or 504 from it) that eject it; integer
 *     &gt;= 0, 0 for no ejection</td><td>{@code 5}</td></tr>
 * <tr><td>{@code pool.NAME.outlier.base-ejection-time}</td><td>how long a first ejection lasts; the n-th in a
 *     row lasts n times as long, at most 10 times; duration &gt; 0</td><td>{@code 30s}</td></tr>
 * <tr><td>{@code pool.NAME.outlier.max-ejection-percent}</td><td>most of the pool's backends ejected at once,
 *     0..100, rounded down, yet always one in a pool of two or more; a lone backend is never ejected</td>
 *     <td>{@code 50}</td></tr>
 * <tr><td>{@code pool.NAME.panic-threshold}</td><td>percent, 0..100: below this share of healthy primary
 *     backends, and with no healthy backup, the pool picks among all its primaries in service, healthy or
 *     not; 0 for never</td><td>{@code 50}</td></tr>
 * <tr><td>{@code pool.NAME.slow-start}</td><td>a backend coming back (UP again, readmitted, enabled again)
 *     ramps from 10% to all of its weight over this long, in steps of 10%; duration, 0 for none; weights
 *     are then at most {@value HealthConfig#MAX_WEIGHT_WITH_SLOW_START}; {@code consistent-hash} ignores it
 *     </td><td>{@code 0}</td></tr>
 * <tr><td>{@code route.NAME.path}</td><td>required: path prefix starting with "/"; the longest matching prefix
 *     wins</td><td></td></tr>
 * <tr><td>{@code route.NAME.host}</td><td>Host to match, without scheme, port or "/"; empty for any</td>
 *     <td>any</td></tr>
 * <tr><td>{@code route.NAME.pool}</td><td>required: name of a defined pool</td><td></td></tr>
 * <tr><td>{@code route.NAME.strip-prefix}</td><td>{@code true}: remove {@code path} before forwarding</td>
 *     <td>{@code false}</td></tr>
 * <tr><td>{@code route.NAME.preserve-host}</td><td>{@code true}: send the client's Host; {@code false}: the
 *     backend's</td><td>{@code true}</td></tr>
 * <tr><td>{@code route.NAME.connect-timeout}</td><td>overrides {@code proxy.connect-timeout}</td>
 *     <td>{@code proxy.connect-timeout}</td></tr>
 * <tr><td>{@code route.NAME.idle-timeout}</td><td>overrides {@code proxy.idle-timeout}</td>
 *     <td>{@code proxy.idle-timeout}</td></tr>
 * <tr><td>{@code route.NAME.timeout}</td><td>overrides {@code proxy.timeout}</td><td>{@code proxy.timeout}</td></tr>
 * <tr><td>{@code admin.host}</td><td>standalone only: interface of the admin listener (dashboard, metrics,
 *     API); another than loopback needs {@code admin.token}</td><td>{@code 127.0.0.1}</td></tr>
 * <tr><td>{@code admin.port}</td><td>standalone only: its port, 0 for any free one, -1 for none</td>
 *     <td>{@code 8081}</td></tr>
 * <tr><td>{@code admin.token}</td><td>bearer token the admin interface requires; at least 16 visible ASCII
 *     characters</td><td>none</td></tr>
 * <tr><td>{@code log.access}</td><td>access log through SLF4J logger {@code dev.proxyfilter.access}:
 *     {@code off}, {@code combined} (NCSA plus proxy fields) or {@code json}</td><td>{@code combined}</td></tr>
 * <tr><td>{@code reload.watch}</td><td>{@code true}: a change of the properties file the configuration was read
 *     from reloads it (see the README, "Reloading the configuration"; SIGHUP and {@code POST /api/reload} work
 *     either way); needs a restart to change</td><td>{@code true}</td></tr>
 * <tr><td>{@code reload.debounce}</td><td>how long the file must stay unchanged before it is read again; duration
 *     &gt; 0; needs a restart to change</td><td>{@code 300ms}</td></tr>
 * <tr><td>{@code security.trusted-proxies}</td><td>peers whose {@code X-Forwarded-For} (or {@code Forwarded}) is
 *     believed: comma-separated IPv4/IPv6 addresses or CIDR blocks. The client IP (for access rules, rate
 *     limits, {@code hash-key=client-ip}) is the right-most address of that chain that is not trusted; from
 *     any other peer the chain is ignored, and dropped before forwarding</td><td>none</td></tr>
 * <tr><td>{@code security.client-ip-header}</td><td>the chain the trusted proxies maintain:
 *     {@code x-forwarded-for} or {@code forwarded} (RFC 7239 {@code for=})</td><td>{@code x-forwarded-for}</td></tr>
 * <tr><td>{@code security.allow}</td><td>CIDR list: when set, only client IPs in it are served, 403 otherwise</td>
 *     <td>all</td></tr>
 * <tr><td>{@code security.deny}</td><td>CIDR list: client IPs in it get 403, whatever an allow list says</td>
 *     <td>none</td></tr>
 * <tr><td>{@code security.rate-limit}</td><td>a token bucket per key for every route: {@code N/s}, {@code N/m},
 *     {@code N/h} or {@code N/DURATION} ({@code 100/s}, {@code 5/10s}); over it, 429 with {@code Retry-After}</td>
 *     <td>none</td></tr>
 * <tr><td>{@code security.rate-limit-burst}</td><td>the bucket's size, 1..1000000000: requests a key may send at
 *     once</td><td>N of the rate</td></tr>
 * <tr><td>{@code security.rate-limit-key}</td><td>{@code client-ip} or {@code header:NAME} (a request without the
 *     header counts by client IP)</td><td>{@code client-ip}</td></tr>
 * <tr><td>{@code security.rate-limit-max-keys}</td><td>most buckets each rate limit keeps, the least recently used
 *     evicted past it; 1..10000000</td><td>{@code 100000}</td></tr>
 * <tr><td>{@code security.max-concurrent-per-client}</td><td>most requests in flight per client IP, 429 past it;
 *     0..1000000, 0 for no limit</td><td>{@code 0}</td></tr>
 * <tr><td>{@code security.strip-response-headers}</td><td>backend response headers removed, comma-separated, on
 *     top of {@code Server} and {@code X-Powered-By}, which always go</td><td>none</td></tr>
 * <tr><td>{@code security.response-headers.NAME}</td><td>header {@code NAME} set to this value on every
 *     response (proxied or the proxy's own), replacing the backend's; not hop-by-hop, framing or
 *     {@code Set-Cookie}</td><td>none</td></tr>
 * <tr><td>{@code security.hsts}</td><td>{@code Strict-Transport-Security} for https clients only:
 *     {@code max-age=SECONDS} with optional {@code ; includeSubDomains} and {@code ; preload}</td><td>none</td></tr>
 * <tr><td>{@code route.NAME.allow}</td><td>CIDR list, checked after {@code security.allow}: both must let the
 *     client in</td><td>all</td></tr>
 * <tr><td>{@code route.NAME.deny}</td><td>CIDR list, checked with {@code security.deny}</td><td>none</td></tr>
 * <tr><td>{@code route.NAME.rate-limit}</td><td>a bucket of the route's own, taken in addition to
 *     {@code security.rate-limit}; {@code none} exempts the route from that one</td><td>none</td></tr>
 * <tr><td>{@code route.NAME.rate-limit-burst}</td><td>as {@code security.rate-limit-burst}</td>
 *     <td>N of the rate</td></tr>
 * <tr><td>{@code route.NAME.rate-limit-key}</td><td>as {@code security.rate-limit-key}</td>
 *     <td>{@code security.rate-limit-key}</td></tr>
 * <tr><td>{@code route.NAME.auth}</td><td>{@code none}, {@code basic} (users file) or {@code jwt} (Bearer token
 *     checked against a JWKS file); a failure is 401 with {@code WWW-Authenticate}</td><td>{@code none}</td></tr>
 * <tr><td>{@code route.NAME.auth.realm}</td><td>realm in {@code WWW-Authenticate}, visible ASCII without
 *     {@code "} or {@code \}</td><td>{@code restricted}</td></tr>
 * <tr><td>{@code route.NAME.auth.users-file}</td><td>required by {@code basic}: readable file of
 *     {@code user:bcrypt-hash} lines ({@code htpasswd -B}; {@code $2a$}, {@code $2b$}, {@code $2y$})</td><td></td></tr>
 * <tr><td>{@code route.NAME.auth.jwks-file}</td><td>required by {@code jwt}: readable JSON Web Key Set with the RSA
 *     or EC public keys that sign tokens (RS*, PS*, ES* only; {@code none} and HMAC are refused)</td><td></td></tr>
 * <tr><td>{@code route.NAME.auth.issuer}</td><td>{@code jwt}: the {@code iss} a token must have</td><td>any</td></tr>
 * <tr><td>{@code route.NAME.auth.audience}</td><td>{@code jwt}: a value {@code aud} must contain</td><td>any</td></tr>
 * <tr><td>{@code route.NAME.auth.claims-to-headers}</td><td>{@code jwt}: claims passed to the backend as
 *     headers, {@code claim:Header,...} ({@code sub:X-User,email:X-Email}); the client's own headers of
 *     those names are always removed</td><td>none</td></tr>
 * <tr><td>{@code route.NAME.auth.keep-authorization}</td><td>{@code true}: forward the client's
 *     {@code Authorization} header; by default an authenticating route removes it</td><td>{@code false}</td></tr>
 * <tr><td>{@code route.NAME.cache}</td><td>{@code false}: this route bypasses the response cache (which only
 *     {@code cache.enabled} turns on)</td>
 *     <td>{@code cache.enabled}</td></tr>
 * <tr><td>{@code cache.enabled}</td><td>{@code true}: the shared HTTP response cache (RFC 9111) is on</td>
 *     <td>{@code false}</td></tr>
 * <tr><td>{@code cache.heap-entries}</td><td>entries on the heap tier, integer >= 1</td><td>{@code 1000}</td></tr>
 * <tr><td>{@code cache.off-heap-mb}</td><td>off-heap tier in MiB, 0 for none</td><td>{@code 0}</td></tr>
 * <tr><td>{@code cache.disk-mb}</td><td>disk tier in MiB, 0 for none; needs {@code cache.disk-path}</td>
 *     <td>{@code 0}</td></tr>
 * <tr><td>{@code cache.disk-path}</td><td>the disk tier's folder</td><td>none</td></tr>
 * <tr><td>{@code cache.disk-persistent}</td><td>whether the disk tier survives a restart</td><td>{@code true}</td></tr>
 * <tr><td>{@code cache.max-entry-bytes}</td><td>largest body stored; larger ones stream through</td>
 *     <td>{@code 1048576}</td></tr>
 * <tr><td>{@code cache.ehcache-xml}</td><td>Ehcache XML with {@code <cache-template name="proxy-filter">},
 *     instead of the tier sizes</td><td>none</td></tr>
 * <tr><td>{@code cache.coalesce-timeout}</td><td>how long identical misses wait for the first; 0 turns
 *     coalescing off</td><td>{@code 5s}</td></tr>
 * <tr><td>{@code cache.heuristic-max}</td><td>cap of heuristic freshness; 0 turns it off</td><td>{@code 24h}</td></tr>
 * <tr><td>{@code demo.backend.NAME.port}</td><td>standalone only: starts a demo backend on this loopback port,
 *     1..65535, answering with its name</td><td>none</td></tr>
 * </table>
 *
 * <h2>Values</h2>
 * <ul>
 * <li>Values are trimmed. Booleans are {@code true} or {@code false} in any case.
 * <li>Durations are an integer with a unit, {@code ms}, {@code s}, {@code m} or {@code h}
 *     ({@code 500ms}, {@code 5s}), or plain {@code 0}.
 * <li>Backend URLs are stored without the trailing "/", scheme and host in lower case.
 * </ul>
 *
 * <h2>Rules</h2>
 * <ul>
 * <li>An empty configuration is valid: with no route, the filter passes every request down the chain.
 * <li>A pool needs at least one backend; a route needs {@code path} and {@code pool}, and the pool
 *     must exist. A pool no route uses is fine.
 * <li>No two routes may have the same host and path.
 * <li>{@code pool.NAME.health.*} keys other than {@code path} need {@code path}, which turns checks on. A pool
 *     needs a backend that is not a backup.
 * <li>Demo backends need distinct ports, none equal to {@code server.port}.
 * <li>{@code server.tls.keystore-password} and {@code server.tls.redirect-port} need {@code server.tls.keystore};
 *     {@code proxy.tls.truststore-password} needs {@code proxy.tls.truststore}. Key and trust store files must
 *     exist when the configuration loads (a relative path is relative to the working directory). Passwords
 *     never appear in error messages.
 * <li>{@code rate-limit-burst} and {@code rate-limit-key} need a {@code rate-limit} beside them; the
 *     {@code route.NAME.auth.*} keys need {@code route.NAME.auth} of the kind that uses them. The users and
 *     JWKS files must be readable at load time; their content is checked when the engine starts, and an
 *     error there names the key and the file the same way.
 * <li>Unknown keys are errors, so that a typo is never silently ignored. For the same reason a
 *     properties file may set each key only once ({@link ConfigSource#ofFile}).
 * </ul>
 *
 * <h2>Sources</h2>
 * {@link #load} merges {@link ConfigSource}s key by key, later ones winning: typically a file or
 * {@code web.xml} init-params, then {@link ConfigSource#ofSystemProperties system properties}
 * ({@code -Dproxyfilter.server.port=9090}). Errors name the key, its value, what was expected and the
 * source of that value, e.g.
 * {@code pool.web.backend.b.weight: -1 (expected: integer >= 0) [config/proxy.properties]}.
 * Keys are checked in sorted order, then groups (pools, routes, demo backends) in name order; the first
 * problem is reported.
 */
public final class ConfigLoader {
    /** Default pseudonym in {@code Via}. */
    static final String DEFAULT_VIA = "proxy-filter";

    static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);
    static final Duration DEFAULT_TIMEOUT = Duration.ZERO;
    static final boolean DEFAULT_STRIP_PREFIX = false;
    static final boolean DEFAULT_PRESERVE_HOST = true;

    private ConfigLoader() {}

    /**
     * Merges the sources (later ones win, key by key), validates everything and builds the config.
     *
     * @throws ConfigException naming the first bad key, its value, what was expected and its source
     */
    public static ProxyConfig load(List<ConfigSource> sources) {
        Objects.requireNonNull(sources, "sources");
        List<String> names = new ArrayList<>(sources.size());
        Map<String, Setting> merged = new TreeMap<>();
        for (int i = 0; i < sources.size(); i++) {
            ConfigSource source = Objects.requireNonNull(sources.get(i), "source");
            names.add(source.name());
            // Sorted, so that keys differing only in surrounding whitespace merge the same way every time.
            for (Map.Entry<String, String> entry : new TreeMap<>(source.entries()).entrySet()) {
                String key = entry.getKey().strip();
                String value = entry.getValue().strip();
                String from = source.sourceOf(entry.getKey());
                Setting previous = merged.get(key);
                merged.put(
                        key,
                        previous == null ? new Setting(key, value, from, from, i) : previous.overriddenBy(value, from));
            }
        }
        Builder builder = new Builder();
        for (Setting setting : merged.values()) {
            builder.accept(setting);
        }
        return builder.build(names);
    }

    /** Collects settings into drafts, checking each value, then checks groups and builds the records. */
    static final class Builder {
        String serverHost = ServerConfig.DEFAULT_HOST;
        int serverPort = ServerConfig.DEFAULT_PORT;
        String via = DEFAULT_VIA;
        Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
        Duration timeout = DEFAULT_TIMEOUT;
        int retries = RetryConfig.DEFAULT.retries();
        Duration perTryTimeout = RetryConfig.DEFAULT.perTryTimeout();
        Set<RetryConfig.RetryOn> retryOn = RetryConfig.DEFAULT.retryOn();
        Setting retryOnSetting;
        int retryBudget = ProxyConfig.DEFAULT_RETRY_BUDGET_PERCENT;
        int maxHeaderBytes = ServerConfig.DEFAULT_MAX_HEADER_BYTES;
        int maxUriBytes = ServerConfig.DEFAULT_MAX_URI_BYTES;
        Duration headerTimeout = ServerConfig.DEFAULT_HEADER_TIMEOUT;
        Duration serverIdleTimeout = ServerConfig.DEFAULT_IDLE_TIMEOUT;
        Duration shutdownTimeout = ServerConfig.DEFAULT_SHUTDOWN_TIMEOUT;
        Setting keystore;
        Setting keystorePassword;
        Setting redirectPort;
        int maxHeaderCount = RequestLimits.DEFAULT_MAX_HEADER_COUNT;
        long maxBodyBytes = RequestLimits.DEFAULT_MAX_BODY_BYTES;
        Duration bodyTimeout = RequestLimits.DEFAULT.bodyTimeout();
        Setting truststore;
        Setting truststorePassword;
        boolean verifyHostname = UpstreamTlsConfig.DEFAULT.verifyHostname();
        String adminHost = AdminConfig.DEFAULT_HOST;
        int adminPort = AdminConfig.DEFAULT_PORT;
        String adminToken;
        AccessLogFormat accessLog = AccessLogFormat.COMBINED;
        boolean reloadWatch = ReloadConfig.DEFAULT.watch();
        Duration reloadDebounce = ReloadConfig.DEFAULT.debounce();
        final Map<String, PoolDraft> pools = new TreeMap<>();
        final Map<String, RouteDraft> routes = new TreeMap<>();
        final Map<String, DemoDraft> demos = new TreeMap<>();
        final SecurityDraft security = new SecurityDraft();
        /** The {@code cache.*} settings in the order they were accepted, to name their sources in errors. */
        final Map<String, Setting> cacheSettings = new LinkedHashMap<>();

        final CacheConfig.Builder cache = CacheConfig.builder().enabled(false);
        long cacheDiskMb;
        java.nio.file.Path cacheDiskPath;
        /** Every accepted setting by its key, for the checks between keys. */
        final Map<String, Setting> accepted = new HashMap<>();

        void accept(Setting setting) {
            List<String> segments = ConfigKey.segments(setting.key());
            ConfigKey key = ConfigKey.match(segments);
            if (key == null) {
                throw setting.invalid("a known key, e.g. " + ConfigKey.suggest(setting.key()));
            }
            List<String> names = key.names(segments);
            for (int i = 0; i < names.size(); i++) {
                if (!ConfigKey.NAME_PATTERN.matcher(names.get(i)).matches()) {
                    throw setting.invalid(key.nameKind(i) + " name matching " + ConfigKey.NAME_PATTERN.pattern());
                }
            }
            accepted.put(setting.key(), setting);
            key.apply(this, names, setting);
        }

        PoolDraft pool(List<String> names, Setting setting) {
            PoolDraft pool = pools.computeIfAbsent(names.get(0), name -> new PoolDraft());
            pool.settings.add(setting);
            return pool;
        }

        BackendDraft backend(List<String> names, Setting setting) {
            BackendDraft backend =
                    pool(names, setting).backends.computeIfAbsent(names.get(1), name -> new BackendDraft());
            backend.settings.add(setting);
            return backend;
        }

        /** The pool's draft, remembering a {@code health.*} setting that needs {@code health.path}. */
        PoolDraft healthCheck(List<String> names, Setting setting) {
            PoolDraft pool = pool(names, setting);
            if (pool.healthSetting == null) {
                pool.healthSetting = setting;
            }
            return pool;
        }

        /** The cache builder, remembering the setting for the source of a cross-check's message. */
        CacheConfig.Builder cache(Setting setting) {
            cacheSettings.put(setting.key(), setting);
            return cache;
        }

        RouteDraft route(List<String> names, Setting setting) {
            RouteDraft route = routes.computeIfAbsent(names.get(0), name -> new RouteDraft());
            route.settings.add(setting);
            return route;
        }

        ProxyConfig build(List<String> sourceNames) {
            CacheConfig cacheConfig = buildCache();
            Map<String, PoolConfig> poolConfigs = new LinkedHashMap<>();
            pools.forEach((name, pool) -> poolConfigs.put(name, buildPool(name, pool)));

            List<RouteConfig> routeConfigs = new ArrayList<>();
            Map<String, String> routeByHostAndPath = new HashMap<>();
            Map<String, RouteSecurityConfig> routeSecurity = new TreeMap<>();
            routes.forEach((name, route) -> {
                RouteConfig config = buildRoute(name, route);
                RouteSecurityConfig securityConfig =
                        route.security.build(name, security.limit, groupSource(route.settings));
                if (!securityConfig.equals(RouteSecurityConfig.NONE)) {
                    routeSecurity.put(name, securityConfig);
                }
                // NUL cannot occur in a valid host, so it separates host from path unambiguously.
                String hostAndPath = (config.host() == null ? "" : config.host()) + '\0' + config.path();
                String first = routeByHostAndPath.putIfAbsent(hostAndPath, name);
                if (first != null) {
                    throw route.pathSetting.invalid(
                            "a path no other route has for the same host; route " + first + " has it");
                }
                routeConfigs.add(config);
            });
            routeConfigs.sort(Comparator.comparing(RouteConfig::name));

            Map<String, Integer> demoPorts = new LinkedHashMap<>();
            Map<Integer, String> demoByPort = new HashMap<>();
            demos.forEach((name, demo) -> {
                if (demo.port == serverPort) {
                    throw demo.setting.invalid("a port other than server.port " + serverPort);
                }
                String first = demoByPort.putIfAbsent(demo.port, name);
                if (first != null) {
                    throw demo.setting.invalid("a port no other demo backend uses; demo backend " + first + " has it");
                }
                demoPorts.put(name, demo.port);
            });

            return new ProxyConfig(
                    new ServerConfig(
                            serverHost,
                            serverPort,
                            maxHeaderBytes,
                            maxUriBytes,
                            headerTimeout,
                            serverIdleTimeout,
                            serverTls(),
                            shutdownTimeout),
                    poolConfigs,
                    routeConfigs,
                    new DemoConfig(demoPorts),
                    via,
                    sourceNames,
                    retryBudget,
                    admin(),
                    accessLog,
                    security.build(routeSecurity),
                    new RequestLimits(maxHeaderCount, maxBodyBytes, bodyTimeout),
                    upstreamTls(),
                    cacheConfig,
                    new ReloadConfig(reloadWatch, reloadDebounce));
        }

        private CacheConfig buildCache() {
            return CacheSettings.build(cache.disk(cacheDiskMb, cacheDiskPath), cacheSettings);
        }

        /** {@code server.tls.*}: all or nothing, the redirect port apart from {@code server.port}. */
        private ServerTlsConfig serverTls() {
            if (keystore == null) {
                Setting stray = keystorePassword != null ? keystorePassword : redirectPort;
                if (stray != null) {
                    throw new ConfigException(
                            Setting.display(stray.key()), "set", "server.tls.keystore too", stray.source());
                }
                return null;
            }
            if (keystorePassword == null) {
                throw new ConfigException(
                        "server.tls.keystore-password",
                        null,
                        ConfigValues.PASSWORD + ", required with server.tls.keystore",
                        keystore.source());
            }
            int redirect = redirectPort == null ? -1 : ConfigValues.redirectPort(redirectPort);
            if (redirect > 0 && redirect == serverPort) {
                throw redirectPort.invalid(ConfigValues.REDIRECT_PORT);
            }
            return new ServerTlsConfig(keystore.value(), keystorePassword.value(), redirect);
        }

        private UpstreamTlsConfig upstreamTls() {
            if (truststore == null && truststorePassword != null) {
                throw new ConfigException(
                        Setting.display(truststorePassword.key()),
                        "set",
                        "proxy.tls.truststore too",
                        truststorePassword.source());
            }
            return new UpstreamTlsConfig(
                    truststore == null ? null : truststore.value(),
                    truststorePassword == null ? null : truststorePassword.value(),
                    verifyHostname);
        }

        private static PoolConfig buildPool(String name, PoolDraft pool) {
            if (pool.backends.isEmpty()) {
                throw new ConfigException(
                        "pool." + name + ".backend.NAME.url",
                        null,
                        "at least one backend per pool",
                        groupSource(pool.settings));
            }
            List<BackendConfig> backends = new ArrayList<>();
            pool.backends.forEach((backendName, backend) -> {
                if (backend.url == null) {
                    throw new ConfigException(
                            "pool." + name + ".backend." + backendName + ".url",
                            null,
                            ConfigValues.URL,
                            groupSource(backend.settings));
                }
                backends.add(new BackendConfig(
                        backendName, backend.url, backend.weight, backend.maxConnections, backend.backup));
            });
            if (pool.strategy == BalanceStrategy.CONSISTENT_HASH && pool.hashKey == null) {
                throw new ConfigException(
                        "pool." + name + ".hash-key",
                        null,
                        ConfigValues.HASH_KEY + ", required by strategy consistent-hash",
                        groupSource(pool.settings));
            }
            if (pool.strategy != BalanceStrategy.CONSISTENT_HASH && pool.hashKey != null) {
                throw pool.hashKeySetting.invalid("no hash-key, which only strategy consistent-hash uses; pool." + name
                        + ".strategy is " + pool.strategy.configName());
            }
            return new PoolConfig(
                    name,
                    pool.strategy,
                    backends,
                    pool.hashKey,
                    pool.sticky,
                    pool.maxPending,
                    pool.queueTimeout,
                    buildHealth(name, pool));
        }

        /** Checks the health settings of a pool against each other and its backends. */
        private static HealthConfig buildHealth(String name, PoolDraft pool) {
            if (pool.healthPath == null && pool.healthSetting != null) {
                throw pool.healthSetting.invalid(
                        "to be set only with pool." + name + ".health.path, which turns checks on");
            }
            if (pool.backends.values().stream().allMatch(backend -> backend.backup)) {
                throw pool.backends
                        .values()
                        .iterator()
                        .next()
                        .backupSetting
                        .invalid("false for at least one backend of" + " pool " + name
                                + ", since backups only stand in for the others");
            }
            if (!pool.slowStart.isZero()) {
                for (BackendDraft backend : pool.backends.values()) {
                    if (backend.weight > HealthConfig.MAX_WEIGHT_WITH_SLOW_START) {
                        throw backend.weightSetting.invalid("integer 0.." + HealthConfig.MAX_WEIGHT_WITH_SLOW_START
                                + " with pool." + name + ".slow-start");
                    }
                }
            }
            HealthCheckConfig check = pool.healthPath == null
                    ? null
                    : new HealthCheckConfig(
                            pool.healthPath, pool.interval, pool.timeout, pool.expectedStatus, pool.rise, pool.fall);
            return new HealthConfig(
                    check,
                    new OutlierConfig(pool.consecutiveFailures, pool.baseEjectionTime, pool.maxEjectionPercent),
                    pool.panicThreshold,
                    pool.slowStart);
        }

        private RouteConfig buildRoute(String name, RouteDraft route) {
            String prefix = "route." + name + ".";
            if (route.path == null) {
                throw new ConfigException(prefix + "path", null, ConfigValues.PATH, groupSource(route.settings));
            }
            String expectedPool = pools.isEmpty()
                    ? "a defined pool; none is defined"
                    : "a defined pool, one of: " + String.join(", ", pools.keySet());
            if (route.poolSetting == null) {
                throw new ConfigException(prefix + "pool", null, expectedPool, groupSource(route.settings));
            }
            String pool = route.poolSetting.value();
            if (!pools.containsKey(pool)) {
                throw route.poolSetting.invalid(expectedPool);
            }
            return new RouteConfig(
                    name,
                    route.host,
                    route.path,
                    pool,
                    route.stripPrefix == null ? DEFAULT_STRIP_PREFIX : route.stripPrefix,
                    route.preserveHost == null ? DEFAULT_PRESERVE_HOST : route.preserveHost,
                    route.connectTimeout == null ? connectTimeout : route.connectTimeout,
                    route.idleTimeout == null ? idleTimeout : route.idleTimeout,
                    route.timeout == null ? timeout : route.timeout,
                    new RetryConfig(
                            route.retries == null ? retries : route.retries,
                            route.perTryTimeout == null ? perTryTimeout : route.perTryTimeout,
                            route.retryOn == null ? retryOn : route.retryOn),
                    route.maxBodyBytes == null ? RouteConfig.INHERIT : route.maxBodyBytes,
                    route.cache == null || route.cache); // the cache applies only with cache.enabled
        }

        private AdminConfig admin() {
            AdminConfig admin = new AdminConfig(adminHost, adminPort, adminToken);
            if (!admin.loopback() && admin.token() == null && adminPort >= 0) {
                throw accepted.get("admin.host")
                        .invalid("a loopback address such as 127.0.0.1, or set admin.token: the admin "
                                + "interface can drain backends and purge the cache");
            }
            return admin;
        }

        /**
         * Where a group (a pool, backend or route) was defined, to name in "missing" errors: the earliest
         * source that set any of its keys, even if a later one overrode them, since that is where the
         * missing key belongs; later sources usually override single values.
         */
        private static String groupSource(List<Setting> settings) {
            return settings.stream()
                    .min(Comparator.comparingInt(Setting::firstIndex))
                    .orElseThrow()
                    .firstSource();
        }
    }

    static final class PoolDraft {
        final List<Setting> settings = new ArrayList<>();
        final Map<String, BackendDraft> backends = new TreeMap<>();
        BalanceStrategy strategy = BalanceStrategy.WEIGHTED_ROUND_ROBIN;
        HashKey hashKey;
        Setting hashKeySetting;
        StickyConfig sticky;
        int maxPending = PoolConfig.DEFAULT_MAX_PENDING;
        Duration queueTimeout = PoolConfig.DEFAULT_QUEUE_TIMEOUT;
        // Health: active checks, outlier ejection, panic mode, slow start.
        String healthPath;
        /** The first {@code health.*} setting other than the path, which needs the path. */
        Setting healthSetting;

        Duration interval = HealthCheckConfig.DEFAULT_INTERVAL;
        Duration timeout = HealthCheckConfig.DEFAULT_TIMEOUT;
        HealthCheckConfig.StatusRange expectedStatus = HealthCheckConfig.DEFAULT_EXPECTED_STATUS;
        int rise = HealthCheckConfig.DEFAULT_RISE;
        int fall = HealthCheckConfig.DEFAULT_FALL;
        int consecutiveFailures = OutlierConfig.DEFAULT_CONSECUTIVE_FAILURES;
        Duration baseEjectionTime = OutlierConfig.DEFAULT_BASE_EJECTION_TIME;
        int maxEjectionPercent = OutlierConfig.DEFAULT_MAX_EJECTION_PERCENT;
        int panicThreshold = HealthConfig.DEFAULT_PANIC_THRESHOLD_PERCENT;
        Duration slowStart = HealthConfig.DEFAULT_SLOW_START;
    }

    static final class BackendDraft {
        final List<Setting> settings = new ArrayList<>();
        URI url;
        int weight = BackendConfig.DEFAULT_WEIGHT;
        int maxConnections;
        Setting weightSetting;
        boolean backup;
        Setting backupSetting;
    }

    static final class RouteDraft {
        final List<Setting> settings = new ArrayList<>();
        String path;
        Setting pathSetting;
        String host;
        Setting poolSetting;
        Boolean stripPrefix;
        Boolean preserveHost;
        Duration connectTimeout;
        Duration idleTimeout;
        Duration timeout;
        Integer retries;
        Duration perTryTimeout;
        Set<RetryConfig.RetryOn> retryOn;
        Long maxBodyBytes;
        final RouteSecurityDraft security = new RouteSecurityDraft();
        Boolean cache;
        Setting cacheSetting;
        Setting retryOnSetting;
    }

    /** A rate limit being read: {@code rate-limit}, {@code rate-limit-burst}, {@code rate-limit-key}. */
    static final class RateLimitDraft {
        RateLimitConfig rate;
        Setting rateSetting;
        Long burst;
        Setting burstSetting;
        HashKey key;
        Setting keySetting;

        void burst(Setting setting) {
            burst = ConfigValues.burst(setting);
            burstSetting = setting;
        }

        void key(Setting setting) {
            key = ConfigValues.rateLimitKey(setting);
            keySetting = setting;
        }

        /** The limit, or null; burst and key without a rate are errors. {@code inherited} supplies the default key. */
        RateLimitConfig build(String rateKey, HashKey inheritedKey) {
            if (rate == null) {
                for (Setting orphan : new Setting[] {burstSetting, keySetting}) {
                    if (orphan != null) {
                        String name = orphan.key().substring(orphan.key().lastIndexOf('.') + 1);
                        throw orphan.invalid("no " + name + ", which only a rate limit uses; " + rateKey + " is "
                                + (rateSetting == null ? "not set" : "none"));
                    }
                }
                return null;
            }
            HashKey limitKey = key != null ? key : inheritedKey != null ? inheritedKey : HashKey.clientIp();
            return new RateLimitConfig(rate.tokens(), rate.period(), burst == null ? rate.tokens() : burst, limitKey);
        }
    }

    /** The {@code security.*} keys being read. */
    static final class SecurityDraft {
        List<Cidr> trustedProxies = List.of();
        SecurityConfig.ClientIpHeader clientIpHeader = SecurityConfig.ClientIpHeader.X_FORWARDED_FOR;
        List<Cidr> allow = List.of();
        List<Cidr> deny = List.of();
        final RateLimitDraft limit = new RateLimitDraft();
        int maxKeys = SecurityConfig.DEFAULT_RATE_LIMIT_MAX_KEYS;
        int maxConcurrent;
        List<String> stripResponseHeaders = List.of();
        final Map<String, String> responseHeaders = new LinkedHashMap<>();
        final Map<String, String> responseHeaderNames = new HashMap<>();
        String hsts;

        void responseHeader(String name, Setting setting) {
            String value = ConfigValues.responseHeaderValue(setting, name);
            String first = responseHeaderNames.putIfAbsent(name.toLowerCase(java.util.Locale.ROOT), name);
            if (first != null) {
                throw setting.invalid("a header set once; security.response-headers." + first + " sets it");
            }
            responseHeaders.put(name, value);
        }

        SecurityConfig build(Map<String, RouteSecurityConfig> routes) {
            return new SecurityConfig(
                    trustedProxies,
                    clientIpHeader,
                    allow,
                    deny,
                    limit.build("security.rate-limit", null),
                    maxKeys,
                    maxConcurrent,
                    stripResponseHeaders,
                    responseHeaders,
                    hsts,
                    routes);
        }
    }

    /** The security keys of one route being read. */
    static final class RouteSecurityDraft {
        List<Cidr> allow = List.of();
        List<Cidr> deny = List.of();
        final RateLimitDraft limit = new RateLimitDraft();
        AuthDraft auth;

        /** The auth draft, remembering the setting under its key for the checks in {@link AuthDraft#build}. */
        AuthDraft auth(Setting setting) {
            if (auth == null) {
                auth = new AuthDraft();
            }
            auth.settings.put(ConfigKey.match(ConfigKey.segments(setting.key())), setting);
            return auth;
        }

        RouteSecurityConfig build(String route, RateLimitDraft global, String source) {
            String prefix = "route." + route + ".";
            RateLimitConfig rateLimit = limit.build(prefix + "rate-limit", global.key);
            boolean exempt = limit.rateSetting != null && limit.rate == null;
            return new RouteSecurityConfig(
                    allow, deny, rateLimit, exempt, auth == null ? null : auth.build(prefix, source));
        }
    }

    /** The {@code route.NAME.auth*} keys being read. */
    static final class AuthDraft {
        final Map<ConfigKey, Setting> settings = new java.util.EnumMap<>(ConfigKey.class);
        AuthConfig.Kind kind;
        String realm = AuthConfig.DEFAULT_REALM;
        java.nio.file.Path usersFile;
        java.nio.file.Path jwksFile;
        String issuer;
        String audience;
        Map<String, String> claimsToHeaders = Map.of();
        boolean keepAuthorization;

        AuthConfig build(String prefix, String source) {
            Setting authSetting = settings.get(ConfigKey.ROUTE_AUTH);
            for (Map.Entry<ConfigKey, Setting> entry : settings.entrySet()) {
                ConfigKey key = entry.getKey();
                String name = key.template().substring(key.template().indexOf("auth"));
                String state = prefix + "auth is "
                        + (kind == null ? (authSetting == null ? "not set" : "none") : kind.configName());
                boolean basicOnly = key == ConfigKey.ROUTE_AUTH_USERS_FILE;
                boolean jwtOnly = key == ConfigKey.ROUTE_AUTH_JWKS_FILE
                        || key == ConfigKey.ROUTE_AUTH_ISSUER
                        || key == ConfigKey.ROUTE_AUTH_AUDIENCE
                        || key == ConfigKey.ROUTE_AUTH_CLAIMS_TO_HEADERS;
                if (key == ConfigKey.ROUTE_AUTH) {
                    continue;
                }
                if (kind == null) {
                    throw entry.getValue()
                            .invalid("no " + name + ", which only " + prefix + "auth=basic or jwt uses; " + state);
                }
                if (basicOnly && kind != AuthConfig.Kind.BASIC) {
                    throw entry.getValue()
                            .invalid("no " + name + ", which only " + prefix + "auth=basic uses; " + state);
                }
                if (jwtOnly && kind != AuthConfig.Kind.JWT) {
                    throw entry.getValue().invalid("no " + name + ", which only " + prefix + "auth=jwt uses; " + state);
                }
            }
            if (kind == null) {
                return null;
            }
            ConfigKey fileKey =
                    kind == AuthConfig.Kind.BASIC ? ConfigKey.ROUTE_AUTH_USERS_FILE : ConfigKey.ROUTE_AUTH_JWKS_FILE;
            Setting fileSetting = settings.get(fileKey);
            if (fileSetting == null) {
                String name = fileKey.template().substring(fileKey.template().indexOf("auth"));
                throw new ConfigException(
                        prefix + name,
                        null,
                        ConfigValues.READABLE_FILE + ", required by " + prefix + "auth=" + kind.configName(),
                        source);
            }
            return new AuthConfig(
                    kind,
                    realm,
                    usersFile,
                    jwksFile,
                    issuer,
                    audience,
                    claimsToHeaders,
                    keepAuthorization,
                    fileSetting.source());
        }
    }

    record DemoDraft(Setting setting, int port) {}
}
