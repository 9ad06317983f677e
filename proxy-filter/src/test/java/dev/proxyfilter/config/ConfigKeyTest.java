package dev.proxyfilter.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The key registry: what it declares per key holds, and what it derives is what the rest of the code expects. */
class ConfigKeyTest {
    private static final Map<String, String> MINIMAL = Map.of(
            "pool.web.backend.a.url", "http://127.0.0.1:9001",
            "route.main.path", "/",
            "route.main.pool", "web");

    @TempDir
    static Path files;

    @Test
    void restartOnlyGroupsAreTheOnesTheEngineReports() {
        // The list dev.proxyfilter.forward.ProxyEngine.RESTART_ONLY holds today, in its order.
        assertThat(ConfigKey.restartOnly())
                .containsExactly(
                        "server.*",
                        "admin.*",
                        "log.access.*",
                        "demo.*",
                        "proxy.tls.*",
                        "cache.*",
                        "cluster.*",
                        "reload.*");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(ConfigKey.class)
    void everyKeyIsDocumentedOnOneLine(ConfigKey key) {
        assertThat(key.doc()).isNotBlank().doesNotContain("\n");
        assertThat(key.expected()).isNotBlank().doesNotContain("\n");
        assertThat(key.defaultText()).isNotBlank().doesNotContain("\n");
        assertThat(key.template()).matches("[a-z]+(\\.([a-z][a-z0-9-]*|NAME))+"); // server.h2c, pool.NAME.h2.*
    }

    @Test
    void templatesAreUnique() {
        assertThat(List.of(ConfigKey.values()).stream().map(ConfigKey::template))
                .doesNotHaveDuplicates();
    }

    /** Setting a key to its documented default changes nothing, so the reference tells the truth. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(ConfigKey.class)
    void theDocumentedDefaultIsTheDefault(ConfigKey key) throws IOException {
        if (key.defaultValue().isEmpty()) {
            assertThat(key.defaultText())
                    .as("a default without a value says what applies")
                    .isNotEmpty();
            return;
        }
        Map<String, String> context = new HashMap<>(MINIMAL);
        context.putAll(contextFor(key));
        Map<String, String> withDefault = new HashMap<>(context);
        withDefault.put(concrete(key), key.defaultValue().orElseThrow());

        assertThat(load(withDefault)).isEqualTo(load(context));
    }

    private static ProxyConfig load(Map<String, String> entries) {
        return ConfigLoader.load(List.of(new ConfigSource("test", entries)));
    }

    /** The template with the names of {@link #MINIMAL}: pool web, backend a, route main. */
    static String concrete(ConfigKey key) {
        String first = key.template().startsWith("route.") ? "main" : "web";
        return key.template().replaceFirst("NAME", first).replaceFirst("NAME", "a");
    }

    /** The other keys a key only works with (see the rules in docs/configuration.md). */
    private static Map<String, String> contextFor(ConfigKey key) throws IOException {
        String template = key.template();
        if (template.startsWith("pool.NAME.health.")) {
            return Map.of("pool.web.health.path", "/health");
        }
        if (template.startsWith("route.NAME.auth.")) {
            Path users = Files.writeString(files.resolve("users"), "");
            return Map.of("route.main.auth", "basic", "route.main.auth.users-file", users.toString());
        }
        if (template.equals("cache.disk-persistent")) {
            return Map.of(
                    "cache.enabled", "true",
                    "cache.disk-mb", "16",
                    "cache.disk-path", files.resolve("cache").toString());
        }
        if (template.equals("cache.shared-timeout")
                || template.equals("cache.near-cache-entries")
                || template.equals("cache.shared-mb")) {
            return Map.of("cache.enabled", "true", "cache.store", "shared", "cluster.enabled", "true");
        }
        if (template.startsWith("cluster.") && !template.equals("cluster.enabled")) {
            return Map.of("cluster.enabled", "true");
        }
        if ((template.startsWith("cache.") && !template.equals("cache.enabled"))
                || template.equals("route.NAME.cache")) {
            return Map.of("cache.enabled", "true");
        }
        if (template.equals("security.client-ip-header")) {
            return Map.of("security.trusted-proxies", "10.0.0.0/8");
        }
        if (template.startsWith("security.rate-limit-")) {
            return Map.of("security.rate-limit", "10/s");
        }
        if (template.equals("pool.NAME.queue-timeout")) {
            return Map.of("pool.web.max-pending", "10", "pool.web.backend.a.max-connections", "10");
        }
        return Map.of();
    }
}
