package dev.proxyfilter.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code pool.NAME.protocol}, {@code pool.NAME.h2.*} and {@code server.h2c}. */
class UpstreamProtocolConfigTest {
    private static Map<String, String> minimal() {
        Map<String, String> entries = new HashMap<>();
        entries.put("pool.web.backend.a.url", "http://127.0.0.1:9001");
        entries.put("route.main.path", "/");
        entries.put("route.main.pool", "web");
        return entries;
    }

    private static ProxyConfig load(Map<String, String> entries) {
        return ConfigLoader.load(List.of(new ConfigSource("test", entries)));
    }

    @Test
    void http11AndH2cByDefault() {
        ProxyConfig config = load(minimal());
        assertThat(config.pools().get("web").protocol()).isEqualTo(UpstreamProtocol.DEFAULT);
        assertThat(config.server().h2c()).isTrue();
    }

    @Test
    void http2WithItsLimits() {
        Map<String, String> entries = minimal();
        entries.put("pool.web.protocol", "H2C");
        entries.put("pool.web.h2.max-connections", "2");
        entries.put("pool.web.h2.max-streams", "50");
        entries.put("server.h2c", "false");
        ProxyConfig config = load(entries);
        assertThat(config.pools().get("web").protocol())
                .isEqualTo(new UpstreamProtocol(UpstreamProtocol.Kind.H2C, 2, 50));
        assertThat(config.server().h2c()).isFalse();
    }

    @Test
    void anUnknownProtocolOrLimitNamesTheKey() {
        Map<String, String> entries = minimal();
        entries.put("pool.web.protocol", "spdy");
        assertThatThrownBy(() -> load(entries))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("pool.web.protocol")
                .hasMessageContaining("http/1.1|h2c|h2");
        entries.put("pool.web.protocol", "h2");
        entries.put("pool.web.h2.max-streams", "0");
        assertThatThrownBy(() -> load(entries))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("pool.web.h2.max-streams");
    }
}
