package dev.proxyfilter.cache.ehcache;

import dev.proxyfilter.cache.ResponseStore;
import dev.proxyfilter.cache.StoreEntry;
import dev.proxyfilter.cache.StoreStats;
import dev.proxyfilter.cache.StoredResponse;
import dev.proxyfilter.cache.TierUsage;
import dev.proxyfilter.config.CacheConfig;
import dev.proxyfilter.config.ConfigException;
import java.net.MalformedURLException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;
import org.ehcache.Cache;
import org.ehcache.CacheManager;
import org.ehcache.config.builders.CacheConfigurationBuilder;
import org.ehcache.config.builders.CacheManagerBuilder;
import org.ehcache.config.builders.ResourcePoolsBuilder;
import org.ehcache.config.units.MemoryUnit;
import org.ehcache.core.EhcacheManager;
import org.ehcache.core.internal.statistics.DefaultStatisticsService;
import org.ehcache.core.spi.service.StatisticsService;
import org.ehcache.xml.XmlConfiguration;

/**
 * A {@link ResponseStore} on Ehcache 3: a heap tier counted in entries, an optional off-heap tier and an
 * optional disk tier, which survives a restart when the configuration says {@code persistent}.
 *
 * <p>Keys are strings (Ehcache's own serializer); values are {@link StoreEntry}s, held as objects on the
 * heap tier and in the form of {@link StoreEntrySerializer} below it. The per-entry limit is checked here,
 * before Ehcache sees an entry. Eviction is Ehcache's, by capacity; entries carry no Ehcache expiry, since a
 * stale response stays useful for validation and {@code stale-if-error}.
 *
 * <p>An advanced user may size the tiers in an Ehcache XML file instead ({@link #fromXml}); it must hold a
 * {@code <cache-template name="proxy-filter">} (resources, and a {@code <persistence directory>} for a disk
 * tier); this class creates the cache {@value #CACHE_ALIAS} from it with its own key and value types.
 */
public final class EhcacheResponseStore implements ResponseStore {
    /** The alias of the one cache, and the name of the template an XML configuration must provide. */
    public static final String CACHE_ALIAS = "proxy-filter";

    private final CacheManager manager;
    private final StatisticsService statistics;
    private final Cache<String, StoreEntry> cache;
    private final long maxEntryBytes;
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder puts = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final LongAdder removals = new LongAdder();

    private EhcacheResponseStore(
            CacheManager manager, StatisticsService statistics, Cache<String, StoreEntry> cache, long maxEntryBytes) {
        this.manager = manager;
        this.statistics = statistics;
        this.cache = cache;
        this.maxEntryBytes = maxEntryBytes;
    }

    /**
     * Opens the store the configuration describes: its tiers, or its Ehcache XML file. With a persistent
     * disk tier, what an earlier run stored in {@code diskPath} is there again.
     *
     * @throws ConfigException when the disk folder or the XML file cannot be used
     */
    public static EhcacheResponseStore open(CacheConfig config) {
        if (config.ehcacheXml() != null) {
            return fromXml(config.ehcacheXml(), config.maxEntryBytes());
        }
        ResourcePoolsBuilder pools = ResourcePoolsBuilder.heap(config.heapEntries());
        if (config.offHeapMb() > 0) {
            pools = pools.offheap(config.offHeapMb(), MemoryUnit.MB);
        }
        if (config.hasDiskTier()) {
            pools = pools.disk(config.diskMb(), MemoryUnit.MB, config.persistent());
        }
        CacheConfigurationBuilder<String, StoreEntry> cacheConfig =
                CacheConfigurationBuilder.newCacheConfigurationBuilder(String.class, StoreEntry.class, pools)
                        .withValueSerializer(StoreEntrySerializer.class);
        StatisticsService statistics = new DefaultStatisticsService();
        CacheManager manager;
        if (config.hasDiskTier()) {
            Path folder = config.diskPath();
            try {
                Files.createDirectories(folder);
            } catch (Exception e) {
                throw invalid(
                        "cache.disk-path", folder.toString(), "a folder that can be created and written", null, e);
            }
            manager = build(
                    CacheManagerBuilder.newCacheManagerBuilder()
                            .using(statistics)
                            .with(CacheManagerBuilder.persistence(folder.toFile()))
                            .withCache(CACHE_ALIAS, cacheConfig),
                    "cache.disk-path",
                    folder.toString(),
                    "a folder that no other cache or process uses");
        } else {
            manager = build(
                    CacheManagerBuilder.newCacheManagerBuilder()
                            .using(statistics)
                            .withCache(CACHE_ALIAS, cacheConfig),
                    "cache.off-heap-mb",
                    Long.toString(config.offHeapMb()),
                    "a size the JVM's direct memory can hold");
        }
        return new EhcacheResponseStore(
                manager,
                statistics,
                manager.getCache(CACHE_ALIAS, String.class, StoreEntry.class),
                config.maxEntryBytes());
    }

