package dev.proxyfilter.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The invariant of Caffeine's {@code CaffeineSpecFuzzer}: whatever the input, loading either succeeds
 * with a consistent config or throws {@link ConfigException} in the documented shape, never an NPE, a
 * {@link NumberFormatException}, an {@link IllegalArgumentException} from a record, or anything else.
 *
 * <p>Inputs are a valid config mutated by a seeded {@link Random}; case {@code i} uses seed
 * {@code SEED + i}, so a failure names the seed that reproduces it. Each test stops at its case count
 * or its time budget, whichever comes first, so that the suite stays fast on a busy machine.
 */
class ConfigLoaderFuzzTest {
    private static final long SEED = 0x5EED_C0F1_6L;
    private static final int CASES = 3000;
    // Time bounds the run past MIN_CASES, which always run.
    private static final long BUDGET_NANOS = TimeUnit.MILLISECONDS.toNanos(2000);
    private static final int MIN_CASES = 200;
    private static final String SOURCE = "fuzz";
    private static final Pattern MESSAGE =
            Pattern.compile("(?s)(.+: .+ \\(expected: .+\\)|cannot read configuration.*) \\[" + SOURCE + "]");

    private static final Map<String, String> VALID = Map.ofEntries(
            Map.entry("server.host", "0.0.0.0"),
            Map.entry("server.port", "8080"),
            Map.entry("proxy.via", "proxy-filter"),
            Map.entry("proxy.connect-timeout", "5s"),
            Map.entry("proxy.idle-timeout", "30s"),
            Map.entry("proxy.timeout", "0"),
            Map.entry("pool.web.strategy", "weighted-round-robin"),
            Map.entry("pool.web.sticky", "cookie:route"),
            Map.entry("pool.web.backend.a.url", "http://127.0.0.1:9001"),
            Map.entry("pool.web.backend.a.weight", "3"),
            Map.entry("pool.web.backend.b.url", "http://127.0.0.1:9002"),
            Map.entry("pool.web.backend.b.weight", "1"),
            Map.entry("route.main.path", "/"),
            Map.entry("route.main.host", ""),
            Map.entry("route.main.pool", "web"),
            Map.entry("route.main.strip-prefix", "false"),
            Map.entry("route.main.preserve-host", "true"),
            Map.entry("route.main.connect-timeout", "5s"),
            Map.entry("route.main.idle-timeout", "30s"),
            Map.entry("route.main.timeout", "0"),
            Map.entry("demo.backend.a.port", "9001"),
            Map.entry("demo.backend.b.port", "9002"),
            // A few security keys, one of each value type the fuzzer can break; every key costs time per case.
            Map.entry("security.trusted-proxies", "10.0.0.0/8,fd00::/8"),
            Map.entry("security.rate-limit", "100/s"),
            Map.entry("security.rate-limit-burst", "200"),
            Map.entry("security.response-headers.X-Frame-Options", "DENY"),
            Map.entry("route.main.rate-limit", "5/10s"));

    private static final String[] NAMES = {"web", "api", "a", "b", "main", "x-1", "_", "Web"};
    private static final String[] WORDS = {
        "true",
        "false",
        "TRUE",
        "yes",
        "random",
        "round-robin",
        "weighted-round-robin",
        "least-request",
        "response-time",
        "consistent-hash",
        "client-ip",
        "path",
        "header:X-User",
        "cookie:uid",
        "cookie:",
        "header",
        "/",
        "/api",
        "example.com",
        "0",
        "-0",
        "+1",
        "1e3",
        "0x10",
        "NaN",
        "null"
    };
    private static final String[] UNITS = {"ms", "s", "m", "h", "d", "S", "", " s", "sec"};
    private static final String[] SCHEMES = {"http://", "https://", "HTTP://", "ftp://", "//", "", "http:", "http:///"};
    private static final String[] HOSTS = {
        "127.0.0.1", "[::1]", "example.com", "my_host", "", "bücher.de", "[::1", "user:pw@h", "999.999.999.999"
    };
    private static final String KEY_CHARS = ".-_aZ9 é\u0000$@\u200b";
    private static final String TEXT_CHARS = "\\=: #!\n\r\tu0123456789abcdefé.";

