package dev.proxyfilter.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every fixture under {@code config/bad/} must fail with the exact message on its first line,
 * {@code # expect: key: value (expected: constraint) [source]}, as Ehcache keeps invalid XML configs.
 */
class BadConfigTest {
    private static final String DIRECTORY = "config/bad";
    private static final String EXPECT = "# expect: ";

    static List<String> fixtures() throws IOException, URISyntaxException {
        Path directory = Path.of(
                BadConfigTest.class.getClassLoader().getResource(DIRECTORY).toURI());
        try (Stream<Path> files = Files.list(directory)) {
            return files.map(file -> file.getFileName().toString())
                    .filter(name -> name.endsWith(".properties"))
                    .sorted()
                    .toList();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void failsWithTheExpectedMessage(String fixture) throws IOException, URISyntaxException {
        String resource = DIRECTORY + "/" + fixture;
        Path file = Path.of(
                BadConfigTest.class.getClassLoader().getResource(resource).toURI());
        String firstLine = Files.readAllLines(file, StandardCharsets.UTF_8).get(0);
        assertThat(firstLine).as("first line of %s", fixture).startsWith(EXPECT);
        String expected = firstLine.substring(EXPECT.length()).strip();

        assertThatThrownBy(() -> ConfigLoader.load(
                        List.of(ConfigSource.ofResource(BadConfigTest.class.getClassLoader(), resource))))
                .isInstanceOf(ConfigException.class)
                .hasMessage(expected)
                .hasNoCause();
    }

    @Test
    void coversTheRequiredCases() throws IOException, URISyntaxException {
        assertThat(fixtures())
                .contains(
                        "negative-weight.properties",
                        "non-integer-weight.properties",
                        "missing-url.properties",
                        "relative-url.properties",
                        "ftp-url.properties",
                        "url-with-path.properties",
                        "unknown-strategy.properties",
                        "unknown-key-typo.properties",
                        "unknown-pool.properties",
                        "path-without-slash.properties",
                        "bad-duration.properties",
                        "bad-boolean.properties",
                        "port-out-of-range.properties",
                        "duplicate-route.properties",
                        "bad-name-chars.properties",
                        "pool-without-backend.properties",
                        "bad-hash-key.properties",
                        "consistent-hash-without-hash-key.properties",
                        "hash-key-without-consistent-hash.properties",
                        "bad-sticky.properties",
                        // Health: checks, outlier ejection, panic, slow start, backups.
                        "health-interval-without-path.properties",
                        "bad-health-path.properties",
                        "bad-expected-status.properties",
                        "zero-rise.properties",
                        "negative-consecutive-failures.properties",
                        "bad-max-ejection-percent.properties",
                        "bad-panic-threshold.properties",
                        "bad-slow-start.properties",
                        "bad-backup.properties",
                        "only-backups.properties",
                        "slow-start-huge-weight.properties",
                        // The admin API on another interface than loopback needs a token (README).
                        "admin-public-without-token.properties",
                        // Several instances: cluster.* and the shared cache.
                        "cluster-key-without-enabled.properties",
                        "bad-cluster-mode.properties",
                        "bad-cluster-name.properties",
                        "bad-cluster-members.properties",
                        "bad-cluster-port.properties",
                        "bad-cluster-interface.properties",
                        "cluster-xml-missing-file.properties",
                        "cluster-xml-with-members.properties",
                        "cluster-client-without-members.properties",
                        "cluster-client-with-port.properties",
                        "bad-cache-store.properties",
                        "cache-shared-without-cluster.properties",
                        "cache-shared-timeout-with-local-store.properties",
                        "zero-cache-shared-timeout.properties");
    }
}
