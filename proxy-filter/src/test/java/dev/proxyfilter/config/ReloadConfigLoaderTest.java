package dev.proxyfilter.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The {@code reload.*} keys: defaults, values, and the usual message for a bad one. */
class ReloadConfigLoaderTest {
    private static final Map<String, String> MINIMAL = Map.of(
            "pool.web.backend.a.url", "http://127.0.0.1:9001",
            "route.main.path", "/",
            "route.main.pool", "web");

    private static ProxyConfig load(Map<String, String> extra) {
        Map<String, String> entries = new HashMap<>(MINIMAL);
        entries.putAll(extra);
        return ConfigLoader.load(List.of(new ConfigSource("test.properties", entries)));
    }

    @Test
    void watchingIsOnByDefaultWithAShortQuietPeriod() {
        assertThat(load(Map.of()).reload()).isEqualTo(new ReloadConfig(true, Duration.ofMillis(300)));
    }

    @Test
    void bothKeysLoad() {
        assertThat(load(Map.of("reload.watch", "FALSE", "reload.debounce", "2s"))
                        .reload())
                .isEqualTo(new ReloadConfig(false, Duration.ofSeconds(2)));
    }

    @Test
    void badValuesNameKeyValueExpectationAndSource() {
        assertThatThrownBy(() -> load(Map.of("reload.watch", "sometimes")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("reload.watch: sometimes (expected: true|false) [test.properties]");
        assertThatThrownBy(() -> load(Map.of("reload.debounce", "0")))
                .isInstanceOf(ConfigException.class)
                .hasMessage(
                        "reload.debounce: 0 (expected: duration > 0 such as 500ms, 5s, 2m or 1h) [test.properties]");
    }
}