    @Test
    void everyMutatedConfigLoadsOrFailsWithAConfigException() {
        Outcomes outcomes = run(seed -> {
            Random random = new Random(seed);
            Map<String, String> entries = mutate(random);
            return new Case(entries.toString(), () -> ConfigLoader.load(List.of(new ConfigSource(SOURCE, entries))));
        });

        assertThat(outcomes.loaded + outcomes.rejected).isGreaterThanOrEqualTo(MIN_CASES);
        assertThat(outcomes.loaded).as("configs that loaded").isPositive();
        assertThat(outcomes.rejected).as("configs that were rejected").isPositive();
    }

    @Test
    void everyMutatedPropertiesTextLoadsOrFailsWithAConfigException() {
        Outcomes outcomes = run(seed -> {
            Random random = new Random(seed);
            String text = mutateText(random);
            return new Case(text, () -> {
                try {
                    return ConfigLoader.load(List.of(ConfigSource.read(SOURCE, new StringReader(text))));
                } catch (IOException e) {
                    throw new AssertionError("a StringReader cannot fail", e);
                }
            });
        });

        assertThat(outcomes.loaded + outcomes.rejected).isGreaterThanOrEqualTo(MIN_CASES);
        assertThat(outcomes.loaded).as("configs that loaded").isPositive();
        assertThat(outcomes.rejected).as("configs that were rejected").isPositive();
    }

    private static final class Outcomes {
        int loaded;
        int rejected;
    }

    private record Case(String input, Supplier<ProxyConfig> load) {}

    private interface CaseFactory {
        Case create(long seed);
    }

    private static Outcomes run(CaseFactory factory) {
        long deadline = System.nanoTime() + BUDGET_NANOS;
        Outcomes outcomes = new Outcomes();
        // The budget only stops a run past the floor, so a loaded machine runs slower, never fewer cases.
        for (int i = 0; i < CASES && (i < MIN_CASES || System.nanoTime() - deadline < 0); i++) {
            long seed = SEED + i;
            Case c = factory.create(seed);
            try {
                checkConsistent(c.load().get());
                outcomes.loaded++;
            } catch (ConfigException e) {
                if (!MESSAGE.matcher(e.getMessage()).matches()) {
                    fail(
                            "seed %d: message not in the documented shape: %s%ninput: %s",
                            seed, e.getMessage(), c.input());
                }
                outcomes.rejected++;
            } catch (RuntimeException | Error e) {
                throw new AssertionError("seed " + seed + ": " + e + "\ninput: " + c.input(), e);
            }
        }
        return outcomes;
    }

    // Plain checks rather than AssertJ: this runs thousands of times within the time budget.
    private static void checkConsistent(ProxyConfig config) {
        String previous = "";
        for (RouteConfig route : config.routes()) {
            check(route.name().compareTo(previous) > 0, "routes sorted by name", config);
            check(config.pools().containsKey(route.pool()), "route names a defined pool", config);
            check(route.path().startsWith("/"), "path starts with /", config);
            check(
                    !route.connectTimeout().isZero() && !route.connectTimeout().isNegative(),
                    "connect-timeout > 0",
                    config);
            check(!route.idleTimeout().isZero() && !route.idleTimeout().isNegative(), "idle-timeout > 0", config);
            previous = route.name();
        }
        for (PoolConfig pool : config.pools().values()) {
            check(!pool.backends().isEmpty(), "pool has a backend", config);
            for (BackendConfig backend : pool.backends()) {
                String scheme = backend.url().getScheme();
                check(scheme.equals("http") || scheme.equals("https"), "backend URL is http(s)", config);
            }
        }
    }

    private static void check(boolean condition, String invariant, ProxyConfig config) {
        if (!condition) {
            throw new AssertionError("invariant broken: " + invariant + " in " + config);
        }
    }

    private static Map<String, String> mutate(Random random) {
        Map<String, String> entries = new TreeMap<>(VALID);
        int mutations = 1 + random.nextInt(4);
        for (int m = 0; m < mutations; m++) {
            List<String> keys = new ArrayList<>(entries.keySet());
            String key = keys.isEmpty() ? "server.port" : keys.get(random.nextInt(keys.size()));
            switch (random.nextInt(5)) {
                case 0, 1 -> entries.put(key, randomValue(random));
                case 2 -> {
                    String value = entries.remove(key);
                    entries.put(mutateKey(random, key), value == null ? "" : value);
                }
                case 3 -> entries.remove(key);
                default -> entries.put(randomKey(random), randomValue(random));
            }
        }
        return new HashMap<>(entries);
    }

