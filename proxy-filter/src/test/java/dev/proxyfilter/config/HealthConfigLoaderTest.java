package dev.proxyfilter.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The health keys of a pool: defaults, values, and the rules between them. */
class HealthConfigLoaderTest {
    private static final Map<String, String> MINIMAL = Map.of(
            "pool.web.backend.a.url", "http://127.0.0.1:9001",
            "route.main.path", "/",
            "route.main.pool", "web");

    private static PoolConfig load(String... keyValues) {
        Map<String, String> entries = new HashMap<>(MINIMAL);
        for (int i = 0; i < keyValues.length; i += 2) {
            entries.put(keyValues[i], keyValues[i + 1]);
        }
        return ConfigLoader.load(List.of(new ConfigSource("test", entries)))
                .pools()
                .get("web");
    }

    private static String error(String... keyValues) {
        try {
            load(keyValues);
        } catch (ConfigException e) {
            return e.getMessage();
        }
        throw new AssertionError("loaded");
    }

    @Test
    void withoutHealthKeysAPoolHasTheDefaults() {
        PoolConfig pool = load();

        assertThat(pool.health()).isEqualTo(HealthConfig.DEFAULT);
        assertThat(pool.health().check()).as("no checks without a path").isNull();
        assertThat(pool.health().outlier()).isEqualTo(new OutlierConfig(5, Duration.ofSeconds(30), 50));
        assertThat(pool.health().outlier().enabled()).isTrue();
        assertThat(pool.health().panicThresholdPercent()).isEqualTo(50);
        assertThat(pool.health().slowStart()).isZero();
        assertThat(pool.backends().get(0).backup()).isFalse();
    }

    @Test
    void aPathAloneTurnsChecksOnWithDefaults() {
        ActiveCheckConfig check =
                load("pool.web.health.path", "/health").health().check();

        assertThat(check).isEqualTo(ActiveCheckConfig.of("/health"));
        assertThat(check)
                .isEqualTo(new ActiveCheckConfig(
                        "/health",
                        Duration.ofSeconds(5),
                        Duration.ofSeconds(2),
                        new ActiveCheckConfig.StatusRange(200, 399),
                        2,
                        3));
    }

    @Test
    void everyHealthKeyLoads() {
        PoolConfig pool = load(
                "pool.web.backend.b.url", "http://127.0.0.1:9002",
                "pool.web.backend.b.backup", "true",
                "pool.web.health.path", "/ready?deep=1&x=%20",
                "pool.web.health.interval", "200ms",
                "pool.web.health.timeout", "100ms",
                "pool.web.health.expected-status", "204",
                "pool.web.health.rise", "1",
                "pool.web.health.fall", "2",
                "pool.web.outlier.consecutive-failures", "3",
                "pool.web.outlier.base-ejection-time", "300ms",
                "pool.web.outlier.max-ejection-percent", "0",
                "pool.web.panic-threshold", "100",
                "pool.web.slow-start", "1m");

        assertThat(pool.health())
                .isEqualTo(new HealthConfig(
                        new ActiveCheckConfig(
                                "/ready?deep=1&x=%20",
                                Duration.ofMillis(200),
                                Duration.ofMillis(100),
                                new ActiveCheckConfig.StatusRange(204, 204),
                                1,
                                2),
                        new OutlierConfig(3, Duration.ofMillis(300), 0),
                        100,
                        Duration.ofMinutes(1)));
        assertThat(pool.health().check().expectedStatus()).hasToString("204");
        assertThat(pool.health().outlier().enabled())
                .as("a cap of 0% ejects nothing")
                .isFalse();
        assertThat(pool.backends()).extracting(BackendConfig::backup).containsExactly(false, true);
    }