    private static CacheManager build(
            CacheManagerBuilder<? extends CacheManager> builder, String key, String value, String expected) {
        try {
            return builder.build(true);
        } catch (RuntimeException e) {
            throw invalid(key, value, expected, null, e);
        }
    }

    /** {@code key: value (expected: ...; Ehcache: cause) [source]}, with the cause attached. */
    private static ConfigException invalid(String key, String value, String expected, String source, Exception cause) {
        String detail =
                cause == null || cause.getMessage() == null ? expected : expected + "; Ehcache: " + cause.getMessage();
        ConfigException exception = new ConfigException(key, value, detail, source);
        if (cause != null) {
            exception.initCause(cause);
        }
        return exception;
    }

    /**
     * Opens a store sized by an Ehcache XML file's {@code <cache-template name="proxy-filter">}.
     *
     * @throws ConfigException when the file does not parse or has no such template
     */
    public static EhcacheResponseStore fromXml(Path xmlFile, long maxEntryBytes) {
        Objects.requireNonNull(xmlFile, "xmlFile");
        String source = xmlFile.toString();
        String expected =
                "an Ehcache XML file with <cache-template name=\"" + CACHE_ALIAS + "\"> and no cache of that alias";
        XmlConfiguration xml;
        try {
            xml = new XmlConfiguration(xmlFile.toUri().toURL(), EhcacheResponseStore.class.getClassLoader());
        } catch (MalformedURLException | RuntimeException e) {
            throw invalid("cache.ehcache-xml", source, expected, source, e);
        }
        if (xml.getCacheConfigurations().containsKey(CACHE_ALIAS)) {
            throw invalid("cache.ehcache-xml", source, expected, source, null);
        }
        CacheConfigurationBuilder<String, StoreEntry> template;
        try {
            template = xml.newCacheConfigurationBuilderFromTemplate(CACHE_ALIAS, String.class, StoreEntry.class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw invalid("cache.ehcache-xml", source, expected, source, e);
        }
        if (template == null) {
            throw invalid("cache.ehcache-xml", source, expected, source, null);
        }
        StatisticsService statistics = new DefaultStatisticsService();
        CacheManager manager;
        try {
            manager = new EhcacheManager(xml, List.of(statistics));
            manager.init();
        } catch (RuntimeException e) {
            throw invalid("cache.ehcache-xml", source, expected, source, e);
        }
        Cache<String, StoreEntry> cache;
        try {
            cache = manager.createCache(CACHE_ALIAS, template.withValueSerializer(StoreEntrySerializer.class));
        } catch (RuntimeException e) {
            manager.close();
            throw invalid("cache.ehcache-xml", source, expected, source, e);
        }
        return new EhcacheResponseStore(manager, statistics, cache, maxEntryBytes);
    }

    @Override
    public StoreEntry get(String key) {
        StoreEntry entry = cache.get(key);
        (entry == null ? misses : hits).increment();
        return entry;
    }

    @Override
    public boolean put(String key, StoreEntry entry) {
        if (entry instanceof StoredResponse && entry.weightBytes() > maxEntryBytes) {
            rejected.increment();
            cache.remove(key);
            return false;
        }
        cache.put(key, entry);
        puts.increment();
        return true;
    }

    @Override
    public void remove(String key) {
        cache.remove(key);
        removals.increment();
    }

    @Override
    public int removeByPrefix(String prefix) {
        Set<String> doomed = new HashSet<>();
        for (Cache.Entry<String, StoreEntry> entry : cache) {
            if (entry.getKey().startsWith(prefix)) {
                doomed.add(entry.getKey());
            }
        }
        cache.removeAll(doomed);
        removals.add(doomed.size());
        return doomed.size();
    }

    @Override
    public long maxEntryBytes() {
        return maxEntryBytes;
    }

    @Override
    public Map<String, TierUsage> tiers() {
        Map<String, TierUsage> tiers = new TreeMap<>();
        statistics
                .getCacheStatistics(CACHE_ALIAS)
                .getTierStatistics()
                .forEach((name, tier) -> tiers.put(
                        name, new TierUsage(tier.getMappings(), tier.getOccupiedByteSize(), tier.getEvictions())));
        return tiers;
    }

    @Override
    public StoreStats stats() {
        return new StoreStats(hits.sum(), misses.sum(), puts.sum(), rejected.sum(), removals.sum());
    }

    /** Closes the cache manager; a persistent disk tier is flushed and kept for the next {@link #open}. */
    @Override
    public void close() {
        manager.close();
    }
}
