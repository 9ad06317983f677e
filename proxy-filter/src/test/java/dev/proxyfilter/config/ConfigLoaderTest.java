package dev.proxyfilter.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigLoaderTest {
    private static final ClassLoader LOADER = ConfigLoaderTest.class.getClassLoader();
    private static final String WEB_XML = "WEB-INF/web.xml init-param";

    private static final Map<String, String> MINIMAL = Map.of(
            "pool.web.backend.a.url", "http://127.0.0.1:9001",
            "route.main.path", "/",
            "route.main.pool", "web");

    @Test
    void fullConfigRoundTripsIntoTheRecords() {
        ProxyConfig config = ConfigLoader.load(List.of(ConfigSource.ofResource(LOADER, "config/full.properties")));

        ProxyConfig expected = new ProxyConfig(
                new ServerConfig("127.0.0.1", 18080),
                Map.of(
                        "web",
                                new PoolConfig(
                                        "web",
                                        StrategyName.RANDOM,
                                        List.of(
                                                new BackendConfig("a", URI.create("http://127.0.0.1:9001"), 3),
                                                new BackendConfig(
                                                        "b", URI.create("https://backend-b.example.com"), 0, true)),
                                        null,
                                        new StickyConfig("SERVERID"),
                                        new HealthConfig(
                                                new ActiveCheckConfig(
                                                        "/health?full=1",
                                                        Duration.ofSeconds(10),
                                                        Duration.ofMillis(500),
                                                        new ActiveCheckConfig.StatusRange(200, 299),
                                                        1,
                                                        4),
                                                new OutlierConfig(0, Duration.ofMinutes(1), 100),
                                                0,
                                                Duration.ofSeconds(20))),
                        "api",
                                new PoolConfig(
                                        "api",
                                        StrategyName.CONSISTENT_HASH,
                                        List.of(new BackendConfig("only", URI.create("http://[::1]:9100"), 1)),
                                        HashKey.header("X-User"),
                                        null)),
                List.of(
                        new RouteConfig(
                                "api",
                                "api.example.com",
                                "/api",
                                "api",
                                true,
                                false,
                                Duration.ofMillis(250),
                                Duration.ofSeconds(10),
                                Duration.ZERO),
                        new RouteConfig(
                                "main",
                                null,
                                "/",
                                "web",
                                false,
                                true,
                                Duration.ofSeconds(2),
                                Duration.ofMinutes(1),
                                Duration.ofHours(1)),
                        new RouteConfig(
                                "static",
                                null,
                                "/static",
                                "web",
                                false,
                                true,
                                Duration.ofSeconds(2),
                                Duration.ofMinutes(1),
                                Duration.ofSeconds(30))),
                new DemoConfig(Map.of("a", 9001, "b", 9002)),
                "edge-1",
                List.of("classpath:config/full.properties"));
        assertThat(config).isEqualTo(expected);
        // Equality of lists checks order too: routes by name, backends by name.
        assertThat(config.routes()).extracting(RouteConfig::name).containsExactly("api", "main", "static");
        assertThat(config.pools().get("web").backends())
                .extracting(BackendConfig::name)
                .containsExactly("a", "b");
    }

    @Test
    void defaultsApplyToEveryKeyLeftOut() {
        ProxyConfig config = ConfigLoader.load(List.of(new ConfigSource("minimal", MINIMAL)));

        assertThat(config.server()).isEqualTo(new ServerConfig("0.0.0.0", 8080));
        assertThat(config.via()).isEqualTo("proxy-filter");
        assertThat(config.demo()).isEqualTo(DemoConfig.none());
        assertThat(config.pools())
                .containsExactly(Map.entry(
                        "web",
                        new PoolConfig(
                                "web",
                                StrategyName.WEIGHTED_ROUND_ROBIN,
                                List.of(new BackendConfig("a", URI.create("http://127.0.0.1:9001"), 1)))));
        assertThat(config.routes())
                .containsExactly(new RouteConfig(
                        "main",
                        null,
                        "/",
                        "web",
                        false,
                        true,
                        Duration.ofSeconds(5),
                        Duration.ofSeconds(30),
                        Duration.ZERO));
        assertThat(config.sources()).containsExactly("minimal");
    }

    @Test
    void routesInheritProxyTimeoutsUnlessTheyOverrideThem() {
        Map<String, String> entries = new HashMap<>(MINIMAL);
        entries.putAll(Map.of(
                "proxy.connect-timeout", "1500ms",
                "proxy.idle-timeout", "2m",
                "proxy.timeout", "10s",
                "route.fast.path", "/fast",
                "route.fast.pool", "web",
                "route.fast.idle-timeout", "3s",
                "route.fast.timeout", "0"));

        ProxyConfig config = ConfigLoader.load(List.of(new ConfigSource("test", entries)));

        RouteConfig main = config.routes().get(1);
        assertThat(main.name()).isEqualTo("main");
        assertThat(main.connectTimeout()).isEqualTo(Duration.ofMillis(1500));
        assertThat(main.idleTimeout()).isEqualTo(Duration.ofMinutes(2));
        assertThat(main.timeout()).isEqualTo(Duration.ofSeconds(10));
        RouteConfig fast = config.routes().get(0);
        assertThat(fast.name()).isEqualTo("fast");
        assertThat(fast.connectTimeout()).isEqualTo(Duration.ofMillis(1500));
        assertThat(fast.idleTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(fast.timeout()).isEqualTo(Duration.ZERO);
    }

    @Test
    void limitsAndRetriesLoadWithProxyDefaultsAndRouteOverrides() {
        Map<String, String> entries = new HashMap<>(MINIMAL);
        entries.putAll(Map.of(
                "proxy.retries", "2",
                "proxy.per-try-timeout", "250ms",
                "proxy.retry-on", "connect-failure, 503",
                "proxy.retry-budget", "35",
                "pool.web.backend.a.max-connections", "64",
                "pool.web.max-pending", "100",
                "pool.web.queue-timeout", "2s",
                "route.fast.path", "/fast",
                "route.fast.pool", "web",
                "route.fast.retry-on", "none"));
        entries.put("route.fast.retries", "0");

        ProxyConfig config = ConfigLoader.load(List.of(new ConfigSource("test", entries)));

        assertThat(config.retryBudgetPercent()).isEqualTo(35);
        PoolConfig web = config.pools().get("web");
        assertThat(web.maxPending()).isEqualTo(100);
        assertThat(web.queueTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(web.backends().get(0).maxConnections()).isEqualTo(64);
        RouteConfig main = config.routes().get(1);
        assertThat(main.retry())
                .isEqualTo(new RetryConfig(
                        2,
                        Duration.ofMillis(250),
                        java.util.EnumSet.of(RetryConfig.RetryOn.CONNECT_FAILURE, RetryConfig.RetryOn.STATUS_503)));
        RouteConfig fast = config.routes().get(0);
        assertThat(fast.retry()).isEqualTo(new RetryConfig(0, Duration.ofMillis(250), java.util.Set.of()));
    }

    @Test
    void limitsAndRetriesDefaults() {
        ProxyConfig config = ConfigLoader.load(List.of(new ConfigSource("minimal", MINIMAL)));
        assertThat(config.retryBudgetPercent()).isEqualTo(20);
        assertThat(config.routes().get(0).retry()).isEqualTo(RetryConfig.DEFAULT);
        assertThat(config.pools().get("web").maxPending()).isZero();
        assertThat(config.pools().get("web").backends().get(0).maxConnections()).isZero();
    }

    @Test
    void laterSourcesOverrideEarlierOnesKeyByKey() {
        ConfigSource file = ConfigSource.ofResource(LOADER, "config/full.properties");
        ConfigSource webXml = new ConfigSource(
                WEB_XML,
                Map.of(
                        "server.port", "9000",
                        "pool.web.backend.a.weight", "5",
                        "route.main.path", "/app"));
        Properties system = new Properties();
        system.setProperty("proxyfilter.server.port", "9090");
        system.setProperty("proxyfilter.route.api.timeout", "5s");
        system.setProperty("user.home", "/home/someone");

        ProxyConfig config = ConfigLoader.load(List.of(file, webXml, ConfigSource.ofSystemProperties(system)));

        assertThat(config.server()).isEqualTo(new ServerConfig("127.0.0.1", 9090));
        assertThat(config.pools().get("web").backends().get(0).weight()).isEqualTo(5);
        assertThat(config.pools().get("web").backends().get(1).weight()).isEqualTo(0);
        assertThat(config.routes())
                .extracting(RouteConfig::name, RouteConfig::path, RouteConfig::timeout)
                .containsExactly(
                        tuple("api", "/api", Duration.ofSeconds(5)),
                        tuple("main", "/app", Duration.ofHours(1)),
                        tuple("static", "/static", Duration.ofSeconds(30)));
        assertThat(config.sources()).containsExactly("classpath:config/full.properties", WEB_XML, "system property");
    }

    @Test
    void anErrorNamesTheSourceOfTheWinningValue() {
        ConfigSource file = new ConfigSource("config/proxy.properties", MINIMAL);
        Properties system = new Properties();
        system.setProperty("proxyfilter.server.port", "http");

        assertThatThrownBy(() -> ConfigLoader.load(List.of(file, ConfigSource.ofSystemProperties(system))))
                .isInstanceOf(ConfigException.class)
                .hasMessage("server.port: http (expected: integer 0..65535) [system property proxyfilter.server.port]")
                .satisfies(e -> {
                    ConfigException error = (ConfigException) e;
                    assertThat(error.key()).isEqualTo("server.port");
                    assertThat(error.source()).isEqualTo("system property proxyfilter.server.port");
                });
    }

    @Test
    void aValueOverriddenByALaterSourceIsNotChecked() {
        ConfigSource file = new ConfigSource("file", Map.of("server.port", "-1"));
        ConfigSource override = new ConfigSource("override", Map.of("server.port", "0"));

        assertThat(ConfigLoader.load(List.of(file, override)).server().port()).isZero();
    }

    @Test
    void aMissingKeyIsBlamedOnTheSourceThatDefinedItsGroup() {
        ConfigSource webXml = new ConfigSource(
                WEB_XML,
                Map.of(
                        "pool.web.backend.a.url", "http://127.0.0.1:9001",
                        "pool.web.backend.c.weight", "2"));
        Properties system = new Properties();
        system.setProperty("proxyfilter.pool.web.backend.c.weight", "4");

        assertThatThrownBy(() -> ConfigLoader.load(List.of(webXml, ConfigSource.ofSystemProperties(system))))
                .isInstanceOf(ConfigException.class)
                .hasMessage("pool.web.backend.c.url: missing (expected: absolute http(s) URL) [" + WEB_XML + "]");
    }

    @Test
    void anEmptyConfigurationIsValid() {
        ProxyConfig none = ConfigLoader.load(List.of());
        ProxyConfig empty = ConfigLoader.load(List.of(new ConfigSource("empty", Map.of())));

        assertThat(none.routes()).isEmpty();
        assertThat(none.pools()).isEmpty();
        assertThat(none.sources()).isEmpty();
        assertThat(empty.routes()).isEmpty();
        assertThat(empty.sources()).containsExactly("empty");
    }

    @Test
    void aPoolNoRouteUsesIsFine() {
        ProxyConfig config = ConfigLoader.load(
                List.of(new ConfigSource("test", Map.of("pool.spare.backend.x.url", "http://10.0.0.1"))));

        assertThat(config.pools()).containsOnlyKeys("spare");
        assertThat(config.routes()).isEmpty();
    }

    @Test
    void routesWithTheSamePathButDifferentHostsAreFine() {
        Map<String, String> entries = new HashMap<>(MINIMAL);
        entries.putAll(Map.of(
                "route.a.path",
                "/",
                "route.a.pool",
                "web",
                "route.a.host",
                "a.example.com",
                "route.b.path",
                "/",
                "route.b.pool",
                "web",
                "route.b.host",
                "b.example.com"));

        assertThat(ConfigLoader.load(List.of(new ConfigSource("test", entries))).routes())
                .hasSize(3);
    }

    @Test
    void hostsDifferingOnlyInCaseAreTheSameHost() {
        Map<String, String> entries = new HashMap<>(MINIMAL);
        entries.putAll(Map.of(
                "route.a.path",
                "/",
                "route.a.pool",
                "web",
                "route.a.host",
                "Example.com",
                "route.b.path",
                "/",
                "route.b.pool",
                "web",
                "route.b.host",
                "example.COM"));

        assertThatThrownBy(() -> ConfigLoader.load(List.of(new ConfigSource("test", entries))))
                .hasMessage("route.b.path: / (expected: a path no other route has for the same host; route a has it)"
                        + " [test]");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "http://127.0.0.1:9001/    | http://127.0.0.1:9001",
                "HTTP://LocalHost:9001     | http://localhost:9001",
                "https://example.com       | https://example.com",
                "'  http://example.com:80 '| http://example.com:80",
                "http://[::1]:8080/        | http://[::1]:8080",
            })
    void backendUrlsAreNormalised(String url, String expected) {
        ProxyConfig config = ConfigLoader.load(List.of(new ConfigSource("test", Map.of("pool.p.backend.b.url", url))));

        assertThat(config.pools().get("p").backends().get(0).url()).isEqualTo(URI.create(expected));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "0      | PT0S",
                "0s     | PT0S",
                "750ms  | PT0.75S",
                "45s    | PT45S",
                "90m    | PT1H30M",
                "2h     | PT2H",
                "007s   | PT7S",
            })
    void durationsTakeAUnit(String text, String expected) {
        Map<String, String> entries = new HashMap<>(MINIMAL);
        entries.put("proxy.timeout", text);
        assertThat(ConfigLoader.load(List.of(new ConfigSource("test", entries)))
                        .routes()
                        .get(0)
                        .timeout())
                .isEqualTo(Duration.parse(expected));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "5         | duration > 0 such as 500ms, 5s, 2m or 1h",
                "5 s       | duration > 0 such as 500ms, 5s, 2m or 1h",
                "5S        | duration > 0 such as 500ms, 5s, 2m or 1h",
                "0ms       | duration > 0 such as 500ms, 5s, 2m or 1h",
                "1.5s      | duration > 0 such as 500ms, 5s, 2m or 1h",
                "PT5S      | duration > 0 such as 500ms, 5s, 2m or 1h",
                "99999999999999999h | duration of at most 9223372036854775807ms",
                "9999999999999999999s | duration > 0 such as 500ms, 5s, 2m or 1h",
            })
    void badDurationsAreRejected(String text, String expected) {
        assertThatThrownBy(() ->
                        ConfigLoader.load(List.of(new ConfigSource("test", Map.of("proxy.connect-timeout", text)))))
                .isInstanceOf(ConfigException.class)
                .hasMessage("proxy.connect-timeout: " + text + " (expected: " + expected + ") [test]");
    }

    @Test
    void booleansIgnoreCaseAndRouteHostsAreLowerCase() {
        Map<String, String> entries = new HashMap<>(MINIMAL);
        entries.putAll(Map.of(
                "route.main.strip-prefix", "True",
                "route.main.preserve-host", "FALSE",
                "route.main.host", "WWW.Example.com"));

        RouteConfig route = ConfigLoader.load(List.of(new ConfigSource("test", entries)))
                .routes()
                .get(0);

        assertThat(route.stripPrefix()).isTrue();
        assertThat(route.preserveHost()).isFalse();
        assertThat(route.host()).isEqualTo("www.example.com");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "pool.web.backend.a.wieght    | pool.NAME.backend.NAME.weight",
                "pool.web.backend.a.uri       | pool.NAME.backend.NAME.url",
                "pool.web.a.url               | pool.NAME.backend.NAME.url",
                "pool.web.strategie           | pool.NAME.strategy",
                "route.main.strip_prefix      | route.NAME.strip-prefix",
                "route.main.preserveHost      | route.NAME.preserve-host",
                "routes.main.path             | route.NAME.path",
                "proxy.connectTimeout         | proxy.connect-timeout",
                "server.adress                | server.host",
                "demo.a.port                  | demo.backend.NAME.port",
                "Server.Port                  | server.port",
            })
    void unknownKeysAreRejectedWithTheClosestKnownKey(String key, String suggestion) {
        assertThatThrownBy(() -> ConfigLoader.load(List.of(new ConfigSource("test", Map.of(key, "1")))))
                .isInstanceOf(ConfigException.class)
                .hasMessage(key + ": 1 (expected: a known key, e.g. " + suggestion + ") [test]");
    }

    @Test
    void anEmptyKeyIsShownQuoted() {
        assertThatThrownBy(() -> ConfigLoader.load(List.of(new ConfigSource("test", Map.of("", "x")))))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("\"\": x (expected: a known key, e.g. ");
    }

    @Test
    void anEmptyNameIsABadName() {
        assertThatThrownBy(() -> ConfigLoader.load(List.of(new ConfigSource("test", Map.of("route..path", "/")))))
                .hasMessage("route..path: / (expected: route name matching [A-Za-z0-9_-]+) [test]");
    }

    @Test
    void twoDemoBackendsCannotShareAPort() {
        assertThatThrownBy(() -> ConfigLoader.load(List.of(new ConfigSource(
                        "test", Map.of("demo.backend.x.port", "9001", "demo.backend.y.port", "9001")))))
                .hasMessage("demo.backend.y.port: 9001 (expected: a port no other demo backend uses;"
                        + " demo backend x has it) [test]");
    }

    @Test
    void aRouteToAnUndefinedPoolSaysWhenThereIsNoPoolAtAll() {
        assertThatThrownBy(() -> ConfigLoader.load(
                        List.of(new ConfigSource("test", Map.of("route.main.path", "/", "route.main.pool", "web")))))
                .hasMessage("route.main.pool: web (expected: a defined pool; none is defined) [test]");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "weighted-round-robin | WEIGHTED_ROUND_ROBIN",
                "round-robin          | ROUND_ROBIN",
                "random               | RANDOM",
                "least-request        | LEAST_REQUEST",
                "Response-Time        | RESPONSE_TIME",
            })
    void everyStrategyLoadsByItsNameInAnyCase(String name, StrategyName expected) {
        Map<String, String> entries = new HashMap<>(MINIMAL);
        entries.put("pool.web.strategy", name);

        PoolConfig pool = ConfigLoader.load(List.of(new ConfigSource("test", entries)))
                .pools()
                .get("web");

        assertThat(pool.strategy()).isEqualTo(expected);
        assertThat(pool.hashKey()).isNull();
        assertThat(pool.sticky()).isNull();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "client-ip         | CLIENT_IP |",
                "Client-IP         | CLIENT_IP |",
                "path              | PATH      |",
                "header:X-User     | HEADER    | X-User",
                "Header:x-user     | HEADER    | x-user",
                "cookie:JSESSIONID | COOKIE    | JSESSIONID",
                "' cookie:uid '    | COOKIE    | uid",
            })
    void hashKeysNameWhereTheKeyComesFrom(String value, HashKey.Source source, String name) {
        Map<String, String> entries = new HashMap<>(MINIMAL);
        entries.putAll(Map.of("pool.web.strategy", "consistent-hash", "pool.web.hash-key", value));

        PoolConfig pool = ConfigLoader.load(List.of(new ConfigSource("test", entries)))
                .pools()
                .get("web");

        assertThat(pool.strategy()).isEqualTo(StrategyName.CONSISTENT_HASH);
        assertThat(pool.hashKey()).isEqualTo(new HashKey(source, name));
        assertThat(pool.hashKey()).hasToString(source.configName() + (name == null ? "" : ":" + name));
    }

    @ParameterizedTest(name = "[{0}]")
    @ValueSource(
            strings = {
                "",
                "header",
                "header:",
                "cookie",
                "cookie:a b",
                "header:X;Y",
                "client-ip:x",
                "path:/a",
                "query:q",
                "ip",
                "header:X-User:2"
            })
    void badHashKeysAreRejected(String value) {
        Map<String, String> entries = new HashMap<>(MINIMAL);
        entries.putAll(Map.of("pool.web.strategy", "consistent-hash", "pool.web.hash-key", value));

        assertThatThrownBy(() -> ConfigLoader.load(List.of(new ConfigSource("test", entries))))
                .isInstanceOf(ConfigException.class)
                .hasMessage("pool.web.hash-key: " + (value.isEmpty() ? "\"\"" : value) + " (expected: "
                        + "client-ip|path|header:NAME|cookie:NAME with NAME a token of letters, digits and "
                        + "!#$%&'*+-.^_`|~) [test]");
    }

    @Test
    void consistentHashNeedsAHashKeyAndNoOtherStrategyTakesOne() {
        Map<String, String> withoutKey = new HashMap<>(MINIMAL);
        withoutKey.put("pool.web.strategy", "consistent-hash");
        Map<String, String> keyWithoutRing = new HashMap<>(MINIMAL);
        keyWithoutRing.put("pool.web.hash-key", "client-ip");

        assertThatThrownBy(() -> ConfigLoader.load(List.of(new ConfigSource("test", withoutKey))))
                .hasMessage("pool.web.hash-key: missing (expected: client-ip|path|header:NAME|cookie:NAME with NAME a "
                        + "token of letters, digits and !#$%&'*+-.^_`|~, required by strategy consistent-hash) [test]");
        assertThatThrownBy(() -> ConfigLoader.load(List.of(new ConfigSource("test", keyWithoutRing))))
                .hasMessage("pool.web.hash-key: client-ip (expected: no hash-key, which only strategy consistent-hash "
                        + "uses; pool.web.strategy is weighted-round-robin) [test]");
    }

    @Test
    void stickyTakesACookieNameWithAnyStrategy() {
        for (String strategy : List.of("weighted-round-robin", "least-request", "consistent-hash")) {
            Map<String, String> entries = new HashMap<>(MINIMAL);
            entries.putAll(Map.of("pool.web.strategy", strategy, "pool.web.sticky", "COOKIE:lb_route"));
            if (strategy.equals("consistent-hash")) {
                entries.put("pool.web.hash-key", "path");
            }

            PoolConfig pool = ConfigLoader.load(List.of(new ConfigSource("test", entries)))
                    .pools()
                    .get("web");

            assertThat(pool.sticky()).isEqualTo(new StickyConfig("lb_route")).hasToString("cookie:lb_route");
        }
    }

    @ParameterizedTest(name = "[{0}]")
    @ValueSource(strings = {"", "cookie", "cookie:", "route", "header:X-Route", "cookie:a=b", "cookie:a b"})
    void badStickyValuesAreRejected(String value) {
        Map<String, String> entries = new HashMap<>(MINIMAL);
        entries.put("pool.web.sticky", value);

        assertThatThrownBy(() -> ConfigLoader.load(List.of(new ConfigSource("test", entries))))
                .isInstanceOf(ConfigException.class)
                .hasMessage("pool.web.sticky: " + (value.isEmpty() ? "\"\"" : value) + " (expected: "
                        + "cookie:NAME with NAME a token of letters, digits and !#$%&'*+-.^_`|~) [test]");
    }

    @Test
    void theRecordsCheckTheSameRulesAsTheLoader() {
        List<BackendConfig> one = List.of(new BackendConfig("a", URI.create("http://127.0.0.1:9001"), 1));

        assertThatThrownBy(() -> new PoolConfig("web", StrategyName.CONSISTENT_HASH, one))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("needs a hash key");
        assertThatThrownBy(() -> new PoolConfig("web", StrategyName.RANDOM, one, HashKey.path(), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("needs strategy consistent-hash");
        assertThatThrownBy(() -> HashKey.header("X User")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new HashKey(HashKey.Source.PATH, "x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new StickyConfig("a;b")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void strictHttpLimitsAndTlsDefaults() {
        ProxyConfig config = ConfigLoader.load(List.of(new ConfigSource("test", MINIMAL)));

        assertThat(config.server())
                .isEqualTo(new ServerConfig(
                        "0.0.0.0", 8080, 16384, 8192, Duration.ofSeconds(10), Duration.ofSeconds(30), null));
        assertThat(config.limits()).isEqualTo(new RequestLimits(100, 0, Duration.ZERO));
        assertThat(config.upstreamTls()).isEqualTo(new UpstreamTlsConfig(null, null, true));
        assertThat(config.routes().get(0).maxBodyBytes()).isEqualTo(RouteConfig.INHERIT);
    }

    @Test
    void shutdownTimeoutDefaultsTo25sAndAcceptsZero() {
        assertThat(ConfigLoader.load(List.of(new ConfigSource("test", MINIMAL)))
                        .server()
                        .shutdownTimeout())
                .isEqualTo(Duration.ofSeconds(25));
        Map<String, String> entries = new HashMap<>(MINIMAL);
        entries.put("server.shutdown-timeout", "1500ms");
        assertThat(ConfigLoader.load(List.of(new ConfigSource("test", entries)))
                        .server()
                        .shutdownTimeout())
                .isEqualTo(Duration.ofMillis(1500));
        entries.put("server.shutdown-timeout", "0");
        assertThat(ConfigLoader.load(List.of(new ConfigSource("test", entries)))
                        .server()
                        .shutdownTimeout())
                .isEqualTo(Duration.ZERO);
        entries.put("server.shutdown-timeout", "-1s");
        assertThatThrownBy(() -> ConfigLoader.load(List.of(new ConfigSource("test", entries))))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("server.shutdown-timeout: -1s (expected: ")
                .hasMessageEndingWith("[test]");
    }

    @Test
    void reusePortIsOffByDefaultAndTakesOnlyABoolean() {
        assertThat(ConfigLoader.load(List.of(new ConfigSource("test", MINIMAL)))
                        .server()
                        .reusePort())
                .isFalse();
        Map<String, String> entries = new HashMap<>(MINIMAL);
        entries.put("server.reuse-port", "true");
        assertThat(ConfigLoader.load(List.of(new ConfigSource("test", entries))).server())
                .isEqualTo(new ServerConfig("0.0.0.0", 8080).withReusePort(true));
        entries.put("server.reuse-port", "yes");
        assertThatThrownBy(() -> ConfigLoader.load(List.of(new ConfigSource("test", entries))))
                .isInstanceOf(ConfigException.class)
                .hasMessage("server.reuse-port: yes (expected: true|false) [test]");
    }

    @Test
    void strictHttpLimitsAndTlsLoad() {
        Map<String, String> entries = new HashMap<>(MINIMAL);
        String store = "src/test/resources/jetty-logging.properties"; // any readable file passes the loader
        entries.putAll(Map.of(
                "server.max-header-bytes",
                "32768",
                "server.max-uri-bytes",
                "2048",
                "server.header-timeout",
                "3s",
                "server.idle-timeout",
                "1m",
                "server.tls.keystore",
                store,
                "server.tls.keystore-password",
                "pw",
                "server.tls.redirect-port",
                "8081",
                "proxy.max-header-count",
                "50",
                "proxy.max-body-bytes",
                "1048576",
                "proxy.body-timeout",
                "30s"));
        entries.putAll(Map.of(
                "proxy.tls.truststore",
                store,
                "proxy.tls.truststore-password",
                "tpw",
                "proxy.tls.verify-hostname",
                "false",
                "route.main.max-body-bytes",
                "0"));

        ProxyConfig config = ConfigLoader.load(List.of(new ConfigSource("test", entries)));

        assertThat(config.server())
                .isEqualTo(new ServerConfig(
                        "0.0.0.0",
                        8080,
                        32768,
                        2048,
                        Duration.ofSeconds(3),
                        Duration.ofMinutes(1),
                        new ServerTlsConfig(store, "pw", 8081)));
        assertThat(config.server().tls().toString()).doesNotContain("pw,").contains("***");
        assertThat(config.limits()).isEqualTo(new RequestLimits(50, 1048576, Duration.ofSeconds(30)));
        assertThat(config.upstreamTls()).isEqualTo(new UpstreamTlsConfig(store, "tpw", false));
        assertThat(config.upstreamTls().toString()).doesNotContain("tpw");
        assertThat(config.routes().get(0).maxBodyBytes()).isZero();
    }

    @Test
    void anEmptyRedirectPortMeansNone() {
        Map<String, String> entries = new HashMap<>(MINIMAL);
        entries.putAll(Map.of(
                "server.tls.keystore",
                "src/test/resources/jetty-logging.properties",
                "server.tls.keystore-password",
                "pw",
                "server.tls.redirect-port",
                ""));

        assertThat(ConfigLoader.load(List.of(new ConfigSource("test", entries)))
                        .server()
                        .tls()
                        .redirects())
                .isFalse();
    }
}
