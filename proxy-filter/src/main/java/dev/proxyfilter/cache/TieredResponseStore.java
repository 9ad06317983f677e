package dev.proxyfilter.cache;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * This instance's own store in front of one the cluster shares: a lookup asks the local tier, then the shared
 * one; a write goes to both; a removal or a purge removes from both.
 *
 * <h2>What the local tier holds</h2>
 * The responses this instance stored itself, nothing else: an entry read from the shared tier is not copied
 * into the local one. The shared store keeps hot entries of other instances close by itself (a near cache,
 * which its cluster keeps coherent), and a copy in the local tier would be one more copy to invalidate, with a
 * window in which a stale near-cache answer could be copied back in after an invalidation. The local tier
 * then serves this instance's own responses without a network hop, and keeps serving them while the shared
 * tier cannot be reached.
 *
 * <h2>Keeping the local tiers coherent</h2>
 * A write or removal in the shared tier is announced to the other instances, which drop their local copy of
 * the key ({@link #local()}{@code .remove}); a purge by prefix likewise. That wiring belongs to whoever
 * builds this store with a shared tier (see {@code dev.proxyfilter.cache.hazelcast}).
 *
 * <p>Failures of the shared tier never surface: its store turns a timeout or an unreachable cluster into a
 * miss, a skipped write, a removal that is tried once.
 */
public final class TieredResponseStore implements ResponseStore {
    /** {@code Cache-Status} detail of an entry found in the local tier. */
    public static final String LOCAL = "local";
    /** {@code Cache-Status} detail of an entry found in the shared tier. */
    public static final String SHARED = "shared";

    private final ResponseStore local;
    private final ResponseStore shared;
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();

    /**
     * @param local  this instance's tiers; its per-entry limit is this store's, and it is closed with it
     * @param shared the cluster's tier, with the same per-entry limit; closed with this store
     */
    public TieredResponseStore(ResponseStore local, ResponseStore shared) {
        this.local = Objects.requireNonNull(local, "local");
        this.shared = Objects.requireNonNull(shared, "shared");
    }

    /** This instance's tier, where the others' announcements remove copies. */
    public ResponseStore local() {
        return local;
    }

    /** The cluster's tier. */
    public ResponseStore shared() {
        return shared;
    }

    @Override
    public StoreEntry get(String key) {
        Found found = find(key);
        return found == null ? null : found.entry();
    }

    @Override
    public Found find(String key) {
        StoreEntry entry = local.get(key);
        if (entry != null) {
            hits.increment();
            return new Found(entry, LOCAL);
        }
        entry = shared.get(key);
        if (entry != null) {
            hits.increment();
            return new Found(entry, SHARED);
        }
        misses.increment();
        return null;
    }

    /** The shared tier's authoritative entry: the one another instance just wrote, if it did. */
    @Override
    public StoreEntry getLatest(String key) {
        return shared.getLatest(key);
    }

    /**
     * Stores in both tiers. The local tier decides the answer: a response over the per-entry limit is refused by
     * both, while a shared tier that cannot be reached now only misses this entry.
     */
    @Override
    public boolean put(String key, StoreEntry entry) {
        boolean stored = local.put(key, entry);
        if (stored) {
            shared.put(key, entry);
        } else {
            shared.remove(key); // refused as too large: what was stored is outdated everywhere
        }
        return stored;
    }

    @Override
    public void remove(String key) {
        local.remove(key);
        shared.remove(key);
    }

    /** Removes from both tiers; the count is the shared tier's, which holds every instance's entries. */
    @Override
    public int removeByPrefix(String prefix) {
        int removedHere = local.removeByPrefix(prefix);
        int removedEverywhere = shared.removeByPrefix(prefix);
        return Math.max(removedHere, removedEverywhere);
    }

    @Override
    public long maxEntryBytes() {
        return local.maxEntryBytes();
    }

    @Override
    public Map<String, TierUsage> tiers() {
        Map<String, TierUsage> tiers = new TreeMap<>(local.tiers());
        tiers.putAll(shared.tiers());
        return tiers;
    }

    /** Hits and misses of both tiers together; puts, refusals and removals as the local tier counted them. */
    @Override
    public StoreStats stats() {
        StoreStats mine = local.stats();
        return new StoreStats(hits.sum(), misses.sum(), mine.puts(), mine.rejected(), mine.removals());
    }

    @Override
    public void close() {
        try {
            shared.close();
        } finally {
            local.close();
        }
    }
}