    private static String mutateText(Random random) {
        StringBuilder text = new StringBuilder();
        new TreeMap<>(VALID)
                .forEach((key, value) ->
                        text.append(key).append('=').append(value).append('\n'));
        int edits = 1 + random.nextInt(6);
        for (int e = 0; e < edits; e++) {
            int at = random.nextInt(text.length() + 1);
            switch (random.nextInt(3)) {
                case 0 -> text.insert(at, TEXT_CHARS.charAt(random.nextInt(TEXT_CHARS.length())));
                case 1 -> {
                    if (at < text.length()) {
                        text.deleteCharAt(at);
                    }
                }
                default -> text.insert(at, randomValue(random));
            }
        }
        return text.toString();
    }

    private static String randomKey(Random random) {
        ConfigKey[] keys = ConfigKey.values();
        String template = keys[random.nextInt(keys.length)].template();
        while (template.contains("NAME")) {
            String name = random.nextInt(4) == 0 ? randomString(random, 6) : NAMES[random.nextInt(NAMES.length)];
            template = template.replaceFirst("NAME", Matcher.quoteReplacement(name));
        }
        return random.nextInt(5) == 0 ? mutateKey(random, template) : template;
    }

    private static String mutateKey(Random random, String key) {
        StringBuilder mutated = new StringBuilder(key);
        int at = random.nextInt(key.length() + 1);
        switch (random.nextInt(4)) {
            case 0 -> mutated.insert(at, KEY_CHARS.charAt(random.nextInt(KEY_CHARS.length())));
            case 1 -> {
                if (at < mutated.length()) {
                    mutated.deleteCharAt(at);
                }
            }
            case 2 -> {
                if (at < mutated.length()) {
                    mutated.setCharAt(at, KEY_CHARS.charAt(random.nextInt(KEY_CHARS.length())));
                }
            }
            default -> {
                return key.toUpperCase(Locale.ROOT);
            }
        }
        return mutated.toString();
    }

    private static String randomValue(Random random) {
        return switch (random.nextInt(12)) {
            case 0 -> "";
            case 1 -> " \t ";
            case 2 -> digits(random, 1 + random.nextInt(25));
            case 3 -> "-" + digits(random, 1 + random.nextInt(12));
            case 4 -> random.nextBoolean() ? Long.toString(random.nextLong()) : Integer.toString(random.nextInt());
            case 5 -> digits(random, 1 + random.nextInt(20)) + UNITS[random.nextInt(UNITS.length)];
            case 6 -> randomString(random, random.nextInt(20));
            case 7 -> randomUnicode(random, random.nextInt(12));
            case 8 -> randomUrl(random);
            case 9 -> WORDS[random.nextInt(WORDS.length)];
            case 10 -> VALID.values().toArray(String[]::new)[random.nextInt(VALID.size())];
            default -> "/" + randomString(random, random.nextInt(10));
        };
    }

    private static String randomUrl(Random random) {
        StringBuilder url =
                new StringBuilder(SCHEMES[random.nextInt(SCHEMES.length)]).append(HOSTS[random.nextInt(HOSTS.length)]);
        if (random.nextBoolean()) {
            url.append(':')
                    .append(
                            random.nextInt(3) == 0
                                    ? digits(random, 1 + random.nextInt(15))
                                    : Integer.toString(random.nextInt(70000) - 100));
        }
        switch (random.nextInt(6)) {
            case 0 -> url.append('/');
            case 1 -> url.append("/app");
            case 2 -> url.append("?q=1");
            case 3 -> url.append("#f");
            case 4 -> url.append(randomString(random, 4));
            default -> {}
        }
        return url.toString();
    }

    private static String digits(Random random, int count) {
        StringBuilder digits = new StringBuilder(count);
        for (int i = 0; i < count; i++) {
            digits.append((char) ('0' + random.nextInt(10)));
        }
        return digits.toString();
    }

    private static String randomString(Random random, int length) {
        StringBuilder text = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            text.append((char) (' ' + random.nextInt(95)));
        }
        return text.toString();
    }

    /** Any UTF-16 unit, unpaired surrogates and control characters included. */
    private static String randomUnicode(Random random, int length) {
        StringBuilder text = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            text.append((char) random.nextInt(Character.MAX_VALUE + 1));
        }
        return text.toString();
    }
}
