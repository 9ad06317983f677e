package dev.proxyfilter.config;

import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns the {@code cache.*} settings into a {@link CacheConfig}: each value is parsed on its own, then
 * the record's compact constructor checks them against each other; its {@code key: value (expected: ...)}
 * message is reported with the source of the key it names.
 */
final class CacheSettings {
    static final String LONG_AT_LEAST_1 = "integer >= 1";
    static final String LONG_AT_LEAST_0 = "integer >= 0";
    static final String FOLDER = "a folder path";
    private static final Pattern LONG = Pattern.compile("[0-9]{1,18}");
    private static final Pattern MESSAGE_KEY = Pattern.compile("^(cache\\.[a-z-]+): ");

    private CacheSettings() {}

    static CacheConfig build(Map<ConfigKey, Setting> settings) {
        CacheConfig.Builder builder = CacheConfig.builder().enabled(false);
        long diskMb = 0;
        Path diskPath = null;
        for (Map.Entry<ConfigKey, Setting> entry : settings.entrySet()) {
            Setting setting = entry.getValue();
            switch (entry.getKey()) {
                case CACHE_ENABLED -> builder.enabled(ConfigValues.bool(setting));
                case CACHE_HEAP_ENTRIES -> builder.heapEntries(longAtLeast(setting, 1, LONG_AT_LEAST_1));
                case CACHE_OFF_HEAP_MB -> builder.offHeapMb(longAtLeast(setting, 0, LONG_AT_LEAST_0));
                case CACHE_DISK_MB -> diskMb = longAtLeast(setting, 0, LONG_AT_LEAST_0);
                case CACHE_DISK_PATH -> diskPath = path(setting);
                case CACHE_DISK_PERSISTENT -> builder.persistent(ConfigValues.bool(setting));
                case CACHE_MAX_ENTRY_BYTES -> builder.maxEntryBytes(longAtLeast(setting, 1, LONG_AT_LEAST_1));
                case CACHE_EHCACHE_XML -> builder.ehcacheXml(path(setting));
                case CACHE_COALESCE_TIMEOUT -> builder.coalesceTimeout(ConfigValues.duration(setting, false));
                case CACHE_HEURISTIC_MAX -> builder.maxHeuristicFreshness(ConfigValues.duration(setting, false));
                default -> throw new IllegalStateException("not a cache key: " + entry.getKey());
            }
        }
        builder.disk(diskMb, diskPath);
        try {
            return builder.build();
        } catch (IllegalArgumentException e) {
            String message = String.valueOf(e.getMessage());
            Matcher matcher = MESSAGE_KEY.matcher(message);
            String source = settings.values().iterator().next().source();
            if (matcher.find()) {
                for (Setting setting : settings.values()) {
                    if (setting.key().equals(matcher.group(1))) {
                        source = setting.source();
                    }
                }
            }
            throw new ConfigException(message, source, null); // the message says it all
        }
    }

    private static long longAtLeast(Setting setting, long min, String expected) {
        if (!LONG.matcher(setting.value()).matches()) {
            throw setting.invalid(expected);
        }
        long value = Long.parseLong(setting.value());
        if (value < min) {
            throw setting.invalid(expected);
        }
        return value;
    }

    private static Path path(Setting setting) {
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
