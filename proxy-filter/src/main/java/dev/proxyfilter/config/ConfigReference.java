package dev.proxyfilter.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reference of every configuration key, generated from {@link ConfigKey}: {@code docs/configuration.md}
 * ({@link #markdown()}) and the standalone proxy's {@code --list-keys} ({@link #keyList()}).
 *
 * <p>{@code docs/configuration.md} is committed; a test fails when it differs from {@link #markdown()}.
 * Regenerate it from the repository root with {@value #REGENERATE}.
 */
public final class ConfigReference {
    /** Where the generated reference lives, relative to the repository root. */
    public static final String DOCS_FILE = "docs/configuration.md";

    /** The command that rewrites {@link #DOCS_FILE}, run from the repository root. */
    public static final String REGENERATE = "./mvnw -B -o -q -pl proxy-filter compile && java -cp"
            + " proxy-filter/target/classes dev.proxyfilter.config.ConfigReference " + DOCS_FILE;

    /** A heading per first segment of a key, in the order of {@link ConfigKey}. */
    private static final Map<String, String> SECTIONS = Map.ofEntries(
            Map.entry("server", "Listener of the standalone proxy"),
            Map.entry("admin", "Admin listener of the standalone proxy"),
            Map.entry("log", "Access log"),
            Map.entry("demo", "Demo backends of the standalone proxy"),
            Map.entry("proxy", "Defaults for every route, request limits, upstream TLS"),
            Map.entry("pool", "Pools, backends and their health"),
            Map.entry("route", "Routes"),
            Map.entry("cache", "Response cache"),
            Map.entry("cluster", "Several instances as one"),
            Map.entry("reload", "Reloading the configuration"),
            Map.entry("security", "Security"));

    private ConfigReference() {}

    /**
     * Writes {@link #markdown()} to the file named by the first argument, {@value #DOCS_FILE} by default.
     *
     * @throws IOException if the file cannot be written
     */
    public static void main(String[] args) throws IOException {
        Path file = Path.of(args.length > 0 ? args[0] : DOCS_FILE);
        Files.writeString(file, markdown(), StandardCharsets.UTF_8);
        System.out.println("wrote " + file);
    }

    /**
     * One line per key: its template, its default, whether a reload applies it or it needs a restart, and
     * its documentation, in aligned columns.
     */
    public static String keyList() {
        int keyWidth = "KEY".length();
        int defaultWidth = "DEFAULT".length();
        for (ConfigKey key : ConfigKey.values()) {
            keyWidth = Math.max(keyWidth, key.template().length());
            defaultWidth = Math.max(defaultWidth, key.defaultText().length());
        }
        String format = "%-" + keyWidth + "s  %-" + defaultWidth + "s  %-7s  %s%n";
        StringBuilder out = new StringBuilder();
        out.append(String.format(format, "KEY", "DEFAULT", "APPLIED", "DESCRIPTION"));
        for (ConfigKey key : ConfigKey.values()) {
            out.append(String.format(format, key.template(), key.defaultText(), applied(key), key.doc()));
        }
        return out.toString();
    }

    /** The whole of {@value #DOCS_FILE}. */
    public static String markdown() {
        StringBuilder out = new StringBuilder();
        out.append("# Configuration reference\n\n");
        out.append("<!-- Generated from dev.proxyfilter.config.ConfigKey by ConfigReference: do not edit.\n");
        out.append("     Regenerate: ").append(REGENERATE).append(" -->\n\n");
        out.append(INTRO);
        out.append("\n## Keys\n");
        for (Map.Entry<String, List<ConfigKey>> section : sections().entrySet()) {
            out.append("\n### ")
                    .append(SECTIONS.getOrDefault(section.getKey(), section.getKey()))
                    .append(" (`")
                    .append(section.getKey())
                    .append(".*`)\n\n");
            out.append("| key | default | values | applied | description |\n");
            out.append("|---|---|---|---|---|\n");
            for (ConfigKey key : section.getValue()) {
                out.append("| `")
                        .append(key.template())
                        .append("` | ")
                        .append(
                                key.defaultValue().isPresent()
                                        ? "`" + key.defaultText() + "`"
                                        : escape(key.defaultText()))
                        .append(" | ")
                        .append(escape(key.expected()))
                        .append(" | ")
                        .append(applied(key))
                        .append(" | ")
                        .append(escape(key.doc()))
                        .append(" |\n");
            }
        }
        out.append(
                RULES.replace("{MAX_WEIGHT_WITH_SLOW_START}", String.valueOf(HealthConfig.MAX_WEIGHT_WITH_SLOW_START)));
        out.append("\nThese groups need a restart to change: ");
        List<String> groups = new ArrayList<>();
        for (String pattern : ConfigKey.restartOnly()) {
            groups.add("`" + pattern + "`");
        }
        out.append(String.join(", ", groups)).append(".\n");
        return out.toString();
    }

    private static Map<String, List<ConfigKey>> sections() {
        Map<String, List<ConfigKey>> sections = new LinkedHashMap<>();
        for (ConfigKey key : ConfigKey.values()) {
            String first = key.template().substring(0, key.template().indexOf('.'));
            sections.computeIfAbsent(first, name -> new ArrayList<>()).add(key);
        }
        return sections;
    }

    private static String applied(ConfigKey key) {
        return key.applied() == ConfigKey.Applied.ON_RELOAD ? "reload" : "restart";
    }

    /** Text in a Markdown table cell: the characters Markdown or the table would read are escaped. */
    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length() + 8);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if ("\\`*_[]<>|~".indexOf(c) >= 0) {
                out.append('\\');
            }
            out.append(c);
        }
        return out.toString();
    }

    private static final String INTRO = """
            One properties format, loaded the same way from every source: a file (`bin/proxy-filter --config FILE`,
            or the filter's `config` init-param), `web.xml` init-params, and `-Dproxyfilter.KEY=VALUE` system
            properties, which override any key of any source. `config/proxy.properties` is a commented sample that
            names every key; `bin/proxy-filter --list-keys` prints the table below in short.

            `NAME` in a key is a pool, backend, route or demo backend name of letters, digits, `_` and `-` (in
            `security.response-headers.NAME`, the header's name). *applied* says whether a reload (a change of the
            file, SIGHUP, `POST /api/reload`) applies a change of the key, or whether only a restart does: a reload
            that changes a restart key reports it and keeps the running value.

            Values are trimmed. Booleans are `true` or `false` in any case. Durations are an integer with a unit,
            `ms`, `s`, `m` or `h` (`500ms`, `5s`), or plain `0`. Backend URLs are stored without the trailing `/`,
            scheme and host in lower case.
            """;

    private static final String RULES = """

            ## Rules

            A bad configuration stops start-up (or is rejected by a reload, the old one serving on) with a message
            that names the key, its value, what was expected and the source of the value:

                pool.web.backend.b.weight: -1 (expected: integer >= 0) [config/proxy.properties]

            Keys are checked in sorted order, then groups (pools, routes, demo backends) in name order; the first
            problem is reported.

            - An empty configuration is valid: with no route, the filter passes every request down the chain.
            - Unknown keys are errors, with the closest known key as a hint, so that a typo is never silently
              ignored. For the same reason a properties file may set each key only once.
            - A pool needs at least one backend, and one that is not a backup; a route needs `path` and `pool`, and
              the pool must exist. A pool no route uses is fine. No two routes may have the same host and path.
            - Demo backends need distinct ports, none equal to `server.port`.
            - Key and trust store files must exist when the configuration loads (a relative path is relative to the
              working directory); users and JWKS files must be readable then, and their content is checked when the
              engine starts. Passwords and tokens never appear in messages.

            ### Keys that only work together

            A key that would do nothing because of another one is an error that names both, never a silent no-op:

            | key | needs |
            |---|---|
            | `server.tls.keystore-password`, `server.tls.redirect-port` | `server.tls.keystore` (and the keystore needs its password) |
            | `proxy.tls.truststore-password` | `proxy.tls.truststore` |
            | `pool.NAME.hash-key` | `pool.NAME.strategy=consistent-hash`, which requires it |
            | `pool.NAME.health.*` other than `path` | `pool.NAME.health.path`, which turns checks on |
            | `pool.NAME.slow-start` above 0 | backend weights of at most {MAX_WEIGHT_WITH_SLOW_START} |
            | `security.rate-limit-burst`, `security.rate-limit-key` | `security.rate-limit` |
            | `route.NAME.rate-limit-burst`, `route.NAME.rate-limit-key` | `route.NAME.rate-limit` other than `none` |
            | `route.NAME.auth.*` | `route.NAME.auth` of the kind that uses it (`users-file`: basic; `jwks-file`, `issuer`, `audience`, `claims-to-headers`: jwt) |
            | `cache.disk-mb` above 0, `cache.disk-path` | each other |
            | `cache.ehcache-xml` | no `cache.off-heap-mb` or `cache.disk-mb` |
            | `admin.host` other than loopback | `admin.token` |
            | `route.NAME.cache=true` | `cache.enabled=true`: the route's default already caches whenever the cache is on |
            | `cache.*` other than `enabled` | `cache.enabled` set, to `true` or to an explicit `false` |
            | `cache.disk-persistent` | a disk tier: `cache.disk-mb` above 0 |
            | `cache.shared-timeout`, `cache.near-cache-entries`, `cache.shared-mb` | `cache.store=shared` |
            | `cache.store=shared` (with the cache on) | `cluster.enabled=true` |
            | `cluster.*` other than `enabled` | `cluster.enabled` set, to `true` or to an explicit `false` |
            | `cluster.name`, `cluster.members`, `cluster.port`, `cluster.interface` | no `cluster.hazelcast-xml`, whose file configures all that |
            | `cluster.port`, `cluster.interface` | `cluster.mode=embedded`: a client has no port of its own |
            | `cluster.mode=client` | `cluster.members` (or `cluster.hazelcast-xml`): the members to connect to |
            | `pool.NAME.backend.NAME.weight` above 1 | a strategy other than `round-robin`, which ignores weights |
            | `pool.NAME.slow-start` above 0 | a strategy other than `round-robin` and `consistent-hash`, which ignore its ramp |
            | `pool.NAME.queue-timeout` | `pool.NAME.max-pending` |
            | `pool.NAME.max-pending` above 0 | a backend of the pool with `max-connections` above 0: only then does a request wait |
            | `security.client-ip-header` | `security.trusted-proxies`, whose chain it names |
            | `security.rate-limit-max-keys` | `security.rate-limit` or a `route.NAME.rate-limit` |

            The message names both keys, for example

                route.api.cache: true (expected: cache.enabled=true too; the response cache is off) [config/proxy.properties]

            A feature switched off explicitly keeps its other keys, so that it can be switched off and on again
            without deleting them: `cache.enabled=false`, `cluster.enabled=false`, `reload.watch=false` (`reload.debounce` stays),
            `admin.port=-1` (`admin.host`, `admin.token`), `pool.NAME.outlier.consecutive-failures=0` (the other
            `outlier.*` keys), `retries=0` (`retry-on`), `pool.NAME.max-pending=0`
            (`queue-timeout`) and `security.trusted-proxies=` (empty; `security.client-ip-header`).
            `route.NAME.auth=none` is the exception: it does not keep the `auth.*` keys.
            """;
}
