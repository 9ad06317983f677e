package dev.proxyfilter.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A key that another one turns into a no-op is a start-up error naming both, in the usual
 * {@code key: value (expected: ...) [source]} shape; the same keys load when the other one is right, and a
 * feature switched off explicitly keeps its keys (see "Keys that only work together" in
 * docs/configuration.md).
 */
class KeysThatWorkTogetherTest {
    private static final Map<String, String> MINIMAL = Map.of(
            "pool.web.backend.a.url", "http://127.0.0.1:9001",
            "route.main.path", "/",
            "route.main.pool", "web");

    private static ProxyConfig load(Map<String, String> extra) {
        Map<String, String> entries = new HashMap<>(MINIMAL);
        entries.putAll(extra);
        return ConfigLoader.load(List.of(new ConfigSource("config/proxy.properties", entries)));
    }

    static Stream<Arguments> errors() {
        return Stream.of(
                Arguments.of(
                        Map.of("route.main.cache", "true"),
                        "route.main.cache: true (expected: cache.enabled=true too; the response cache is off)"),
                Arguments.of(
                        Map.of("cache.enabled", "false", "route.main.cache", "TRUE"),
                        "route.main.cache: TRUE (expected: cache.enabled=true too; the response cache is off)"),
                Arguments.of(
                        Map.of("cache.heap-entries", "5000"),
                        "cache.heap-entries: 5000 (expected: cache.enabled=true too; the response cache is off)"),
                Arguments.of(
                        Map.of("cache.enabled", "true", "cache.disk-persistent", "true"),
                        "cache.disk-persistent: true (expected: cache.disk-mb > 0 too; there is no disk tier to"
                                + " persist)"),
                Arguments.of(
                        Map.of("pool.web.strategy", "round-robin", "pool.web.backend.a.weight", "3"),
                        "pool.web.backend.a.weight: 3 (expected: 0 or 1, or a strategy that uses weights;"
                                + " pool.web.strategy is round-robin, which ignores them)"),
                Arguments.of(
                        Map.of("pool.web.strategy", "round-robin", "pool.web.slow-start", "30s"),
                        "pool.web.slow-start: 30s (expected: 0, or a strategy that ramps weights up;"
                                + " pool.web.strategy is round-robin, which ignores the ramp)"),
                Arguments.of(
                        Map.of(
                                "pool.web.strategy", "consistent-hash",
                                "pool.web.hash-key", "client-ip",
                                "pool.web.slow-start", "1m"),
                        "pool.web.slow-start: 1m (expected: 0, or a strategy that ramps weights up;"
                                + " pool.web.strategy is consistent-hash, which ignores the ramp)"),
                Arguments.of(
                        Map.of("pool.web.queue-timeout", "2s"),
                        "pool.web.queue-timeout: 2s (expected: pool.web.max-pending > 0 too; without a queue no"
                                + " request waits)"),
                Arguments.of(
                        Map.of("pool.web.max-pending", "10"),
                        "pool.web.max-pending: 10 (expected: pool.web.backend.NAME.max-connections > 0 too; no"
                                + " backend of the pool is ever full)"),
                Arguments.of(
                        Map.of("security.client-ip-header", "forwarded"),
                        "security.client-ip-header: forwarded (expected: security.trusted-proxies too; without"
                                + " trusted proxies the client IP is the peer's address)"),
                Arguments.of(
                        Map.of("security.rate-limit-max-keys", "1000"),
                        "security.rate-limit-max-keys: 1000 (expected: security.rate-limit or a"
                                + " route.NAME.rate-limit too; there is no rate limit to keep buckets for)"),
                Arguments.of(
                        Map.of("security.rate-limit-max-keys", "1000", "route.main.rate-limit", "none"),
                        "security.rate-limit-max-keys: 1000 (expected: security.rate-limit or a"
                                + " route.NAME.rate-limit too; there is no rate limit to keep buckets for)"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("errors")
    void aKeyThatWouldDoNothingIsAnErrorNamingBothKeys(Map<String, String> entries, String expected) {
        assertThatThrownBy(() -> load(entries))
                .isInstanceOf(ConfigException.class)
                .hasMessage(expected + " [config/proxy.properties]")
                .hasNoCause();
    }

    static Stream<Map<String, String>> fine() {
        return Stream.of(
                // The other key right.
                Map.of("cache.enabled", "true", "route.main.cache", "true", "cache.heap-entries", "5000"),
                Map.of(
                        "cache.enabled", "true",
                        "cache.disk-mb", "16",
                        "cache.disk-path", "/tmp/proxy-filter-cache",
                        "cache.disk-persistent", "false"),
                Map.of("pool.web.strategy", "round-robin", "pool.web.backend.a.weight", "1"),
                Map.of(
                        "pool.web.strategy",
                        "round-robin",
                        "pool.web.backend.a.weight",
                        "0",
                        "pool.web.slow-start",
                        "0"),
                Map.of(
                        "pool.web.strategy",
                        "least-request",
                        "pool.web.backend.a.weight",
                        "3",
                        "pool.web.slow-start",
                        "30s"),
                Map.of(
                        "pool.web.max-pending", "10",
                        "pool.web.queue-timeout", "2s",
                        "pool.web.backend.a.max-connections", "5"),
                Map.of("security.trusted-proxies", "10.0.0.0/8", "security.client-ip-header", "forwarded"),
                Map.of("route.main.rate-limit", "10/s", "security.rate-limit-max-keys", "1000"),
                // A route that bypasses a cache that is off says nothing false.
                Map.of("route.main.cache", "false"),
                // A feature switched off explicitly keeps its keys.
                Map.of("cache.enabled", "false", "cache.heap-entries", "5000", "cache.max-entry-bytes", "1024"),
                Map.of("reload.watch", "false", "reload.debounce", "2s"),
                Map.of("admin.port", "-1", "admin.host", "0.0.0.0", "admin.token", "0123456789abcdef"),
                Map.of("pool.web.outlier.consecutive-failures", "0", "pool.web.outlier.base-ejection-time", "1m"),
                Map.of("proxy.retries", "0", "proxy.retry-on", "502,503", "route.main.retry-on", "reset"),
                Map.of("pool.web.max-pending", "0", "pool.web.queue-timeout", "2s"),
                Map.of("security.trusted-proxies", "", "security.client-ip-header", "forwarded"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fine")
    void theSameKeysLoadWhenTheOtherKeyAllowsThem(Map<String, String> entries) {
        assertThat(load(entries)).isNotNull();
    }
}
