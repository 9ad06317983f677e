package dev.proxyfilter.cache;

/**
 * Where cache entries live, by key: a {@link StoredResponse} under a primary or variant key, a
 * {@link VaryIndex} under the primary key of a resource whose responses vary (see {@link CacheKeys}).
 * The store knows nothing of HTTP; {@link HttpCache} decides what goes in and comes out.
 *
 * <p>Implementations are thread-safe, may evict any entry at any time (capacity), and enforce a per-entry
 * limit: a response whose body is larger than {@link #maxEntryBytes()} is refused. The Ehcache-backed
 * implementation is {@code dev.proxyfilter.cache.ehcache.EhcacheResponseStore}; {@link #inMemory} is a
 * small heap-only one for tests and embedding.
 */
public interface ResponseStore extends AutoCloseable {

    /** Usage by tier name ({@code OnHeap}, {@code OffHeap}, {@code Disk}); empty where the store cannot tell. */
    default java.util.Map<String, TierUsage> tiers() {
        return java.util.Map.of();
    }

    /** The entry under {@code key}, or {@code null}. */
    StoreEntry get(String key);

    /**
     * The entry under {@code key} with the tier it came from, or {@code null}. A store of one tier says no tier
     * ({@code null}); a {@link TieredResponseStore} says {@value TieredResponseStore#LOCAL} or
     * {@value TieredResponseStore#SHARED}, which {@code Cache-Status} reports.
     */
    default Found find(String key) {
        StoreEntry entry = get(key);
        return entry == null ? null : new Found(entry, null);
    }

    /**
     * The entry under {@code key} as the store's authority holds it now, bypassing copies kept near the caller
     * that may lag behind a write elsewhere (a near cache, which also remembers misses); {@link #get} for a
     * store that keeps no such copies. For the rare reads that must see another node's write that they were
     * told about, not for each request.
     */
    default StoreEntry getLatest(String key) {
        return get(key);
    }

    /**
     * Stores {@code entry} under {@code key}, replacing what was there. A response larger than
     * {@link #maxEntryBytes()} is refused, and what was stored under the key is removed, since it is
     * outdated by the refused response.
     *
     * @return whether the entry was stored
     */
    boolean put(String key, StoreEntry entry);

    /** Removes what is stored under {@code key}, if anything. */
    void remove(String key);

    /**
     * Removes every entry whose key starts with {@code prefix} (purge by URI prefix: variants included,
     * since their keys start with their primary key). May visit every entry: an administrative operation,
     * not one for each request.
     *
     * @return how many entries were removed
     */
    int removeByPrefix(String prefix);

    /** The largest body stored, in bytes. */
    long maxEntryBytes();

    /** Counters since the store was opened. */
    StoreStats stats();

    /** Releases the store's resources; a persistent store writes what it must to survive a restart. */
    @Override
    void close();

    /**
     * An entry and the tier that held it.
     *
     * @param entry the entry
     * @param tier  the tier's name as {@code Cache-Status} gives it, {@code null} for a store of one tier
     */
    record Found(StoreEntry entry, String tier) {}

    /**
     * A heap-only store holding at most {@code maxEntries} entries, least recently used evicted first.
     * Meant for tests and small embeddings; use Ehcache for anything with a disk or off-heap tier.
     */
    static ResponseStore inMemory(int maxEntries, long maxEntryBytes) {
        return new InMemoryResponseStore(maxEntries, maxEntryBytes);
    }
}
