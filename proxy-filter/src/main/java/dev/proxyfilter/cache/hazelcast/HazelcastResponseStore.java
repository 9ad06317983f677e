package dev.proxyfilter.cache.hazelcast;

import com.hazelcast.client.map.impl.nearcache.NearCachedClientMapProxy;
import com.hazelcast.core.EntryView;
import com.hazelcast.internal.nearcache.NearCache;
import com.hazelcast.map.IMap;
import com.hazelcast.map.LocalMapStats;
import com.hazelcast.map.impl.proxy.NearCachedMapProxyImpl;
import com.hazelcast.query.Predicate;
import com.hazelcast.query.Predicates;
import dev.proxyfilter.cache.ResponseStore;
import dev.proxyfilter.cache.StoreEntry;
import dev.proxyfilter.cache.StoreStats;
import dev.proxyfilter.cache.StoredResponse;
import dev.proxyfilter.cache.TierUsage;
import dev.proxyfilter.cluster.Cluster;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The shared tier: a {@link ResponseStore} on a Hazelcast {@link IMap} that every instance of the cluster reads
 * and writes, partitioned over the members with one backup each, a near cache on each instance for hot
 * entries.
 *
 * <p>Every operation is bounded by {@code cache.shared-timeout} ({@link Remote}): a slow or unreachable cluster
 * makes a read a miss, a write a no-op, a removal one try. A write or removal is announced on the cache's
 * topic, so that the other instances drop their local copy of the key ({@link HazelcastSharedCache}); the near
 * caches are Hazelcast's to invalidate.
 *
 * <p>Near caches and staleness: a near cache also remembers misses, and hears of another member's write a
 * little later than the write returns. {@link #getLatest} therefore reads the owning member's copy with
 * {@link IMap#getEntryView}, which no near cache answers: what a node waiting for another's fill reads.
 *
 * <p>A hot read must cost what a near-cache hit costs, well under a microsecond. {@link IMap#get} does, but
 * cannot be bounded by our timeout when it goes remote; {@link IMap#getAsync} can, but hands even a near-cache
 * hit to another thread to complete its future (hundreds of microseconds on a busy machine). So {@link #get}
 * first peeks into the near cache itself, through Hazelcast's internal {@code NearCache} of the member's or
 * client's proxy (the same call its own {@code get} makes, staleness checks included), and goes remote with
 * {@code getAsync} only when the key is not there. The internal classes are those of Hazelcast 5.7; where a
 * proxy is not one of them (no near cache, or another version), every read takes the asynchronous path.
 */
final class HazelcastResponseStore implements ResponseStore {
    /** The {@link #tiers()} name of this tier. */
    static final String TIER = "Shared";

    private final IMap<String, StoreEntry> map;
    /** The map's near cache, read directly for hot entries; {@code null} when there is none. */
    private final NearCache<Object, Object> nearCache;

    private final Cluster cluster;
    private final Remote remote;
    private final long maxEntryBytes;
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder puts = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final LongAdder removals = new LongAdder();

    HazelcastResponseStore(IMap<String, StoreEntry> map, Cluster cluster, Remote remote, long maxEntryBytes) {
        this.map = map;
        this.nearCache = nearCacheOf(map);
        this.cluster = cluster;
        this.remote = remote;
        this.maxEntryBytes = maxEntryBytes;
    }

    private static NearCache<Object, Object> nearCacheOf(IMap<?, ?> map) {
        if (map instanceof NearCachedMapProxyImpl<?, ?> member) {
            return member.getNearCache();
        }
        if (map instanceof NearCachedClientMapProxy<?, ?> client) {
            return client.getNearCache();
        }
        return null;
    }

    @Override
    public StoreEntry get(String key) {
        if (nearCache != null) {
            Object cached = nearCache.get(key);
            if (cached instanceof StoreEntry hot) {
                hits.increment();
                return hot;
            }
            if (cached == NearCache.CACHED_AS_NULL) {
                misses.increment(); // a miss the near cache remembers, until a write invalidates it
                return null;
            }
        }
        StoreEntry entry;
        try {
            entry = remote.await("reading " + key, () -> map.getAsync(key));
        } catch (Remote.Unavailable e) {
            entry = null;
        }
        (entry == null ? misses : hits).increment();
        return entry;
    }

    @Override
    public StoreEntry getLatest(String key) {
        try {
            EntryView<String, StoreEntry> view = remote.call("reading " + key, () -> map.getEntryView(key));
            return view == null ? null : view.getValue();
        } catch (Remote.Unavailable e) {
            return null;
        }
    }

    @Override
    public boolean put(String key, StoreEntry entry) {
        if (entry instanceof StoredResponse && entry.weightBytes() > maxEntryBytes) {
            rejected.increment();
            remove(key);
            return false;
        }
        try {
            remote.await("storing " + key, () -> map.setAsync(key, entry));
        } catch (Remote.Unavailable e) {
            return false;
        }
        puts.increment();
        cluster.publish(HazelcastSharedCache.TOPIC, HazelcastSharedCache.STORED + key);
        return true;
    }

    @Override
    public void remove(String key) {
        try {
            remote.await("removing " + key, () -> map.deleteAsync(key));
        } catch (Remote.Unavailable e) {
            // the local copies go all the same
        }
        removals.increment();
        cluster.publish(HazelcastSharedCache.TOPIC, HazelcastSharedCache.REMOVED + key);
    }

    /**
     * Finds the keys on the members with a {@code LIKE} query on the key (a superset of the prefix: {@code %} and
     * {@code _} in it match more), keeps those that start with the prefix, and deletes them; then tells every
     * instance to purge its local tier by the same prefix.
     */
    @Override
    public int removeByPrefix(String prefix) {
        int removed = 0;
        try {
            Predicate<String, StoreEntry> query = prefix.indexOf('\\') >= 0
                    ? Predicates.alwaysTrue() // a backslash escapes in LIKE: scan instead
                    : Predicates.like("__key", prefix + "%");
            Set<String> keys = remote.callAdmin("finding keys under " + prefix, () -> map.keySet(query));
            List<CompletableFuture<Boolean>> deletions = new ArrayList<>();
            for (String key : keys) {
                if (key.startsWith(prefix)) {
                    deletions.add(map.deleteAsync(key).toCompletableFuture());
                }
            }
            CompletableFuture.allOf(deletions.toArray(CompletableFuture[]::new))
                    .get(remote.adminTimeoutMillis(), TimeUnit.MILLISECONDS);
            removed = deletions.size();
        } catch (Remote.Unavailable e) {
            // counted and logged; the local tiers are purged all the same
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            remote.failures.increment();
        }
        removals.add(removed);
        cluster.publish(HazelcastSharedCache.TOPIC, HazelcastSharedCache.PURGED + prefix);
        return removed;
    }

    @Override
    public long maxEntryBytes() {
        return maxEntryBytes;
    }

    /** What this member holds of the shared map (owned entries and their heap cost); -1 on a client. */
    @Override
    public Map<String, TierUsage> tiers() {
        try {
            LocalMapStats stats = map.getLocalMapStats();
            return Map.of(TIER, new TierUsage(stats.getOwnedEntryCount(), stats.getOwnedEntryMemoryCost(), 0));
        } catch (RuntimeException | LinkageError e) {
            return Map.of(TIER, new TierUsage(-1, -1, 0)); // a client has no share; a stopped member none either
        }
    }

    @Override
    public StoreStats stats() {
        return new StoreStats(hits.sum(), misses.sum(), puts.sum(), rejected.sum(), removals.sum());
    }

    /** Calls that timed out. */
    long timeouts() {
        return remote.timeouts.sum();
    }

    /** Calls that failed otherwise (the cluster unreachable, this member stopped). */
    long failures() {
        return remote.failures.sum();
    }

    /** Nothing to release: the map belongs to the cluster, which outlives this store. */
    @Override
    public void close() {}
}
