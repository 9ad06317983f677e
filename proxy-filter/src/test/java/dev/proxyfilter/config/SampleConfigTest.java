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
 * The shipped {@code config/proxy.properties} loads, is the documented first-run setup, and, with
 * {@link ConfigLoader}'s javadoc, documents every key.
 */
class SampleConfigTest {
    /** Relative to the proxy-filter module, where Maven runs the tests. */
    private static final Path SAMPLE = Path.of("..", "config", "proxy.properties");

    private static final Path LOADER_SOURCE =
            Path.of("src", "main", "java", "dev", "proxyfilter", "config", "ConfigLoader.java");

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
                                BalanceStrategy.WEIGHTED_ROUND_ROBIN,
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
    void theLoaderJavadocDocumentsEveryKey() throws IOException {
        String source = Files.readString(LOADER_SOURCE, StandardCharsets.UTF_8);
        String javadoc = source.substring(0, source.indexOf("public final class ConfigLoader"));

        for (ConfigKey key : ConfigKey.values()) {
            assertThat(javadoc)
                    .as("javadoc row for %s", key.template())
                    .contains("<td>{@code " + key.template() + "}</td>");
        }
    }
}
