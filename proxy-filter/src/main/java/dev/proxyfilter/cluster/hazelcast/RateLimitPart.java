package dev.proxyfilter.cluster.hazelcast;

import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.EvictionConfig;
import com.hazelcast.config.EvictionPolicy;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MaxSizePolicy;
import com.hazelcast.config.SerializationConfig;
import com.hazelcast.config.SerializerConfig;
import com.hazelcast.nio.serialization.Serializer;
import dev.proxyfilter.config.ProxyConfig;

/**
 * The cluster-wide rate limits' share of a member's Hazelcast configuration, found by
 * {@link java.util.ServiceLoader}: the serializers of {@link BucketProcessor} and its backup, and the map of
 * bucket states ({@value HazelcastBuckets#MAP}): one asynchronous backup (a rate limit that loses a member's last
 * changes only hands out a few tokens again; a synchronous backup would make every limited request wait for a
 * second member), and at most {@code security.rate-limit-max-keys} states per member, least recently used
 * evicted past it, so that a flood of distinct keys cannot grow the heap. Adds nothing the user's Hazelcast file
 * configures already, and nothing with {@code cluster.rate-limits=node}. A client adds nothing: it only reads and
 * replaces bytes.
 */
public final class RateLimitPart implements ClusterPart {

    @Override
    public void configureMember(Config config, ProxyConfig proxy) {
        if (!proxy.cluster().sharesRateLimits()) {
            return;
        }
        SerializationConfig serialization = config.getSerializationConfig();
        add(serialization, BucketProcessor.class, new BucketProcessor.Serializer());
        add(serialization, BucketProcessor.Backup.class, new BucketProcessor.BackupSerializer());
        if (config.getMapConfigOrNull(HazelcastBuckets.MAP) == null) {
            config.addMapConfig(new MapConfig(HazelcastBuckets.MAP)
                    .setBackupCount(0)
                    .setAsyncBackupCount(1)
                    .setEvictionConfig(new EvictionConfig()
                            .setEvictionPolicy(EvictionPolicy.LRU)
                            .setMaxSizePolicy(MaxSizePolicy.PER_NODE)
                            .setSize(proxy.security().rateLimitMaxKeys())));
        }
    }

    @Override
    public void configureClient(ClientConfig config, ProxyConfig proxy) {
        // Compare-and-swap on bytes: nothing to add.
    }

    private static void add(SerializationConfig serialization, Class<?> type, Serializer serializer) {
        boolean present = serialization.getSerializerConfigs().stream()
                .anyMatch(existing ->
                        existing.getTypeClass() == type || type.getName().equals(existing.getTypeClassName()));
        if (!present) {
            serialization.addSerializerConfig(
                    new SerializerConfig().setTypeClass(type).setImplementation(serializer));
        }
    }
}
