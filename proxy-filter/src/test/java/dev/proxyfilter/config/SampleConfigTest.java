package dev.proxyfilter.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The shipped {@code config/proxy.properties} loads, is the documented first-run setup, and names every
 * key of {@link ConfigKey} and no other.
 */
class SampleConfigTest {
    /** Relative to the proxy-filter module, where Maven runs the tests. */
    private static final Path SAMPLE = Path.of("..", "config", "proxy.properties");

    /** A {@code key=value} line, possibly commented out: a dotted key right after the {@code #}. */
    private static final Pattern KEY_LINE = Pattern.compile("(?m)^#?([a-z][a-z0-9-]*(?:\\.[A-Za-z0-9_-]+)+)=");

    @Test
    void theSampleLoadsAsTheFirstRunSetup() {
        ProxyConfig config = ConfigLoader.load(List.of(ConfigSource.ofFile(SAMPLE)));

        assertThat(config.server()).isEqualTo(new ServerConfig("0.0.0.0", 8080));
        assertThat(config.demo()).isEqualTo(new DemoConfig(Map.of("a", 9001, "b", 9002)));
        assertThat(config.pools())
                .containsExactly(Map.entry(
                        "web",
                        new PoolConfig(
                                "web",
                                StrategyName.WEIGHTED_ROUND_ROBIN,
                                List.of(
                                        new BackendConfig("a", URI.create("http://127.0.0.1:9001"), 3),
                                        new BackendConfig("b", URI.create("http://127.0.0.1:9002"), 1)))));
        assertThat(config.routes())
                .extracting(RouteConfig::name, RouteConfig::path, RouteConfig::pool)
                .containsExactly(tuple("main", "/", "web"));
        assertThat(config.sources()).containsExactly(SAMPLE.toString());
    }

    @Test
    void theSampleMentionsEveryKey() throws IOException {
        String sample = Files.readString(SAMPLE, StandardCharsets.UTF_8);

        for (ConfigKey key : ConfigKey.values()) {
            // The sample uses real names, a line per key, possibly commented out.
            String line = "(?m)^#?" + Pattern.quote(key.template()).replace("NAME", "\\E[A-Za-z0-9_-]+\\Q") + "=";
            assertThat(sample).as("sample line for %s", key.template()).containsPattern(line);
        }
    }

    @Test
    void theSampleNamesOnlyKeysThatExist() throws IOException {
        List<String> named = namedKeys(Files.readString(SAMPLE, StandardCharsets.UTF_8));

        assertThat(named).as("key=value lines, commented or not").hasSizeGreaterThan(ConfigKey.values().length);
        for (String key : named) {
            ConfigKey template = ConfigKey.match(ConfigKey.segments(key));
            assertThat(template)
                    .as("%s in %s names no key (expected: one of docs/configuration.md)", key, SAMPLE)
                    .isNotNull();
            assertThat(template.names(ConfigKey.segments(key)))
                    .as("names in %s", key)
                    .allMatch(name -> ConfigKey.NAME_PATTERN.matcher(name).matches());
        }
    }

    @Test
    void commentedLinesCountAsNamingAKey() {
        assertThat(namedKeys("""
                        # A comment: not a key=value line.
                        #   client-ip, path=x
                        #pool.web.backend.a.url=http://x
                        server.port=1
                        #security.response-headers.X-Frame-Options=DENY
                        """))
                .containsExactly("pool.web.backend.a.url", "server.port", "security.response-headers.X-Frame-Options");
    }

    /** The key of every {@code key=value} line, {@code #key=value} included; prose comments have a space. */
    private static List<String> namedKeys(String properties) {
        return KEY_LINE.matcher(properties)
                .results()
                .map(match -> match.group(1))
                .toList();
    }
}
