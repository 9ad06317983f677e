package dev.proxyfilter.cache.hazelcast;

import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.EvictionConfig;
import com.hazelcast.config.EvictionPolicy;
import com.hazelcast.config.InMemoryFormat;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MaxSizePolicy;
import com.hazelcast.config.NearCacheConfig;
import com.hazelcast.config.SerializationConfig;
import com.hazelcast.config.SerializerConfig;
import dev.proxyfilter.cache.StoreEntry;
import dev.proxyfilter.cluster.hazelcast.ClusterPart;
import dev.proxyfilter.config.CacheConfig;
import dev.proxyfilter.config.ProxyConfig;

/**
 * The shared cache's share of the Hazelcast configuration, found by {@link java.util.ServiceLoader}: the entry
 * serializer, and the shared map with its size (per member, least recently used evicted) and near cache.
 * Adds nothing the user's Hazelcast file configures already, and nothing when {@code cache.store} is local.
 *
 * <p>The near cache keeps decoded entries ({@code OBJECT}), on a member its own partitions' entries too, and is
 * invalidated on change; its size is {@code cache.near-cache-entries}. The map keeps one synchronous backup, so a member that
 * dies loses no entry.
 */
public final class SharedCachePart implements ClusterPart {

    @Override
    public void configureMember(Config config, ProxyConfig proxy) {
        CacheConfig cache = proxy.cache();
        if (!cache.shared()) {
            return;
        }
        addSerializer(config.getSerializationConfig());
        if (config.getMapConfigOrNull(HazelcastSharedCache.MAP) == null) {
            MapConfig map = new MapConfig(HazelcastSharedCache.MAP)
                    .setBackupCount(1)
                    .setEvictionConfig(new EvictionConfig()
                            .setEvictionPolicy(EvictionPolicy.LRU)
                            .setMaxSizePolicy(MaxSizePolicy.USED_HEAP_SIZE)
                            .setSize((int) cache.sharedMb()));
            if (cache.nearCacheEntries() > 0) {
                // A member reads the entries it owns from its own partitions, decoding each time: cache them too.
                map.setNearCacheConfig(nearCache(cache).setCacheLocalEntries(true));
            }
            config.addMapConfig(map);
        }
    }

    @Override
    public void configureClient(ClientConfig config, ProxyConfig proxy) {
        CacheConfig cache = proxy.cache();
        if (!cache.shared()) {
            return;
        }
        addSerializer(config.getSerializationConfig());
        if (cache.nearCacheEntries() > 0 && config.getNearCacheConfig(HazelcastSharedCache.MAP) == null) {
            config.addNearCacheConfig(nearCache(cache));
        }
    }

    private static NearCacheConfig nearCache(CacheConfig cache) {
        return new NearCacheConfig(HazelcastSharedCache.MAP)
                .setInMemoryFormat(InMemoryFormat.OBJECT)
                .setInvalidateOnChange(true)
                .setEvictionConfig(new EvictionConfig()
                        .setEvictionPolicy(EvictionPolicy.LRU)
                        .setMaxSizePolicy(MaxSizePolicy.ENTRY_COUNT)
                        .setSize((int) cache.nearCacheEntries()));
    }

    private static void addSerializer(SerializationConfig serialization) {
        boolean present = serialization.getSerializerConfigs().stream()
                .anyMatch(existing -> existing.getTypeClass() == StoreEntry.class
                        || StoreEntry.class.getName().equals(existing.getTypeClassName()));
        if (!present) {
            serialization.addSerializerConfig(new SerializerConfig()
                    .setTypeClass(StoreEntry.class)
                    .setImplementation(new StoreEntrySerializer()));
        }
    }
}