    @Test
    void statusRangesContainTheirEnds() {
        ActiveCheckConfig.StatusRange range = load(
                        "pool.web.health.path", "/h", "pool.web.health.expected-status", "200-299")
                .health()
                .check()
                .expectedStatus();

        assertThat(range).hasToString("200-299");
        assertThat(range.contains(199)).isFalse();
        assertThat(range.contains(200)).isTrue();
        assertThat(range.contains(299)).isTrue();
        assertThat(range.contains(300)).isFalse();
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "pool.web.health.path                  | /a#b  | path starting with / in URI characters, optionally with a query, e.g. /health",
                "pool.web.health.path                  | /%zz  | path starting with / in URI characters, optionally with a query, e.g. /health",
                "pool.web.health.interval              | 0     | duration > 0 such as 500ms, 5s, 2m or 1h",
                "pool.web.health.expected-status       | 2xx   | status 100..599 or a range of them such as 200-399",
                "pool.web.health.expected-status       | 99    | status 100..599 or a range of them such as 200-399",
                "pool.web.health.expected-status       | 099   | status 100..599 or a range of them such as 200-399",
                "pool.web.health.expected-status       | 200-  | status 100..599 or a range of them such as 200-399",
                "pool.web.health.fall                  | 0     | integer >= 1",
                "pool.web.health.fall                  | three | integer >= 1",
                "pool.web.health.rise                  | 99999999999 | integer >= 1",
                "pool.web.outlier.consecutive-failures | 1.5   | integer >= 0, 0 for off",
                "pool.web.outlier.max-ejection-percent | -1    | integer 0..100",
                "pool.web.panic-threshold              | 101   | integer 0..100",
                "pool.web.slow-start                   | -1s   | duration such as 500ms, 5s, 2m or 1h, or 0 for none",
                "pool.web.backend.a.backup             | 1     | 'true|false'",
            })
    void badValuesAreRejected(String key, String value, String expected) {
        assertThat(error("pool.web.health.path", "/health", key, value))
                .isEqualTo(key + ": " + value + " (expected: " + expected + ") [test]");
    }

    @Test
    void healthKeysOtherThanThePathNeedThePath() {
        for (String key : List.of("interval", "timeout", "expected-status", "rise", "fall")) {
            String value = switch (key) {
                case "interval", "timeout" -> "1s";
                case "expected-status" -> "200";
                default -> "2";
            };
            assertThat(error("pool.web.health." + key, value))
                    .isEqualTo("pool.web.health." + key + ": " + value
                            + " (expected: to be set only with pool.web.health.path, which turns checks on) [test]");
        }
    }

    @Test
    void aPoolNeedsAPrimaryBackend() {
        assertThat(error("pool.web.backend.a.backup", "true"))
                .isEqualTo("pool.web.backend.a.backup: true (expected: false for at least one backend of pool web,"
                        + " since backups only stand in for the others) [test]");
        assertThat(load("pool.web.backend.a.backup", "false").backends().get(0).backup())
                .isFalse();
    }

    @Test
    void slowStartCapsWeightsSoThatScaledWeightsFitAnInt() {
        assertThat(load("pool.web.backend.a.weight", "214748364", "pool.web.slow-start", "10s")
                        .backends()
                        .get(0)
                        .weight())
                .isEqualTo(HealthConfig.MAX_WEIGHT_WITH_SLOW_START);
        assertThat(error("pool.web.backend.a.weight", "214748365", "pool.web.slow-start", "10s"))
                .isEqualTo("pool.web.backend.a.weight: 214748365 (expected: integer 0..214748364 with"
                        + " pool.web.slow-start) [test]");
        assertThat(load("pool.web.backend.a.weight", "999999999", "pool.web.slow-start", "0")
                        .backends()
                        .get(0)
                        .weight())
                .as("no slow start, no cap")
                .isEqualTo(999_999_999);
    }

    @Test
    void recordsRejectWhatTheLoaderRejects() {
        assertThatThrownBy(() -> new ActiveCheckConfig(
                        "health",
                        Duration.ofSeconds(1),
                        Duration.ofSeconds(1),
                        ActiveCheckConfig.DEFAULT_EXPECTED_STATUS,
                        1,
                        1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ActiveCheckConfig.StatusRange(300, 200))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new OutlierConfig(1, Duration.ZERO, 10)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> HealthConfig.DEFAULT.withPanicThreshold(101))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PoolConfig(
                        "p",
                        StrategyName.RANDOM,
                        List.of(new BackendConfig("a", java.net.URI.create("http://a"), 1, true))))
                .hasMessage("pool p has only backup backends");
    }
}
