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
 * Every key is declared once, in {@link ConfigKey}: its name, default, accepted values, whether a reload
 * applies it, one line of documentation, and the action that parses a value into this loader's drafts.
 * The reference generated from it is {@code docs/configuration.md} ({@link ConfigReference}), which also
 * lists the rules between keys; {@code config/proxy.properties} is a commented sample that names every key.
 *
 * <p>Loading has two steps: each setting is first checked on its own (the key exists, its
 * names are valid, its value parses) and stored; then the keys are checked against each
 * other and the immutable records are built. Unknown keys are errors, so that a typo is never silently
 * ignored; for the same reason a properties file may set each key only once ({@link ConfigSource#ofFile}).
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

    /** The {@code expected} of a key that only the response cache uses, while it is off. */
    static final String CACHE_ON = "cache.enabled=true too; the response cache is off";

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
        int retryBudget = ProxyConfig.DEFAULT_RETRY_BUDGET_PERCENT;
        int maxHeaderBytes = ServerConfig.DEFAULT_MAX_HEADER_BYTES;
        int maxUriBytes = ServerConfig.DEFAULT_MAX_URI_BYTES;
        Duration headerTimeout = ServerConfig.DEFAULT_HEADER_TIMEOUT;
        Duration serverIdleTimeout = ServerConfig.DEFAULT_IDLE_TIMEOUT;
        Duration shutdownTimeout = ServerConfig.DEFAULT_SHUTDOWN_TIMEOUT;
        boolean reusePort;
        boolean h2c = true;
        boolean fastPath = ServerConfig.DEFAULT_FAST_PATH;
        Setting keystore;
        Setting keystorePassword;
        Setting redirectPort;
        int maxHeaderCount = RequestLimits.DEFAULT_MAX_HEADER_COUNT;
        long maxBodyBytes = RequestLimits.DEFAULT_MAX_BODY_BYTES;
        Duration bodyTimeout = RequestLimits.DEFAULT.bodyTimeout();
        Duration websocketIdleTimeout = WebSocketConfig.DEFAULT_IDLE_TIMEOUT;
        int maxTunnels = WebSocketConfig.DEFAULT_MAX_TUNNELS;
        Setting truststore;
        Setting truststorePassword;
        boolean verifyHostname = UpstreamTlsConfig.DEFAULT.verifyHostname();
        String adminHost = AdminConfig.DEFAULT_HOST;
        int adminPort = AdminConfig.DEFAULT_PORT;
        String adminToken;
        AccessLogFormat accessLog = AccessLogFormat.COMBINED;
        AccessLogTarget accessLogTarget = AccessLogTarget.LOGGER;
        boolean reloadWatch = ReloadConfig.DEFAULT.watch();
        Duration reloadDebounce = ReloadConfig.DEFAULT.debounce();
        final Map<String, PoolDraft> pools = new TreeMap<>();
        final Map<String, RouteDraft> routes = new TreeMap<>();
        final Map<String, DemoDraft> demos = new TreeMap<>();
        final SecurityDraft security = new SecurityDraft();
        /** The {@code cache.*} settings in the order they were accepted, to name their sources in errors. */
        final Map<String, Setting> cacheSettings = new LinkedHashMap<>();

        final CacheConfig.Builder cache = CacheConfig.builder().enabled(false);
        /** The {@code cluster.*} settings. */
        final ClusterSettings.Draft cluster = new ClusterSettings.Draft();

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
            ClusterConfig clusterConfig = cluster.build();
            CacheConfig cacheConfig = buildCache(clusterConfig);
            Map<String, PoolConfig> poolConfigs = new LinkedHashMap<>();
            pools.forEach((name, pool) -> poolConfigs.put(name, buildPool(name, pool)));

            List<RouteConfig> routeConfigs = new ArrayList<>();
            Map<String, String> routeByHostAndPath = new HashMap<>();
            Map<String, RouteSecurityConfig> routeSecurity = new TreeMap<>();
            routes.forEach((name, route) -> {
                RouteConfig config = buildRoute(name, route, cacheConfig.enabled());
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

            checkSecurity(routeSecurity);

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
                            shutdownTimeout,
                            reusePort,
                            h2c,
                            fastPath),
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
                    new ReloadConfig(reloadWatch, reloadDebounce),
                    new WebSocketConfig(websocketIdleTimeout, maxTunnels),
                    clusterConfig,
                    accessLogTarget);
        }

        /**
         * {@code cache.*}: the other keys only once {@code cache.enabled} is set (an explicit {@code false} keeps
         * them, switched off), {@code disk-persistent} only with a disk tier, the {@code shared-*} keys only with
         * {@code cache.store=shared}, which needs a cluster; the record checks the tiers against each other.
         */
        private CacheConfig buildCache(ClusterConfig clusterConfig) {
            Setting enabled = cacheSettings.get("cache.enabled");
            if (enabled == null && !cacheSettings.isEmpty()) {
                throw cacheSettings.values().iterator().next().invalid(CACHE_ON);
            }
            CacheConfig config = CacheValues.build(cache.disk(cacheDiskMb, cacheDiskPath), cacheSettings);
            Setting persistent = cacheSettings.get("cache.disk-persistent");
            if (persistent != null && !config.hasDiskTier()) {
                throw persistent.invalid("cache.disk-mb > 0 too; there is no disk tier to persist");
            }
            if (config.store() == CacheConfig.Store.LOCAL) {
                for (String key : List.of("cache.shared-timeout", "cache.near-cache-entries", "cache.shared-mb")) {
                    Setting sharedOnly = cacheSettings.get(key);
                    if (sharedOnly != null) {
                        throw sharedOnly.invalid("cache.store=shared too; cache.store is local");
                    }
                }
            } else if (config.enabled() && !clusterConfig.enabled()) {
                throw cacheSettings
                        .get("cache.store")
                        .invalid("local, or cluster.enabled=true too; there is no cluster to share the cache with");
            }
            return config;
        }

        /**
         * {@code security.client-ip-header} only once trusted proxies are set, since it names their chain;
         * {@code security.rate-limit-max-keys} only with a rate limit, whose buckets it counts.
         */
        private void checkSecurity(Map<String, RouteSecurityConfig> routeSecurity) {
            Setting header = accepted.get("security.client-ip-header");
            if (header != null && accepted.get("security.trusted-proxies") == null) {
                throw header.invalid(
                        "security.trusted-proxies too; without trusted proxies the client IP is the peer's address");
            }
            Setting maxKeys = accepted.get("security.rate-limit-max-keys");
            if (maxKeys != null
                    && security.limit.rate == null
                    && routeSecurity.values().stream().allMatch(route -> route.rateLimit() == null)) {
                throw maxKeys.invalid(
                        "security.rate-limit or a route.NAME.rate-limit too; there is no rate limit to keep buckets for");
            }
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
            if (pool.strategy == StrategyName.CONSISTENT_HASH && pool.hashKey == null) {
                throw new ConfigException(
                        "pool." + name + ".hash-key",
                        null,
                        ConfigValues.HASH_KEY + ", required by strategy consistent-hash",
                        groupSource(pool.settings));
            }
            if (pool.strategy != StrategyName.CONSISTENT_HASH && pool.hashKey != null) {
                throw pool.hashKeySetting.invalid("no hash-key, which only strategy consistent-hash uses; pool." + name
                        + ".strategy is " + pool.strategy.configName());
            }
            checkWeightsAreUsed(name, pool);
            checkQueue(name, pool);
            return new PoolConfig(
                    name,
                    pool.strategy,
                    backends,
                    pool.hashKey,
                    pool.sticky,
                    pool.maxPending,
                    pool.queueTimeout,
                    buildHealth(name, pool),
                    new UpstreamProtocol(pool.protocol, pool.h2MaxConnections, pool.h2MaxStreams));
        }

        /**
         * Weights other than 0 and 1, and slow start (a ramp of weights), only with a strategy that reads
         * weights: round-robin ignores them, and consistent-hash ignores the ramp.
         */
        private static void checkWeightsAreUsed(String name, PoolDraft pool) {
            String state = "pool." + name + ".strategy is " + pool.strategy.configName() + ", which ignores them";
            if (pool.strategy == StrategyName.ROUND_ROBIN) {
                for (BackendDraft backend : pool.backends.values()) {
                    if (backend.weight > 1) {
                        throw backend.weightSetting.invalid("0 or 1, or a strategy that uses weights; " + state);
                    }
                }
            }
            Setting slowStart = pool.setting("pool." + name + ".slow-start");
            if (!pool.slowStart.isZero()
                    && (pool.strategy == StrategyName.ROUND_ROBIN || pool.strategy == StrategyName.CONSISTENT_HASH)) {
                throw slowStart.invalid("0, or a strategy that ramps weights up; pool." + name + ".strategy is "
                        + pool.strategy.configName() + ", which ignores the ramp");
            }
        }

        /**
         * {@code queue-timeout} only once {@code max-pending} is set, and a queue only with a backend that can be
         * full: without a {@code max-connections} no request ever waits.
         */
        private static void checkQueue(String name, PoolDraft pool) {
            String prefix = "pool." + name + ".";
            Setting queueTimeout = pool.setting(prefix + "queue-timeout");
            if (queueTimeout != null && pool.setting(prefix + "max-pending") == null) {
                throw queueTimeout.invalid(prefix + "max-pending > 0 too; without a queue no request waits");
            }
            if (pool.maxPending > 0
                    && pool.backends.values().stream().allMatch(backend -> backend.maxConnections == 0)) {
                throw pool.setting(prefix + "max-pending")
                        .invalid(prefix + "backend.NAME.max-connections > 0 too; no backend of the pool is ever full");
            }
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
            ActiveCheckConfig check = pool.healthPath == null
                    ? null
                    : new ActiveCheckConfig(
                            pool.healthPath, pool.interval, pool.timeout, pool.expectedStatus, pool.rise, pool.fall);
            return new HealthConfig(
                    check,
                    new OutlierConfig(pool.consecutiveFailures, pool.baseEjectionTime, pool.maxEjectionPercent),
                    pool.panicThreshold,
                    pool.slowStart);
        }

        private RouteConfig buildRoute(String name, RouteDraft route, boolean cacheEnabled) {
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
            if (route.cache == Boolean.TRUE && !cacheEnabled) {
                throw route.cacheSetting.invalid(CACHE_ON);
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
                    route.cache == null || route.cache, // the cache applies only with cache.enabled
                    route.websocket == null || route.websocket,
                    route.maxTunnels == null ? 0 : route.maxTunnels);
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
        StrategyName strategy = StrategyName.WEIGHTED_ROUND_ROBIN;
        HashKey hashKey;
        Setting hashKeySetting;
        StickyConfig sticky;
        int maxPending = PoolConfig.DEFAULT_MAX_PENDING;
        Duration queueTimeout = PoolConfig.DEFAULT_QUEUE_TIMEOUT;
        UpstreamProtocol.Kind protocol = UpstreamProtocol.Kind.HTTP_1_1;
        int h2MaxConnections = UpstreamProtocol.DEFAULT_MAX_CONNECTIONS;
        int h2MaxStreams = UpstreamProtocol.DEFAULT_MAX_STREAMS;
        // Health: active checks, outlier ejection, panic mode, slow start.
        String healthPath;
        /** The first {@code health.*} setting other than the path, which needs the path. */
        Setting healthSetting;

        Duration interval = ActiveCheckConfig.DEFAULT_INTERVAL;
        Duration timeout = ActiveCheckConfig.DEFAULT_TIMEOUT;
        ActiveCheckConfig.StatusRange expectedStatus = ActiveCheckConfig.DEFAULT_EXPECTED_STATUS;
        int rise = ActiveCheckConfig.DEFAULT_RISE;
        int fall = ActiveCheckConfig.DEFAULT_FALL;
        int consecutiveFailures = OutlierConfig.DEFAULT_CONSECUTIVE_FAILURES;
        Duration baseEjectionTime = OutlierConfig.DEFAULT_BASE_EJECTION_TIME;
        int maxEjectionPercent = OutlierConfig.DEFAULT_MAX_EJECTION_PERCENT;
        int panicThreshold = HealthConfig.DEFAULT_PANIC_THRESHOLD_PERCENT;
        Duration slowStart = HealthConfig.DEFAULT_SLOW_START;

        /** The pool's own setting of {@code key}, or null; backend settings are among them too. */
        Setting setting(String key) {
            for (Setting setting : settings) {
                if (setting.key().equals(key)) {
                    return setting;
                }
            }
            return null;
        }
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
        Boolean websocket;
        Integer maxTunnels;
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
        List<String> stripRequestHeaders = SecurityConfig.DEFAULT_STRIP_REQUEST_HEADERS;
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
                    routes,
                    stripRequestHeaders);
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
