package dev.proxyfilter.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Every configuration key, each declared once: its name template, when a change takes effect, its
 * default, the values it accepts, one line of documentation, and what the loader does with a value.
 *
 * <p>{@code NAME} in a template stands for a user-chosen pool, backend, route or demo backend name (or a
 * header name in {@code security.response-headers.NAME}); a key that matches no template is unknown.
 * {@link ConfigLoader} looks each setting up here and runs the key's action, which parses the value
 * (throwing {@link ConfigException} with the key's {@link #expected()} text) and stores it in the
 * loader's drafts; the checks between keys run when the loader builds the records.
 * {@link ConfigReference} turns the same declarations into {@code docs/configuration.md} and the
 * standalone proxy's {@code --list-keys}, and {@link #restartOnly()} tells the engine which keys a reload
 * cannot change. Adding a key means adding a constant here and the record component it fills.
 *
 * <p>The constants are grouped by the first segment of the key, in the order the reference lists them.
 */
public enum ConfigKey {
    // ---- server.*: the standalone listener ----
    SERVER_HOST(
            "server.host",
            Applied.ON_RESTART,
            value(ServerConfig.DEFAULT_HOST),
            ConfigValues.LISTEN_HOST,
            "standalone: the interface to listen on",
            (b, n, s) -> b.serverHost = ConfigValues.listenHost(s)),
    SERVER_PORT(
            "server.port",
            Applied.ON_RESTART,
            value(ServerConfig.DEFAULT_PORT),
            ConfigValues.LISTEN_PORT,
            "standalone: the port to listen on, 0 for a free one; HTTPS when server.tls.keystore is set",
            (b, n, s) -> b.serverPort = ConfigValues.listenPort(s)),
    SERVER_MAX_HEADER_BYTES(
            "server.max-header-bytes",
            Applied.ON_RESTART,
            value(ServerConfig.DEFAULT_MAX_HEADER_BYTES),
            ConfigValues.HEADER_BYTES,
            "standalone: most bytes of request line plus headers; past it 431 (414 for the request line alone)",
            (b, n, s) -> b.maxHeaderBytes = ConfigValues.headerBytes(s)),
    SERVER_MAX_URI_BYTES(
            "server.max-uri-bytes",
            Applied.ON_RESTART,
            value(ServerConfig.DEFAULT_MAX_URI_BYTES),
            ConfigValues.HEADER_BYTES,
            "standalone: most bytes of the request target; past it 414",
            (b, n, s) -> b.maxUriBytes = ConfigValues.headerBytes(s)),
    SERVER_HEADER_TIMEOUT(
            "server.header-timeout",
            Applied.ON_RESTART,
            value(ServerConfig.DEFAULT_HEADER_TIMEOUT),
            ConfigValues.POSITIVE_DURATION,
            "standalone: time a client has to send a whole request head, then the connection closes (slowloris)",
            (b, n, s) -> b.headerTimeout = ConfigValues.duration(s, true)),
    SERVER_IDLE_TIMEOUT(
            "server.idle-timeout",
            Applied.ON_RESTART,
            value(ServerConfig.DEFAULT_IDLE_TIMEOUT),
            ConfigValues.POSITIVE_DURATION,
            "standalone: longest silence on a client connection, a stalled request body included",
            (b, n, s) -> b.serverIdleTimeout = ConfigValues.duration(s, true)),
    SERVER_SHUTDOWN_TIMEOUT(
            "server.shutdown-timeout",
            Applied.ON_RESTART,
            value(ServerConfig.DEFAULT_SHUTDOWN_TIMEOUT),
            ConfigValues.DURATION,
            "every adapter: on SIGTERM or undeploy, the grace in-flight exchanges get before they are cut",
            (b, n, s) -> b.shutdownTimeout = ConfigValues.duration(s, false)),
    SERVER_REUSE_PORT(
            "server.reuse-port",
            Applied.ON_RESTART,
            value(false),
            ConfigValues.BOOLEAN,
            "standalone: SO_REUSEPORT on every listener (Linux), so that bin/proxy-filter --takeover can replace"
                    + " the running process without refusing or dropping a connection; both must set it",
            (b, n, s) -> b.reusePort = ConfigValues.bool(s)),
    SERVER_H2C(
            "server.h2c",
            Applied.ON_RESTART,
            value(true),
            ConfigValues.BOOLEAN,
            "standalone, plain HTTP: HTTP/2 in clear text next to HTTP/1.1 (prior knowledge and Upgrade: h2c),"
                    + " with WebSocket over HTTP/2 (RFC 8441 extended CONNECT)",
            (b, n, s) -> b.h2c = ConfigValues.bool(s)),
    SERVER_FAST_PATH(
            "server.fast-path",
            Applied.ON_RESTART,
            value(ServerConfig.DEFAULT_FAST_PATH),
            ConfigValues.BOOLEAN,
            "standalone, plain HTTP: plain HTTP/1.1 requests without a body parsed and answered on Jetty's io layer,"
                    + " without its Request/Response objects; everything else goes through Jetty as before",
            (b, n, s) -> b.fastPath = ConfigValues.bool(s)),
    SERVER_TLS_KEYSTORE(
            "server.tls.keystore",
            Applied.ON_RESTART,
            note("none (plain HTTP)"),
            ConfigValues.FILE,
            "standalone: PKCS12 key and certificate; server.port then speaks HTTPS only (TLS 1.2+, h2 over ALPN)",
            (b, n, s) -> {
                ConfigValues.storeFile(s);
                b.keystore = s;
            }),
    SERVER_TLS_KEYSTORE_PASSWORD(
            "server.tls.keystore-password",
            Applied.ON_RESTART,
            note("none"),
            ConfigValues.PASSWORD,
            "password of that key store and its key, required with it; never shown in messages",
            (b, n, s) -> b.keystorePassword = s),
    SERVER_TLS_REDIRECT_PORT(
            "server.tls.redirect-port",
            Applied.ON_RESTART,
            note("none"),
            ConfigValues.REDIRECT_PORT,
            "standalone with TLS: a plain HTTP port answering every request with a 308 to HTTPS",
            (b, n, s) -> {
                ConfigValues.redirectPort(s);
                b.redirectPort = s;
            }),

    // ---- admin.*: the standalone admin listener ----
    ADMIN_HOST(
            "admin.host",
            Applied.ON_RESTART,
            value(AdminConfig.DEFAULT_HOST),
            ConfigValues.LISTEN_HOST,
            "standalone: interface of the admin listener (dashboard, metrics, API); not loopback needs admin.token",
            (b, n, s) -> b.adminHost = ConfigValues.listenHost(s)),
    ADMIN_PORT(
            "admin.port",
            Applied.ON_RESTART,
            value(AdminConfig.DEFAULT_PORT),
            ConfigValues.ADMIN_PORT,
            "standalone: port of the admin listener, 0 for a free one, -1 for none",
            (b, n, s) -> b.adminPort = ConfigValues.adminPort(s)),
    ADMIN_TOKEN(
            "admin.token",
            Applied.ON_RESTART,
            note("none"),
            ConfigValues.ADMIN_TOKEN,
            "bearer token the admin listener then requires; never shown in messages",
            (b, n, s) -> b.adminToken = ConfigValues.adminToken(s)),

    // ---- log.* ----
    LOG_ACCESS(
            "log.access",
            Applied.ON_RELOAD,
            value(AccessLogFormat.COMBINED.configName()),
            ConfigValues.ACCESS_LOG,
            "access log through the SLF4J logger dev.proxyfilter.access: NCSA combined plus proxy fields, or JSON",
            (b, n, s) -> b.accessLog = ConfigValues.accessLog(s)),
    LOG_ACCESS_TO(
            "log.access.to",
            Applied.ON_RESTART,
            value(AccessLogTarget.LOGGER.configName()),
            ConfigValues.ACCESS_LOG_TO,
            "where access-log lines go: the SLF4J logger dev.proxyfilter.access, or bare lines written directly"
                    + " in batches to stdout, stderr or a file (reopened when rotated), at a fraction of the cost",
            (b, n, s) -> b.accessLogTarget = ConfigValues.accessLogTarget(s)),

    // ---- demo.*: built-in backends of the standalone proxy ----
    DEMO_PORT(
            "demo.backend.NAME.port",
            Applied.ON_RESTART,
            note("none"),
            ConfigValues.DEMO_PORT,
            "standalone: starts a demo backend on this loopback port, answering with its name",
            (b, n, s) -> b.demos.put(n.get(0), new ConfigLoader.DemoDraft(s, ConfigValues.demoPort(s)))),

    // ---- proxy.*: defaults for every route, request limits, upstream TLS ----
    PROXY_VIA(
            "proxy.via",
            Applied.ON_RELOAD,
            value(ConfigLoader.DEFAULT_VIA),
            ConfigValues.TOKEN,
            "pseudonym this proxy adds to Via",
            (b, n, s) -> b.via = ConfigValues.token(s)),
    PROXY_CONNECT_TIMEOUT(
            "proxy.connect-timeout",
            Applied.ON_RELOAD,
            value(ConfigLoader.DEFAULT_CONNECT_TIMEOUT),
            ConfigValues.POSITIVE_DURATION,
            "time to open a backend connection",
            (b, n, s) -> b.connectTimeout = ConfigValues.duration(s, true)),
    PROXY_IDLE_TIMEOUT(
            "proxy.idle-timeout",
            Applied.ON_RELOAD,
            value(ConfigLoader.DEFAULT_IDLE_TIMEOUT),
            ConfigValues.POSITIVE_DURATION,
            "longest silence on a backend exchange; past it 504",
            (b, n, s) -> b.idleTimeout = ConfigValues.duration(s, true)),
    PROXY_TIMEOUT(
            "proxy.timeout",
            Applied.ON_RELOAD,
            value(ConfigLoader.DEFAULT_TIMEOUT),
            ConfigValues.DURATION,
            "total time of a backend exchange, all tries included; past it 504",
            (b, n, s) -> b.timeout = ConfigValues.duration(s, false)),
    PROXY_RETRIES(
            "proxy.retries",
            Applied.ON_RELOAD,
            value(RetryConfig.DEFAULT.retries()),
            ConfigValues.RETRIES,
            "tries after the first, on another backend, before any byte reached the client",
            (b, n, s) -> b.retries = ConfigValues.retries(s)),
    PROXY_PER_TRY_TIMEOUT(
            "proxy.per-try-timeout",
            Applied.ON_RELOAD,
            value(RetryConfig.DEFAULT.perTryTimeout()),
            ConfigValues.DURATION,
            "limit of one try",
            (b, n, s) -> b.perTryTimeout = ConfigValues.duration(s, false)),
    PROXY_RETRY_ON(
            "proxy.retry-on",
            Applied.ON_RELOAD,
            value(retryOnText(RetryConfig.DEFAULT.retryOn())),
            ConfigValues.RETRY_ON,
            "failures that allow a retry; all but connect-failure for idempotent methods only",
            (b, n, s) -> b.retryOn = ConfigValues.retryOn(s)),
    PROXY_RETRY_BUDGET(
            "proxy.retry-budget",
            Applied.ON_RELOAD,
            value(ProxyConfig.DEFAULT_RETRY_BUDGET_PERCENT),
            ConfigValues.PERCENT,
            "retries a pool may add, in percent of its requests",
            (b, n, s) -> b.retryBudget = ConfigValues.percent(s)),
    PROXY_MAX_HEADER_COUNT(
            "proxy.max-header-count",
            Applied.ON_RELOAD,
            value(RequestLimits.DEFAULT_MAX_HEADER_COUNT),
            ConfigValues.HEADER_COUNT,
            "most request header fields; past it 431",
            (b, n, s) -> b.maxHeaderCount = ConfigValues.headerCount(s)),
    PROXY_MAX_BODY_BYTES(
            "proxy.max-body-bytes",
            Applied.ON_RELOAD,
            value(RequestLimits.DEFAULT_MAX_BODY_BYTES),
            ConfigValues.BODY_BYTES,
            "most request body bytes, also counted while a chunked body streams; past it 413",
            (b, n, s) -> b.maxBodyBytes = ConfigValues.bodyBytes(s)),
    PROXY_BODY_TIMEOUT(
            "proxy.body-timeout",
            Applied.ON_RELOAD,
            value(RequestLimits.DEFAULT.bodyTimeout()),
            ConfigValues.DURATION,
            "time to receive the whole request body; past it 408",
            (b, n, s) -> b.bodyTimeout = ConfigValues.duration(s, false)),
    PROXY_WEBSOCKET_IDLE_TIMEOUT(
            "proxy.websocket-idle-timeout",
            Applied.ON_RELOAD,
            value(WebSocketConfig.DEFAULT_IDLE_TIMEOUT),
            ConfigValues.POSITIVE_DURATION,
            "longest time a WebSocket tunnel carries no byte either way; then both connections close",
            (b, n, s) -> b.websocketIdleTimeout = ConfigValues.duration(s, true)),
    PROXY_MAX_TUNNELS(
            "proxy.max-tunnels",
            Applied.ON_RELOAD,
            value(WebSocketConfig.DEFAULT_MAX_TUNNELS),
            ConfigValues.MAX_TUNNELS,
            "most WebSocket tunnels open at once over every route; past it an upgrade gets 503",
            (b, n, s) -> b.maxTunnels = ConfigValues.maxTunnels(s)),
    PROXY_TLS_TRUSTSTORE(
            "proxy.tls.truststore",
            Applied.ON_RESTART,
            note("the JDK's trusted CAs"),
            ConfigValues.FILE,
            "PKCS12 trust store for https:// backends",
            (b, n, s) -> {
                ConfigValues.storeFile(s);
                b.truststore = s;
            }),
    PROXY_TLS_TRUSTSTORE_PASSWORD(
            "proxy.tls.truststore-password",
            Applied.ON_RESTART,
            note("none"),
            ConfigValues.PASSWORD,
            "password of that trust store; never shown in messages",
            (b, n, s) -> b.truststorePassword = s),
    PROXY_TLS_VERIFY_HOSTNAME(
            "proxy.tls.verify-hostname",
            Applied.ON_RESTART,
            value(UpstreamTlsConfig.DEFAULT.verifyHostname()),
            ConfigValues.BOOLEAN,
            "true: a backend's certificate must name the host of its URL",
            (b, n, s) -> b.verifyHostname = ConfigValues.bool(s)),

    // ---- pool.NAME.*: backends and how they are picked ----
    POOL_STRATEGY(
            "pool.NAME.strategy",
            Applied.ON_RELOAD,
            value(StrategyName.WEIGHTED_ROUND_ROBIN.configName()),
            StrategyName.configNames(),
            "how a backend is picked (see dev.proxyfilter.balance.Strategy)",
            (b, n, s) -> b.pool(n, s).strategy = ConfigValues.strategy(s)),
    POOL_HASH_KEY(
            "pool.NAME.hash-key",
            Applied.ON_RELOAD,
            note("none"),
            ConfigValues.HASH_KEY,
            "what consistent-hash hashes, required by it; a request without it is hashed by its client IP",
            (b, n, s) -> {
                ConfigLoader.PoolDraft pool = b.pool(n, s);
                pool.hashKey = ConfigValues.hashKey(s);
                pool.hashKeySetting = s;
            }),
    POOL_STICKY(
            "pool.NAME.sticky",
            Applied.ON_RELOAD,
            note("none"),
            ConfigValues.STICKY,
            "session affinity with any strategy: the cookie names the backend that served the client",
            (b, n, s) -> b.pool(n, s).sticky = ConfigValues.sticky(s)),
    POOL_MAX_PENDING(
            "pool.NAME.max-pending",
            Applied.ON_RELOAD,
            value(PoolConfig.DEFAULT_MAX_PENDING),
            ConfigValues.MAX_PENDING,
            "requests that may wait while every backend is at its max-connections (so one needs it); past it 503",
            (b, n, s) -> b.pool(n, s).maxPending = ConfigValues.maxPending(s)),
    POOL_QUEUE_TIMEOUT(
            "pool.NAME.queue-timeout",
            Applied.ON_RELOAD,
            value(PoolConfig.DEFAULT_QUEUE_TIMEOUT),
            ConfigValues.POSITIVE_DURATION,
            "longest wait in that queue before 503; needs pool.NAME.max-pending",
            (b, n, s) -> b.pool(n, s).queueTimeout = ConfigValues.duration(s, true)),
    POOL_PROTOCOL(
            "pool.NAME.protocol",
            Applied.ON_RELOAD,
            value(UpstreamProtocol.Kind.HTTP_1_1.configName()),
            UpstreamProtocol.Kind.configNames(),
            "how backends are spoken to: HTTP/1.1, HTTP/2 in clear text (prior knowledge), HTTP/2 over TLS (ALPN)",
            (b, n, s) -> b.pool(n, s).protocol = UpstreamProtocol.Kind.fromConfigName(s.value())
                    .orElseThrow(() -> s.invalid(UpstreamProtocol.Kind.configNames()))),
    POOL_H2_MAX_CONNECTIONS(
            "pool.NAME.h2.max-connections",
            Applied.ON_RELOAD,
            value(UpstreamProtocol.DEFAULT_MAX_CONNECTIONS),
            ConfigValues.H2_LIMIT,
            "HTTP/2 pools: most connections to one backend; a new one opens only when the others' streams are full",
            (b, n, s) -> b.pool(n, s).h2MaxConnections = ConfigValues.h2Limit(s)),
    POOL_H2_MAX_STREAMS(
            "pool.NAME.h2.max-streams",
            Applied.ON_RELOAD,
            value(UpstreamProtocol.DEFAULT_MAX_STREAMS),
            ConfigValues.H2_LIMIT,
            "HTTP/2 pools: most concurrent streams on one connection (the backend's SETTINGS may lower it)",
            (b, n, s) -> b.pool(n, s).h2MaxStreams = ConfigValues.h2Limit(s)),
    BACKEND_URL(
            "pool.NAME.backend.NAME.url",
            Applied.ON_RELOAD,
            note("required"),
            ConfigValues.URL,
            "the backend: scheme, host and optional port, nothing after but an optional /",
            (b, n, s) -> b.backend(n, s).url = ConfigValues.backendUrl(s)),
    BACKEND_WEIGHT(
            "pool.NAME.backend.NAME.weight",
            Applied.ON_RELOAD,
            value(BackendConfig.DEFAULT_WEIGHT),
            ConfigValues.WEIGHT,
            "share of traffic; 0 takes no new requests; round-robin takes only 0 and 1",
            (b, n, s) -> {
                ConfigLoader.BackendDraft backend = b.backend(n, s);
                backend.weight = ConfigValues.weight(s);
                backend.weightSetting = s;
            }),
    BACKEND_MAX_CONNECTIONS(
            "pool.NAME.backend.NAME.max-connections",
            Applied.ON_RELOAD,
            value(0),
            ConfigValues.MAX_CONNECTIONS,
            "most requests in flight to the backend; then another backend with room, else the pool's queue",
            (b, n, s) -> b.backend(n, s).maxConnections = ConfigValues.maxConnections(s)),
    BACKEND_BACKUP(
            "pool.NAME.backend.NAME.backup",
            Applied.ON_RELOAD,
            value(false),
            ConfigValues.BOOLEAN,
            "true: takes traffic only while the pool's primary backends cannot",
            (b, n, s) -> {
                ConfigLoader.BackendDraft backend = b.backend(n, s);
                backend.backup = ConfigValues.bool(s);
                backend.backupSetting = s;
            }),
    POOL_HEALTH_PATH(
            "pool.NAME.health.path",
            Applied.ON_RELOAD,
            note("none (no checks)"),
            ConfigValues.HEALTH_PATH,
            "turns active checks on: GET of the backend's URL plus this path, with the backend's Host",
            (b, n, s) -> b.pool(n, s).healthPath = ConfigValues.healthPath(s)),
    POOL_HEALTH_INTERVAL(
            "pool.NAME.health.interval",
            Applied.ON_RELOAD,
            value(ActiveCheckConfig.DEFAULT_INTERVAL),
            ConfigValues.POSITIVE_DURATION,
            "time between two checks of a backend",
            (b, n, s) -> b.healthCheck(n, s).interval = ConfigValues.duration(s, true)),
    POOL_HEALTH_TIMEOUT(
            "pool.NAME.health.timeout",
            Applied.ON_RELOAD,
            value(ActiveCheckConfig.DEFAULT_TIMEOUT),
            ConfigValues.POSITIVE_DURATION,
            "longest a check may take, connect included",
            (b, n, s) -> b.healthCheck(n, s).timeout = ConfigValues.duration(s, true)),
    POOL_HEALTH_EXPECTED_STATUS(
            "pool.NAME.health.expected-status",
            Applied.ON_RELOAD,
            value(ActiveCheckConfig.DEFAULT_EXPECTED_STATUS.min() + "-"
                    + ActiveCheckConfig.DEFAULT_EXPECTED_STATUS.max()),
            ConfigValues.STATUS_RANGE,
            "statuses that pass a check",
            (b, n, s) -> b.healthCheck(n, s).expectedStatus = ConfigValues.statusRange(s)),
    POOL_HEALTH_RISE(
            "pool.NAME.health.rise",
            Applied.ON_RELOAD,
            value(ActiveCheckConfig.DEFAULT_RISE),
            ConfigValues.COUNT,
            "passed checks in a row that bring a DOWN backend back UP",
            (b, n, s) -> b.healthCheck(n, s).rise = ConfigValues.count(s)),
    POOL_HEALTH_FALL(
            "pool.NAME.health.fall",
            Applied.ON_RELOAD,
            value(ActiveCheckConfig.DEFAULT_FALL),
            ConfigValues.COUNT,
            "failed checks in a row that take an UP backend DOWN (backends start UP)",
            (b, n, s) -> b.healthCheck(n, s).fall = ConfigValues.count(s)),
    POOL_OUTLIER_CONSECUTIVE_FAILURES(
            "pool.NAME.outlier.consecutive-failures",
            Applied.ON_RELOAD,
            value(OutlierConfig.DEFAULT_CONSECUTIVE_FAILURES),
            ConfigValues.COUNT_OR_ZERO,
            "requests in a row a backend fails (connect, reset, timeout, 502-504) that eject it",
            (b, n, s) -> b.pool(n, s).consecutiveFailures = ConfigValues.countOrZero(s)),
    POOL_OUTLIER_BASE_EJECTION_TIME(
            "pool.NAME.outlier.base-ejection-time",
            Applied.ON_RELOAD,
            value(OutlierConfig.DEFAULT_BASE_EJECTION_TIME),
            ConfigValues.POSITIVE_DURATION,
            "how long a first ejection lasts; the n-th in a row n times as long, at most 10 times",
            (b, n, s) -> b.pool(n, s).baseEjectionTime = ConfigValues.duration(s, true)),
    POOL_OUTLIER_MAX_EJECTION_PERCENT(
            "pool.NAME.outlier.max-ejection-percent",
            Applied.ON_RELOAD,
            value(OutlierConfig.DEFAULT_MAX_EJECTION_PERCENT),
            ConfigValues.PERCENT,
            "most of the pool ejected at once, yet one of two or more; a lone backend never is",
            (b, n, s) -> b.pool(n, s).maxEjectionPercent = ConfigValues.percent(s)),
    POOL_PANIC_THRESHOLD(
            "pool.NAME.panic-threshold",
            Applied.ON_RELOAD,
            value(HealthConfig.DEFAULT_PANIC_THRESHOLD_PERCENT),
            ConfigValues.PERCENT,
            "below this percent of healthy primaries, and no healthy backup, pick among all primaries; 0 never",
            (b, n, s) -> b.pool(n, s).panicThreshold = ConfigValues.percent(s)),
    POOL_SLOW_START(
            "pool.NAME.slow-start",
            Applied.ON_RELOAD,
            value(HealthConfig.DEFAULT_SLOW_START),
            ConfigValues.DURATION,
            "a returning backend ramps from 10% to all of its weight over this long; not with round-robin or"
                    + " consistent-hash; weights then at most "
                    + HealthConfig.MAX_WEIGHT_WITH_SLOW_START,
            (b, n, s) -> b.pool(n, s).slowStart = ConfigValues.duration(s, false)),

    // ---- route.NAME.*: which requests go to which pool, and how ----
    ROUTE_PATH(
            "route.NAME.path",
            Applied.ON_RELOAD,
            note("required"),
            ConfigValues.PATH,
            "path prefix the route matches, in whole segments; the longest matching prefix wins",
            (b, n, s) -> {
                ConfigLoader.RouteDraft route = b.route(n, s);
                route.path = ConfigValues.path(s);
                route.pathSetting = s;
            }),
    ROUTE_HOST(
            "route.NAME.host",
            Applied.ON_RELOAD,
            note("any host"),
            ConfigValues.ROUTE_HOST,
            "Host the route matches",
            (b, n, s) -> b.route(n, s).host = ConfigValues.routeHost(s)),
    ROUTE_POOL(
            "route.NAME.pool",
            Applied.ON_RELOAD,
            note("required"),
            "a defined pool",
            "the pool that serves the route",
            (b, n, s) -> b.route(n, s).poolSetting = s),
    ROUTE_STRIP_PREFIX(
            "route.NAME.strip-prefix",
            Applied.ON_RELOAD,
            value(ConfigLoader.DEFAULT_STRIP_PREFIX),
            ConfigValues.BOOLEAN,
            "true: remove the path prefix before forwarding",
            (b, n, s) -> b.route(n, s).stripPrefix = ConfigValues.bool(s)),
    ROUTE_PRESERVE_HOST(
            "route.NAME.preserve-host",
            Applied.ON_RELOAD,
            value(ConfigLoader.DEFAULT_PRESERVE_HOST),
            ConfigValues.BOOLEAN,
            "true: send the client's Host; false: the backend's host:port",
            (b, n, s) -> b.route(n, s).preserveHost = ConfigValues.bool(s)),
    ROUTE_CONNECT_TIMEOUT(
            "route.NAME.connect-timeout",
            Applied.ON_RELOAD,
            inherited("proxy.connect-timeout"),
            ConfigValues.POSITIVE_DURATION,
            "overrides proxy.connect-timeout",
            (b, n, s) -> b.route(n, s).connectTimeout = ConfigValues.duration(s, true)),
    ROUTE_IDLE_TIMEOUT(
            "route.NAME.idle-timeout",
            Applied.ON_RELOAD,
            inherited("proxy.idle-timeout"),
            ConfigValues.POSITIVE_DURATION,
            "overrides proxy.idle-timeout",
            (b, n, s) -> b.route(n, s).idleTimeout = ConfigValues.duration(s, true)),
    ROUTE_TIMEOUT(
            "route.NAME.timeout",
            Applied.ON_RELOAD,
            inherited("proxy.timeout"),
            ConfigValues.DURATION,
            "overrides proxy.timeout",
            (b, n, s) -> b.route(n, s).timeout = ConfigValues.duration(s, false)),
    ROUTE_RETRIES(
            "route.NAME.retries",
            Applied.ON_RELOAD,
            inherited("proxy.retries"),
            ConfigValues.RETRIES,
            "overrides proxy.retries",
            (b, n, s) -> b.route(n, s).retries = ConfigValues.retries(s)),
    ROUTE_PER_TRY_TIMEOUT(
            "route.NAME.per-try-timeout",
            Applied.ON_RELOAD,
            inherited("proxy.per-try-timeout"),
            ConfigValues.DURATION,
            "overrides proxy.per-try-timeout",
            (b, n, s) -> b.route(n, s).perTryTimeout = ConfigValues.duration(s, false)),
    ROUTE_RETRY_ON(
            "route.NAME.retry-on",
            Applied.ON_RELOAD,
            inherited("proxy.retry-on"),
            ConfigValues.RETRY_ON,
            "overrides proxy.retry-on",
            (b, n, s) -> b.route(n, s).retryOn = ConfigValues.retryOn(s)),
    ROUTE_MAX_BODY_BYTES(
            "route.NAME.max-body-bytes",
            Applied.ON_RELOAD,
            inherited("proxy.max-body-bytes"),
            ConfigValues.BODY_BYTES,
            "overrides proxy.max-body-bytes",
            (b, n, s) -> b.route(n, s).maxBodyBytes = ConfigValues.bodyBytes(s)),
    ROUTE_CACHE(
            "route.NAME.cache",
            Applied.ON_RELOAD,
            value(true),
            ConfigValues.BOOLEAN,
            "false: the route bypasses the response cache; true needs cache.enabled=true",
            (b, n, s) -> {
                ConfigLoader.RouteDraft route = b.route(n, s);
                route.cache = ConfigValues.bool(s);
                route.cacheSetting = s;
            }),
    ROUTE_WEBSOCKET(
            "route.NAME.websocket",
            Applied.ON_RELOAD,
            value(true),
            ConfigValues.BOOLEAN,
            "true: a WebSocket upgrade becomes a byte tunnel on a 101; false: forwarded without Upgrade, as nginx"
                    + " (an HTTP/2 extended CONNECT, RFC 8441, gets 501)",
            (b, n, s) -> b.route(n, s).websocket = ConfigValues.bool(s)),
    ROUTE_MAX_TUNNELS(
            "route.NAME.max-tunnels",
            Applied.ON_RELOAD,
            note("proxy.max-tunnels alone"),
            ConfigValues.MAX_TUNNELS,
            "most WebSocket tunnels open at once on the route; past it an upgrade gets 503",
            (b, n, s) -> b.route(n, s).maxTunnels = ConfigValues.maxTunnels(s)),
    ROUTE_ALLOW(
            "route.NAME.allow",
            Applied.ON_RELOAD,
            note("everyone"),
            ConfigValues.CIDRS,
            "client IPs served, checked after security.allow: both must let the client in; 403 otherwise",
            (b, n, s) -> b.route(n, s).security.allow = ConfigValues.cidrs(s)),
    ROUTE_DENY(
            "route.NAME.deny",
            Applied.ON_RELOAD,
            note("none"),
            ConfigValues.CIDRS,
            "client IPs refused with 403, checked with security.deny",
            (b, n, s) -> b.route(n, s).security.deny = ConfigValues.cidrs(s)),
    ROUTE_RATE_LIMIT(
            "route.NAME.rate-limit",
            Applied.ON_RELOAD,
            note("none"),
            ConfigValues.ROUTE_RATE,
            "a token bucket of the route's own, taken on top of security.rate-limit; over it 429",
            (b, n, s) -> {
                ConfigLoader.RouteSecurityDraft draft = b.route(n, s).security;
                draft.limit.rate = ConfigValues.rate(s, true);
                draft.limit.rateSetting = s;
            }),
    ROUTE_RATE_LIMIT_BURST(
            "route.NAME.rate-limit-burst",
            Applied.ON_RELOAD,
            note("N of the rate"),
            ConfigValues.BURST,
            "the size of the route's bucket: requests a key may send at once",
            (b, n, s) -> b.route(n, s).security.limit.burst(s)),
    ROUTE_RATE_LIMIT_KEY(
            "route.NAME.rate-limit-key",
            Applied.ON_RELOAD,
            inherited("security.rate-limit-key"),
            ConfigValues.RATE_LIMIT_KEY,
            "what the route's buckets belong to",
            (b, n, s) -> b.route(n, s).security.limit.key(s)),
    ROUTE_AUTH(
            "route.NAME.auth",
            Applied.ON_RELOAD,
            value("none"),
            ConfigValues.AUTH,
            "basic (users file) or jwt (Bearer token checked against a JWKS file); a failure is 401",
            (b, n, s) -> b.route(n, s).security.auth(s).kind = ConfigValues.auth(s)),
    ROUTE_AUTH_REALM(
            "route.NAME.auth.realm",
            Applied.ON_RELOAD,
            value(AuthConfig.DEFAULT_REALM),
            ConfigValues.REALM,
            "realm in WWW-Authenticate",
            (b, n, s) -> b.route(n, s).security.auth(s).realm = ConfigValues.realm(s)),
    ROUTE_AUTH_USERS_FILE(
            "route.NAME.auth.users-file",
            Applied.ON_RELOAD,
            note("required by auth=basic"),
            ConfigValues.READABLE_FILE,
            "basic: user:bcrypt-hash lines, as htpasswd -B writes them",
            (b, n, s) -> b.route(n, s).security.auth(s).usersFile = ConfigValues.readableFile(s)),
    ROUTE_AUTH_JWKS_FILE(
            "route.NAME.auth.jwks-file",
            Applied.ON_RELOAD,
            note("required by auth=jwt"),
            ConfigValues.READABLE_FILE,
            "jwt: JSON Web Key Set with the RSA or EC public keys that sign tokens (no none, no HMAC)",
            (b, n, s) -> b.route(n, s).security.auth(s).jwksFile = ConfigValues.readableFile(s)),
    ROUTE_AUTH_ISSUER(
            "route.NAME.auth.issuer",
            Applied.ON_RELOAD,
            note("any"),
            ConfigValues.TEXT,
            "jwt: the iss a token must have",
            (b, n, s) -> b.route(n, s).security.auth(s).issuer = ConfigValues.text(s)),
    ROUTE_AUTH_AUDIENCE(
            "route.NAME.auth.audience",
            Applied.ON_RELOAD,
            note("any"),
            ConfigValues.TEXT,
            "jwt: a value aud must contain",
            (b, n, s) -> b.route(n, s).security.auth(s).audience = ConfigValues.text(s)),
    ROUTE_AUTH_CLAIMS_TO_HEADERS(
            "route.NAME.auth.claims-to-headers",
            Applied.ON_RELOAD,
            note("none"),
            ConfigValues.CLAIMS_TO_HEADERS,
            "jwt: claims passed to the backend as headers; the client's own headers of those names always go",
            (b, n, s) -> b.route(n, s).security.auth(s).claimsToHeaders = ConfigValues.claimsToHeaders(s)),
    ROUTE_AUTH_KEEP_AUTHORIZATION(
            "route.NAME.auth.keep-authorization",
            Applied.ON_RELOAD,
            value(false),
            ConfigValues.BOOLEAN,
            "true: forward the client's Authorization header, which an authenticating route removes otherwise",
            (b, n, s) -> b.route(n, s).security.auth(s).keepAuthorization = ConfigValues.bool(s)),

    // ---- cache.*: the response cache ----
    CACHE_ENABLED(
            "cache.enabled",
            Applied.ON_RESTART,
            value(false),
            ConfigValues.BOOLEAN,
            "true: the shared HTTP response cache (RFC 9111, Ehcache 3) is on; other cache keys need it set",
            (b, n, s) -> b.cache(s).enabled(ConfigValues.bool(s))),
    CACHE_HEAP_ENTRIES(
            "cache.heap-entries",
            Applied.ON_RESTART,
            value(CacheConfig.DEFAULT_HEAP_ENTRIES),
            CacheValues.LONG_AT_LEAST_1,
            "entries on the heap tier; heap-entries x max-entry-bytes bounds the heap it takes",
            (b, n, s) -> b.cache(s).heapEntries(CacheValues.longAtLeast(s, 1, CacheValues.LONG_AT_LEAST_1))),
    CACHE_OFF_HEAP_MB(
            "cache.off-heap-mb",
            Applied.ON_RESTART,
            value(0),
            CacheValues.LONG_AT_LEAST_0,
            "off-heap tier in MiB, 0 for none (needs -XX:MaxDirectMemorySize)",
            (b, n, s) -> b.cache(s).offHeapMb(CacheValues.longAtLeast(s, 0, CacheValues.LONG_AT_LEAST_0))),
    CACHE_DISK_MB(
            "cache.disk-mb",
            Applied.ON_RESTART,
            value(0),
            CacheValues.LONG_AT_LEAST_0,
            "disk tier in MiB, 0 for none; more than off-heap-mb when both are set; needs cache.disk-path",
            (b, n, s) -> {
                b.cache(s);
                b.cacheDiskMb = CacheValues.longAtLeast(s, 0, CacheValues.LONG_AT_LEAST_0);
            }),
    CACHE_DISK_PATH(
            "cache.disk-path",
            Applied.ON_RESTART,
            note("none"),
            CacheValues.FOLDER,
            "the disk tier's folder, owned by this cache alone",
            (b, n, s) -> {
                b.cache(s);
                b.cacheDiskPath = CacheValues.path(s);
            }),
    CACHE_DISK_PERSISTENT(
            "cache.disk-persistent",
            Applied.ON_RESTART,
            value(true),
            ConfigValues.BOOLEAN,
            "whether the disk tier survives a restart; needs cache.disk-mb > 0",
            (b, n, s) -> b.cache(s).persistent(ConfigValues.bool(s))),
    CACHE_MAX_ENTRY_BYTES(
            "cache.max-entry-bytes",
            Applied.ON_RESTART,
            value(CacheConfig.DEFAULT_MAX_ENTRY_BYTES),
            CacheValues.LONG_AT_LEAST_1,
            "largest body stored; a larger response streams through",
            (b, n, s) -> b.cache(s).maxEntryBytes(CacheValues.longAtLeast(s, 1, CacheValues.LONG_AT_LEAST_1))),
    CACHE_EHCACHE_XML(
            "cache.ehcache-xml",
            Applied.ON_RESTART,
            note("none"),
            CacheValues.FOLDER,
            "Ehcache XML with <cache-template name=\"proxy-filter\">, instead of off-heap-mb and disk-mb",
            (b, n, s) -> b.cache(s).ehcacheXml(CacheValues.path(s))),
    CACHE_COALESCE_TIMEOUT(
            "cache.coalesce-timeout",
            Applied.ON_RESTART,
            value(CacheConfig.DEFAULT_COALESCE_TIMEOUT),
            ConfigValues.DURATION,
            "how long identical misses wait for the first one's response; 0 turns coalescing off",
            (b, n, s) -> b.cache(s).coalesceTimeout(ConfigValues.duration(s, false))),
    CACHE_HEURISTIC_MAX(
            "cache.heuristic-max",
            Applied.ON_RESTART,
            value(CacheConfig.DEFAULT_MAX_HEURISTIC_FRESHNESS),
            ConfigValues.DURATION,
            "cap of heuristic freshness (10% of the age of Last-Modified); 0 turns it off",
            (b, n, s) -> b.cache(s).maxHeuristicFreshness(ConfigValues.duration(s, false))),
    CACHE_TARGETED_FIELD(
            "cache.targeted-field",
            Applied.ON_RESTART,
            note("none"),
            ConfigValues.HEADER_NAME,
            "own targeted cache-control field (RFC 9213, e.g. Proxy-Filter-Cache-Control), obeyed before CDN-Cache-Control",
            (b, n, s) -> b.cache(s).targetedField(ConfigValues.headerName(s))),
    CACHE_STRIP_TARGETED(
            "cache.strip-targeted",
            Applied.ON_RESTART,
            value(false),
            ConfigValues.BOOLEAN,
            "true: the targeted fields this cache obeys (own, CDN-Cache-Control) are removed from client responses",
            (b, n, s) -> b.cache(s).stripTargeted(ConfigValues.bool(s))),
    CACHE_STORE_SET_COOKIE(
            "cache.store-set-cookie",
            Applied.ON_RESTART,
            value(true),
            ConfigValues.BOOLEAN,
            "false: a response with Set-Cookie is never stored; true: stored with its cookie unless private or no-cache=\"set-cookie\"",
            (b, n, s) -> b.cache(s).storeSetCookie(ConfigValues.bool(s))),
    CACHE_NORMALISE_ACCEPT(
            "cache.normalise-accept",
            Applied.ON_RESTART,
            value(false),
            ConfigValues.BOOLEAN,
            "true: Accept-Language/Accept-Encoding values that mean the same (weights, order by weight) share a Vary variant",
            (b, n, s) -> b.cache(s).normaliseAccept(ConfigValues.bool(s))),
    CACHE_STORE(
            "cache.store",
            Applied.ON_RESTART,
            value(CacheConfig.Store.LOCAL.configName()),
            CacheValues.STORE,
            "shared: a second tier on the cluster (cluster.enabled) behind this instance's, read and written by all",
            (b, n, s) -> b.cache(s).store(CacheValues.store(s))),
    CACHE_SHARED_TIMEOUT(
            "cache.shared-timeout",
            Applied.ON_RESTART,
            value(CacheConfig.DEFAULT_SHARED_TIMEOUT),
            ConfigValues.POSITIVE_DURATION,
            "longest wait for the shared tier: past it a read is a miss, a write is skipped; needs cache.store=shared",
            (b, n, s) -> b.cache(s).sharedTimeout(ConfigValues.duration(s, true))),
    CACHE_NEAR_CACHE_ENTRIES(
            "cache.near-cache-entries",
            Applied.ON_RESTART,
            value(CacheConfig.DEFAULT_NEAR_CACHE_ENTRIES),
            CacheValues.NEAR_CACHE_ENTRIES,
            "hot shared entries kept on this instance's heap (Hazelcast near cache), 0 for none; needs cache.store=shared",
            (b, n, s) -> b.cache(s)
                    .nearCacheEntries(CacheValues.longAtMost(s, 0, Integer.MAX_VALUE, CacheValues.NEAR_CACHE_ENTRIES))),
    CACHE_SHARED_MB(
            "cache.shared-mb",
            Applied.ON_RESTART,
            value(CacheConfig.DEFAULT_SHARED_MB),
            CacheValues.SHARED_MB,
            "embedded: MiB of the shared tier each member holds, least recently used evicted; needs cache.store=shared",
            (b, n, s) -> b.cache(s).sharedMb(CacheValues.longAtMost(s, 1, Integer.MAX_VALUE, CacheValues.SHARED_MB))),

    // ---- cluster.*: several instances as one ----
    CLUSTER_ENABLED(
            "cluster.enabled",
            Applied.ON_RESTART,
            value(false),
            ConfigValues.BOOLEAN,
            "true: this instance joins a Hazelcast cluster of proxies (see cluster.mode); other cluster keys need it set",
            (b, n, s) -> b.cluster.with(s).enabled = ConfigValues.bool(s)),
    CLUSTER_MODE(
            "cluster.mode",
            Applied.ON_RESTART,
            value(ClusterConfig.Mode.EMBEDDED.configName()),
            ClusterSettings.MODE,
            "embedded: a member runs in this JVM; client: connect to an existing cluster, holding no data",
            (b, n, s) -> b.cluster.with(s).mode = ClusterSettings.mode(s)),
    CLUSTER_NAME(
            "cluster.name",
            Applied.ON_RESTART,
            value(ClusterConfig.DEFAULT_NAME),
            ClusterSettings.NAME,
            "only instances with the same cluster name form one cluster",
            (b, n, s) -> b.cluster.with(s).name = ClusterSettings.name(s)),
    CLUSTER_MEMBERS(
            "cluster.members",
            Applied.ON_RESTART,
            note("none: an embedded member starts alone until others join it"),
            ClusterSettings.MEMBERS,
            "members to join over TCP-IP (no multicast), port default 5701; a client needs at least one",
            (b, n, s) -> b.cluster.with(s).members = ClusterSettings.members(s)),
    CLUSTER_PORT(
            "cluster.port",
            Applied.ON_RESTART,
            value(ClusterConfig.DEFAULT_PORT),
            ClusterSettings.PORT,
            "embedded: the member's port, which must be free (no auto-increment)",
            (b, n, s) -> b.cluster.with(s).port = ClusterSettings.port(s)),
    CLUSTER_INTERFACE(
            "cluster.interface",
            Applied.ON_RESTART,
            note("none: every interface, one announced"),
            ClusterSettings.INTERFACE,
            "embedded: the interface the member binds to and announces to the others",
            (b, n, s) -> b.cluster.with(s).bindInterface = ClusterSettings.bindInterface(s)),
    CLUSTER_HAZELCAST_XML(
            "cluster.hazelcast-xml",
            Applied.ON_RESTART,
            note("none"),
            ClusterSettings.XML,
            "a whole Hazelcast member (embedded) or client (client) configuration, instead of name, members, port"
                    + " and interface",
            (b, n, s) -> b.cluster.with(s).hazelcastXml = ClusterSettings.hazelcastXml(s)),
    CLUSTER_RATE_LIMITS(
            "cluster.rate-limits",
            Applied.ON_RESTART,
            value(ClusterConfig.RateLimitScope.CLUSTER.configName()),
            ClusterSettings.RATE_LIMITS,
            "cluster: one token bucket per key for all instances (10/s is 10/s in all); node: a bucket per instance",
            (b, n, s) -> b.cluster.with(s).rateLimits = ClusterSettings.rateLimits(s)),
    CLUSTER_RATE_LIMIT_TIMEOUT(
            "cluster.rate-limit-timeout",
            Applied.ON_RESTART,
            value(ClusterConfig.DEFAULT_RATE_LIMIT_TIMEOUT),
            ClusterSettings.RATE_LIMIT_TIMEOUT,
            "longest wait for the cluster's bucket; past it, or when the cluster fails, this instance's own bucket"
                    + " decides (for 1 s)",
            (b, n, s) -> b.cluster.with(s).rateLimitTimeout = ConfigValues.duration(s, true)),

    // ---- reload.*: reloading the configuration file ----
    RELOAD_WATCH(
            "reload.watch",
            Applied.ON_RESTART,
            value(ReloadConfig.DEFAULT.watch()),
            ConfigValues.BOOLEAN,
            "true: a change of the properties file reloads it (SIGHUP and POST /api/reload work either way)",
            (b, n, s) -> b.reloadWatch = ConfigValues.bool(s)),
    RELOAD_DEBOUNCE(
            "reload.debounce",
            Applied.ON_RESTART,
            value(ReloadConfig.DEFAULT.debounce()),
            ConfigValues.POSITIVE_DURATION,
            "how long the watched file must stay unchanged before it is read again",
            (b, n, s) -> b.reloadDebounce = ConfigValues.duration(s, true)),

    // ---- security.*: client identity, access rules, rate limits, response headers ----
    SECURITY_TRUSTED_PROXIES(
            "security.trusted-proxies",
            Applied.ON_RELOAD,
            note("none"),
            ConfigValues.CIDRS,
            "peers whose X-Forwarded-For (or Forwarded) is believed; the client IP is the last untrusted hop",
            (b, n, s) -> b.security.trustedProxies = ConfigValues.cidrs(s)),
    SECURITY_CLIENT_IP_HEADER(
            "security.client-ip-header",
            Applied.ON_RELOAD,
            value(SecurityConfig.ClientIpHeader.X_FORWARDED_FOR.configName()),
            ConfigValues.CLIENT_IP_HEADER,
            "the chain the trusted proxies maintain; needs security.trusted-proxies",
            (b, n, s) -> b.security.clientIpHeader = ConfigValues.clientIpHeader(s)),
    SECURITY_ALLOW(
            "security.allow",
            Applied.ON_RELOAD,
            note("everyone"),
            ConfigValues.CIDRS,
            "when set, only client IPs in it are served, 403 otherwise",
            (b, n, s) -> b.security.allow = ConfigValues.cidrs(s)),
    SECURITY_DENY(
            "security.deny",
            Applied.ON_RELOAD,
            note("none"),
            ConfigValues.CIDRS,
            "client IPs refused with 403, whatever an allow list says",
            (b, n, s) -> b.security.deny = ConfigValues.cidrs(s)),
    SECURITY_RATE_LIMIT(
            "security.rate-limit",
            Applied.ON_RELOAD,
            note("none"),
            ConfigValues.RATE,
            "a token bucket per key for every route; over it 429 with Retry-After",
            (b, n, s) -> b.security.limit.rate = ConfigValues.rate(s, false)),
    SECURITY_RATE_LIMIT_BURST(
            "security.rate-limit-burst",
            Applied.ON_RELOAD,
            note("N of the rate"),
            ConfigValues.BURST,
            "the bucket's size: requests a key may send at once",
            (b, n, s) -> b.security.limit.burst(s)),
    SECURITY_RATE_LIMIT_KEY(
            "security.rate-limit-key",
            Applied.ON_RELOAD,
            value("client-ip"),
            ConfigValues.RATE_LIMIT_KEY,
            "what a bucket belongs to; a request without the header counts by client IP",
            (b, n, s) -> b.security.limit.key(s)),
    SECURITY_RATE_LIMIT_MAX_KEYS(
            "security.rate-limit-max-keys",
            Applied.ON_RELOAD,
            value(SecurityConfig.DEFAULT_RATE_LIMIT_MAX_KEYS),
            ConfigValues.MAX_KEYS,
            "most buckets each rate limit keeps, the least recently used evicted past it; needs a rate limit",
            (b, n, s) -> b.security.maxKeys = ConfigValues.maxKeys(s)),
    SECURITY_MAX_CONCURRENT_PER_CLIENT(
            "security.max-concurrent-per-client",
            Applied.ON_RELOAD,
            value(0),
            ConfigValues.MAX_CONCURRENT,
            "most requests in flight per client IP; past it 429",
            (b, n, s) -> b.security.maxConcurrent = ConfigValues.maxConcurrent(s)),
    SECURITY_STRIP_REQUEST_HEADERS(
            "security.strip-request-headers",
            Applied.ON_RELOAD,
            value(String.join(",", SecurityConfig.DEFAULT_STRIP_REQUEST_HEADERS)),
            ConfigValues.HEADER_NAMES,
            "request headers dropped from clients outside security.trusted-proxies (unkeyed, so a cache poisoning risk); empty for none",
            (b, n, s) -> b.security.stripRequestHeaders = ConfigValues.headerNames(s)),
    SECURITY_STRIP_RESPONSE_HEADERS(
            "security.strip-response-headers",
            Applied.ON_RELOAD,
            note("none"),
            ConfigValues.HEADER_NAMES,
            "backend response headers removed, on top of Server and X-Powered-By, which always go",
            (b, n, s) -> b.security.stripResponseHeaders = ConfigValues.headerNames(s)),
    SECURITY_RESPONSE_HEADER(
            "security.response-headers.NAME",
            Applied.ON_RELOAD,
            note("none"),
            ConfigValues.HEADER_VALUE,
            "header NAME set to this value on every response, replacing the backend's",
            (b, n, s) -> b.security.responseHeader(n.get(0), s)),
    SECURITY_HSTS(
            "security.hsts",
            Applied.ON_RELOAD,
            note("none"),
            ConfigValues.HSTS,
            "Strict-Transport-Security sent to https clients only; empty for none",
            (b, n, s) -> b.security.hsts = ConfigValues.hsts(s));

    /** When a changed value takes effect. */
    public enum Applied {
        /** A reload applies it to new requests. */
        ON_RELOAD,
        /** The running listeners, clients or cache were built from it: a reload reports it, a restart applies it. */
        ON_RESTART
    }

    /** What the loader does with a setting of this key: parse the value and store it in the drafts. */
    @FunctionalInterface
    interface Action {
        /**
         * @param builder the loader's drafts
         * @param names   the values at the key's {@code NAME} positions, outermost first, already checked
         * @param setting the setting, whose value the action parses
         * @throws ConfigException for a bad value
         */
        void apply(ConfigLoader.Builder builder, List<String> names, Setting setting);
    }

    /**
     * A key's default as the reference shows it.
     *
     * @param value the literal value the key takes when unset, or {@code null} when there is none (a required
     *              key, "none", or a value inherited from another key)
     * @param text  how the reference shows it
     */
    record Default(String value, String text) {}

    /** What a pool, backend, route or demo backend name (or a header in security.response-headers.NAME) may contain. */
    static final Pattern NAME_PATTERN = Pattern.compile("[A-Za-z0-9_-]+");

    private static final String NAME = "NAME";
    // The suggestion only needs the start of a key; this bounds its cost for absurd keys.
    private static final int MAX_SUGGEST_SEGMENTS = 12;
    private static final int MAX_SUGGEST_SEGMENT_LENGTH = 32;

    private final String template;
    private final String[] segments;
    private final Applied applied;
    private final Default defaultValue;
    private final String expected;
    private final String doc;
    private final Action action;

    ConfigKey(String template, Applied applied, Default defaultValue, String expected, String doc, Action action) {
        this.template = template;
        this.segments = template.split("\\.");
        this.applied = applied;
        this.defaultValue = defaultValue;
        this.expected = expected;
        this.doc = doc;
        this.action = action;
    }

    /** The documented form, e.g. {@code pool.NAME.backend.NAME.weight}. */
    public String template() {
        return template;
    }

    /** Whether a reload applies a change of this key, or only a restart does. */
    public Applied applied() {
        return applied;
    }

    /**
     * The value the key takes when it is not set, as it would be written in a file, e.g. {@code 5s}; empty
     * when there is none: the key is required, off by default, or inherits another key's value.
     */
    public Optional<String> defaultValue() {
        return Optional.ofNullable(defaultValue.value());
    }

    /** The default as the reference shows it: the value, or what applies instead, e.g. {@code none}. */
    public String defaultText() {
        return defaultValue.text();
    }

    /** The values the key accepts, in the words of its {@code (expected: ...)} error message. */
    public String expected() {
        return expected;
    }

    /** One line of documentation. */
    public String doc() {
        return doc;
    }

    /** Parses the setting's value and stores it in the loader's drafts. */
    void apply(ConfigLoader.Builder builder, List<String> names, Setting setting) {
        action.apply(builder, names, setting);
    }

    /**
     * The keys a reload cannot change, as patterns such as {@code server.*}: for each key that needs a
     * restart, the shortest prefix of whole segments under which every key needs one. The engine reports
     * a reload that changes one of these and keeps running with the old value.
     */
    public static List<String> restartOnly() {
        List<String> patterns = new ArrayList<>();
        for (ConfigKey key : values()) {
            if (key.applied != Applied.ON_RESTART) {
                continue;
            }
            String prefix = "";
            for (String segment : key.segments) {
                prefix += segment + ".";
                String group = prefix;
                boolean allRestart = Arrays.stream(values())
                        .filter(other -> other.template.startsWith(group))
                        .allMatch(other -> other.applied == Applied.ON_RESTART);
                if (allRestart) {
                    break;
                }
            }
            // A key with no all-restart group above it stands for itself.
            String pattern = prefix.length() > key.template.length() ? key.template : prefix + "*";
            if (!patterns.contains(pattern)) {
                patterns.add(pattern);
            }
        }
        return List.copyOf(patterns);
    }

    // ---- Defaults, as the declarations above write them ----

    /** A literal default. */
    private static Default value(Object value) {
        String text = value instanceof Duration duration ? durationText(duration) : String.valueOf(value);
        return new Default(text, text);
    }

    /** No literal default; {@code text} says what applies instead, e.g. {@code none} or {@code required}. */
    private static Default note(String text) {
        return new Default(null, Objects.requireNonNull(text));
    }

    /** The value of another key. */
    private static Default inherited(String key) {
        return new Default(null, key);
    }

    /** A duration as a file would write it: {@code 0}, {@code 300ms}, {@code 5s}, {@code 2m}, {@code 24h}. */
    static String durationText(Duration duration) {
        long millis = duration.toMillis();
        if (millis == 0) {
            return "0";
        }
        if (millis % 3_600_000 == 0) {
            return millis / 3_600_000 + "h";
        }
        if (millis % 60_000 == 0) {
            return millis / 60_000 + "m";
        }
        if (millis % 1_000 == 0) {
            return millis / 1_000 + "s";
        }
        return millis + "ms";
    }

    /** In declaration order: the default set may be a {@code Set.of}, whose order changes between runs. */
    private static String retryOnText(Set<RetryConfig.RetryOn> conditions) {
        return conditions.isEmpty()
                ? "none"
                : String.join(
                        ",",
                        EnumSet.copyOf(conditions).stream()
                                .map(RetryConfig.RetryOn::configName)
                                .toList());
    }

    // ---- Matching keys to templates ----

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
