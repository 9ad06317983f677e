package dev.proxyfilter.config;

import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The value parsers of the {@code cache.*} keys, and the step that turns them into a {@link CacheConfig}:
 * each value is parsed on its own ({@link ConfigKey}), then the record's compact constructor checks them
 * against each other; its {@code key: value (expected: ...)} message is reported with the source of the
 * key it names.
 */
final class CacheValues {
    static final String LONG_AT_LEAST_1 = "integer >= 1";
    static final String LONG_AT_LEAST_0 = "integer >= 0";
    static final String FOLDER = "a folder path";
    static final String STORE = "local|shared";
    static final String NEAR_CACHE_ENTRIES = "integer 0.." + Integer.MAX_VALUE;
    static final String SHARED_MB = "integer 1.." + Integer.MAX_VALUE;
    private static final Pattern LONG = Pattern.compile("[0-9]{1,18}");
    private static final Pattern MESSAGE_KEY = Pattern.compile("^(cache\\.[a-z-]+): ");

    private CacheValues() {}

    /**
     * Builds the record from the parsed values.
     *
     * @param settings the {@code cache.*} settings by key, to name the source of the key a message names
     */
    static CacheConfig build(CacheConfig.Builder builder, Map<String, Setting> settings) {
        try {
            return builder.build();
        } catch (IllegalArgumentException e) {
            String message = String.valueOf(e.getMessage());
            Matcher matcher = MESSAGE_KEY.matcher(message);
            String source = settings.values().iterator().next().source();
            if (matcher.find() && settings.containsKey(matcher.group(1))) {
                source = settings.get(matcher.group(1)).source();
            }
            throw new ConfigException(message, source, null); // the message says it all
        }
    }

    static long longAtLeast(Setting setting, long min, String expected) {
        if (!LONG.matcher(setting.value()).matches()) {
            throw setting.invalid(expected);
        }
        long value = Long.parseLong(setting.value());
        if (value < min) {
            throw setting.invalid(expected);
        }
        return value;
    }

    static long longAtMost(Setting setting, long min, long max, String expected) {
        long value = longAtLeast(setting, min, expected);
        if (value > max) {
            throw setting.invalid(expected);
        }
        return value;
    }

    static CacheConfig.Store store(Setting setting) {
        for (CacheConfig.Store store : CacheConfig.Store.values()) {
            if (store.configName().equalsIgnoreCase(setting.value())) {
                return store;
            }
        }
        throw setting.invalid(STORE);
    }

    static Path path(Setting setting) {
        try {
            if (setting.value().isEmpty()) {
                throw setting.invalid(FOLDER);
            }
            return Path.of(setting.value());
        } catch (java.nio.file.InvalidPathException e) {
            throw setting.invalid(FOLDER);
        }
    }
}
