package dev.proxyfilter.cache;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** {@link ResponseStore#inMemory}: a synchronised LRU map; simple rather than fast. */
final class InMemoryResponseStore implements ResponseStore {
    private final long maxEntryBytes;
    private final Map<String, StoreEntry> entries;
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder puts = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final LongAdder removals = new LongAdder();

    InMemoryResponseStore(int maxEntries, long maxEntryBytes) {
        if (maxEntries < 1) {
            throw new IllegalArgumentException("maxEntries: " + maxEntries + " (expected: >= 1)");
        }
        if (maxEntryBytes < 1) {
            throw new IllegalArgumentException("maxEntryBytes: " + maxEntryBytes + " (expected: >= 1)");
        }
        this.maxEntryBytes = maxEntryBytes;
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<String, StoreEntry> eldest) {
                return size() > maxEntries;
            }
        };
    }

    @Override
    public synchronized StoreEntry get(String key) {
        StoreEntry entry = entries.get(key);
        (entry == null ? misses : hits).increment();
        return entry;
    }

    @Override
    public synchronized boolean put(String key, StoreEntry entry) {
        if (entry.weightBytes() > maxEntryBytes && entry instanceof StoredResponse) {
            rejected.increment();
            entries.remove(key);
            return false;
        }
        entries.put(key, entry);
        puts.increment();
        return true;
    }

    @Override
    public synchronized void remove(String key) {
        entries.remove(key);
        removals.increment();
    }

    @Override
    public synchronized int removeByPrefix(String prefix) {
        List<String> doomed = new ArrayList<>();
        for (String key : entries.keySet()) {
            if (key.startsWith(prefix)) {
                doomed.add(key);
            }
        }
        doomed.forEach(entries::remove);
        removals.add(doomed.size());
        return doomed.size();
    }

    @Override
    public long maxEntryBytes() {
        return maxEntryBytes;
    }

    @Override
    public StoreStats stats() {
        return new StoreStats(hits.sum(), misses.sum(), puts.sum(), rejected.sum(), removals.sum());
    }

    @Override
    public synchronized void close() {
        entries.clear();
    }
}
