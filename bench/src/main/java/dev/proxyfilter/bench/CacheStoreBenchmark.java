package dev.proxyfilter.bench;

import dev.proxyfilter.cache.StoreEntry;
import dev.proxyfilter.cache.StoredResponse;
import dev.proxyfilter.cache.ehcache.EhcacheResponseStore;
import dev.proxyfilter.config.CacheConfig;
import dev.proxyfilter.http.Header;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Store get and put on the Ehcache store ({@code EhcacheResponseStore}) with Zipf-distributed keys: the
 * {@code heap} tier alone (2,000 entries), or {@code heap+offheap} (500 entries on the heap over 64 MB off
 * the heap, where an entry is serialised and read back by {@code StoreEntrySerializer}).
 *
 * <p>Workload: 10,000 distinct keys (primary keys of realistic URIs), drawn Zipf (s = 1) in a cycle of 65,536
 * draws, so the head of the distribution stays in the heap tier and the tail is evicted or lives off-heap;
 * every key is put once in {@code @Setup}. Values are 1 KB responses with five headers. {@code get} reads
 * (a miss returns null, as a cache miss does); {@code put} replaces. One thread each; add {@code -t 2} for
 * contention.
 *
 * <p>Run, from the repository root:
 * <pre>
 * ./mvnw -B -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar CacheStoreBenchmark -f 1 -wi 2 -i 3 -w 1s -r 1s
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class CacheStoreBenchmark {
    private static final int KEYS = 10_000;
    private static final int DRAWS = 1 << 16;

    @Param({"heap", "heap+offheap"})
    public String tiers;

    private EhcacheResponseStore store;
    private String[] keys;
    private int[] draws;
    private StoredResponse value;

    @Setup(Level.Trial)
    public void setUp() {
        CacheConfig.Builder config = CacheConfig.builder().maxEntryBytes(64 * 1024);
        config = "heap".equals(tiers)
                ? config.heapEntries(2_000)
                : config.heapEntries(500).offHeapMb(64);
        store = EhcacheResponseStore.open(config.build());
        keys = new String[KEYS];
        for (int i = 0; i < KEYS; i++) {
            keys[i] = "GET\nhttp://www.example.com/catalogue/" + (i % 50) + "/item-" + i + ".html?v=" + (i % 7);
        }
        draws = new Zipf(KEYS, 1.0, 42).draw(DRAWS);
        byte[] body = new byte[1024];
        List<Header> headers = List.of(
                new Header("Content-Type", "text/html"),
                new Header("Cache-Control", "max-age=600"),
                new Header("ETag", "\"abcdef\""),
                new Header("Date", "Sat, 28 Nov 2026 19:00:00 GMT"),
                new Header("Last-Modified", "Sat, 28 Nov 2026 18:00:00 GMT"));
        value = new StoredResponse(200, headers, body, 1L, 2L, List.of());
        for (int i = 0; i < KEYS; i++) {
            store.put(keys[i], value);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        store.close();
    }

    /** Each thread walks the draws from its own place. */
    @State(Scope.Thread)
    public static class Cursor {
        int next = (int) (Thread.currentThread().getId() * 7919);
    }

    @Benchmark
    public StoreEntry get(Cursor cursor) {
        return store.get(keys[draws[cursor.next++ & (DRAWS - 1)]]);
    }

    @Benchmark
    public boolean put(Cursor cursor) {
        return store.put(keys[draws[cursor.next++ & (DRAWS - 1)]], value);
    }
}
