package dev.proxyfilter.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigSourceTest {
    private static final ClassLoader LOADER = ConfigSourceTest.class.getClassLoader();

    @TempDir
    Path dir;

    @Test
    void ofFileReadsUtf8AndIsNamedByThePathAsGiven() throws IOException {
        Path file = dir.resolve("proxy.properties");
        Files.writeString(file, "route.main.path=/café\nproxy.via=edge\\u002d1\n", StandardCharsets.UTF_8);

        ConfigSource source = ConfigSource.ofFile(file);

        assertThat(source.name()).isEqualTo(file.toString());
        assertThat(source.entries())
                .containsExactlyInAnyOrderEntriesOf(Map.of(
                        "route.main.path", "/café",
                        "proxy.via", "edge-1"));
    }

    @Test
    void ofFileNamesAMissingFile() {
        Path missing = dir.resolve("nope.properties");

        assertThatThrownBy(() -> ConfigSource.ofFile(missing))
                .isInstanceOf(ConfigException.class)
                .hasMessage("cannot read configuration file: no such file [" + missing + "]")
                .hasCauseInstanceOf(IOException.class);
    }

    @Test
    void ofFileRejectsTextThatIsNotUtf8() throws IOException {
        Path file = dir.resolve("latin1.properties");
        Files.write(file, "route.main.path=/caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));

        assertThatThrownBy(() -> ConfigSource.ofFile(file))
                .isInstanceOf(ConfigException.class)
                .hasMessage("cannot read configuration file: not valid UTF-8 [" + file + "]");
    }

    @Test
    void ofFileRejectsAMalformedUnicodeEscape() throws IOException {
        Path file = dir.resolve("escape.properties");
        Files.writeString(file, "proxy.via=\\u12\n");

        assertThatThrownBy(() -> ConfigSource.ofFile(file))
                .isInstanceOf(ConfigException.class)
                .hasMessage("cannot read configuration: Malformed \\uxxxx encoding. [" + file + "]");
    }

    @Test
    void ofResourceIsNamedWithClasspathPrefix() {
        ConfigSource source = ConfigSource.ofResource(LOADER, "/config/full.properties");

        assertThat(source.name()).isEqualTo("classpath:config/full.properties");
        assertThat(source.entries()).containsEntry("server.port", "18080");
    }

    @Test
    void ofResourceNamesAMissingResource() {
        assertThatThrownBy(() -> ConfigSource.ofResource(LOADER, "config/nope.properties"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("cannot read configuration resource: not found [classpath:config/nope.properties]");
        assertThatThrownBy(() -> ConfigSource.ofResource(LOADER, "config/"))
                .hasMessage("cannot read configuration resource: not found [classpath:config/]");
    }

    @Test
    void ofLocationPrefersAnExistingFile() throws IOException {
        Path file = dir.resolve("proxy.properties");
        Files.writeString(file, "server.port=1234\n");

        ConfigSource source = ConfigSource.ofLocation(file.toString(), LOADER);

        assertThat(source.name()).isEqualTo(file.toString());
        assertThat(source.entries()).containsExactly(Map.entry("server.port", "1234"));
    }

    @Test
    void ofLocationFallsBackToTheClasspath() {
        assertThat(ConfigSource.ofLocation("config/full.properties", LOADER).name())
                .isEqualTo("classpath:config/full.properties");
        assertThat(ConfigSource.ofLocation("classpath:config/full.properties", LOADER)
                        .name())
                .isEqualTo("classpath:config/full.properties");
    }

    @Test
    void ofLocationNamesALocationThatIsNeither() {
        assertThatThrownBy(() -> ConfigSource.ofLocation("etc/nope.properties", LOADER))
                .isInstanceOf(ConfigException.class)
                .hasMessage("config: etc/nope.properties (expected: an existing file or classpath resource)");
        assertThatThrownBy(() -> ConfigSource.ofLocation(null, LOADER))
                .hasMessage("config: missing (expected: an existing file or classpath resource)");
        assertThatThrownBy(() -> ConfigSource.ofLocation(" ", LOADER))
                .hasMessage("config: \"\" (expected: an existing file or classpath resource)");
        assertThatThrownBy(() -> ConfigSource.ofLocation("classpath:nope.properties", LOADER))
                .hasMessage("cannot read configuration resource: not found [classpath:nope.properties]");
    }

    @Test
    void ofSystemPropertiesKeepsOnlyPrefixedKeysWithoutThePrefix() {
        Properties properties = new Properties();
        properties.setProperty("proxyfilter.server.port", "9090");
        properties.setProperty("proxyfilter.route.main.path", "/x");
        properties.setProperty("java.version", "17");
        properties.setProperty("proxyfilterserver.port", "1");

        ConfigSource source = ConfigSource.ofSystemProperties(properties);

        assertThat(source.name()).isEqualTo("system property");
        assertThat(source.entries())
                .containsExactlyInAnyOrderEntriesOf(Map.of(
                        "server.port", "9090",
                        "route.main.path", "/x"));
        assertThat(source.sourceOf("server.port")).isEqualTo("system property proxyfilter.server.port");
    }

    @Test
    void aPropertiesFileSettingAKeyTwiceIsAnError() throws IOException {
        Path file = dir.resolve("twice.properties");
        Files.writeString(
                file,
                "pool.web.backend.a.url=http://a\npool.web.backend.b.url=http://b\n"
                        + "pool.web.backend.a.url = http://b  \n");

        assertThatThrownBy(() -> ConfigSource.ofFile(file))
                .isInstanceOf(ConfigException.class)
                .hasMessage("pool.web.backend.a.url: http://b (expected: each key once per file) [" + file + "]");
    }

    @Test
    void aFileSourceLoadsLikeAnyOther() throws IOException {
        Path file = dir.resolve("proxy.properties");
        Files.writeString(file, "pool.web.backend.a.url=http://127.0.0.1:9001\npool.web.backend.a.weight=-1\n");

        assertThatThrownBy(() -> ConfigLoader.load(List.of(ConfigSource.ofFile(file))))
                .hasMessage("pool.web.backend.a.weight: -1 (expected: integer >= 0) [" + file + "]");
    }
}
