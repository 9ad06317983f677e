package dev.proxyfilter.bench;

import dev.proxyfilter.cache.CacheAnswer;
import dev.proxyfilter.cache.CacheLookup;
import dev.proxyfilter.cache.CacheRequest;
import dev.proxyfilter.cache.Coalescer;
import dev.proxyfilter.cache.HttpCache;
import dev.proxyfilter.cache.SharedCache;
import dev.proxyfilter.cache.StoreResult;
import dev.proxyfilter.cache.ehcache.EhcacheResponseStore;
import dev.proxyfilter.cache.hazelcast.HazelcastSharedCache;
import dev.proxyfilter.cluster.Cluster;
import dev.proxyfilter.config.CacheConfig;
import dev.proxyfilter.config.ClusterConfig;
import dev.proxyfilter.config.DemoConfig;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.config.ServerConfig;
import dev.proxyfilter.time.ProxyClock;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.http.HttpFields;
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
 * The shared cache against the local one, through {@link HttpCache} as the pipeline calls it, on two embedded
 * Hazelcast members in this JVM (127.0.0.1, TCP-IP): node A stores, node B reads.
 *
 * <ul>
 * <li>{@code hit}: a lookup and answer of a fresh stored response (1 KiB body, five headers) on node B.
 *     {@code tier=local}: B's own Ehcache heap tier, no cluster; {@code shared-near}: stored by A, read by B
 *     through its near cache; {@code shared-remote}: the same with no near cache, a network hop to the
 *     owning member for half of the keys (the other half are B's own partitions).</li>
 * <li>{@code coalescedMiss}: one miss led on A and followed on B, from the two joins to B's follower
 *     having the response: A claims, B stands in, A stores and releases, B hears of it and reads the entry
 *     from its owner. {@code tier=local} does the same with two requests on one node (a local leader and
 *     follower), so the difference is the extra latency of coalescing across nodes.</li>
 * </ul>
 * Keys: 1,000 distinct URIs, walked round-robin (the near cache holds them all). One thread.
 *
 * <p>Run, from the repository root:
 * <pre>
 * ./mvnw -B -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar SharedTierBenchmark -f 1 -wi 3 -i 5 -w 1s -r 2s
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class SharedTierBenchmark {
    private static final int KEYS = 1_000;
    private static final long NOW = 1_800_000_000_000L;

    @Param({"local", "shared-near", "shared-remote"})
    public String tier;

    private Cluster clusterA;
    private Cluster clusterB;
    private HttpCache cacheA;
    private HttpCache cacheB;
    private CacheRequest[] requests;
    private HttpFields responseHeaders;
    private byte[] body;
    private int next;
    private final AtomicLong misses = new AtomicLong();

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        body = new byte[1024];
        responseHeaders = HttpFields.build()
                .add("Content-Type", "text/html")
                .add("Cache-Control", "max-age=600")
                .add("ETag", "\"abcdef\"")
                .add("Date", org.eclipse.jetty.http.DateGenerator.formatDate(NOW))
                .add("Last-Modified", "Sat, 28 Nov 2026 18:00:00 GMT")
                .asImmutable();
        requests = new CacheRequest[KEYS];
        for (int i = 0; i < KEYS; i++) {
            requests[i] = request("/catalogue/" + (i % 50) + "/item-" + i + ".html");
        }
        CacheConfig.Builder config =
                CacheConfig.builder().maxEntryBytes(64 * 1024).heapEntries(2 * KEYS);
        if (tier.equals("local")) {
            cacheA = HttpCache.create(config.build(), EhcacheResponseStore.open(config.build()), "pf", clock());
            cacheB = cacheA;
        } else {
            CacheConfig shared = config.store(CacheConfig.Store.SHARED)
                    .sharedTimeout(Duration.ofSeconds(1))
                    .nearCacheEntries(tier.equals("shared-near") ? 2 * KEYS : 0)
                    .build();
            String name = "bench-" + UUID.randomUUID();
            int portA = freePort();
            int portB = freePort();
            List<String> members = List.of("127.0.0.1:" + portA, "127.0.0.1:" + portB);
            clusterA = Cluster.start(proxy(shared, ClusterConfig.loopback(name, portA, members)));
            clusterB = Cluster.start(proxy(shared, ClusterConfig.loopback(name, portB, members)));
            cacheA = HttpCache.create(shared, open(clusterA, shared), "pf", clock());
            cacheB = HttpCache.create(shared, open(clusterB, shared), "pf", clock());
        }
        for (CacheRequest request : requests) {
            store(cacheA, cacheA.lookup(request, NOW));
        }
        for (CacheRequest request : requests) {
            cacheB.answer(cacheB.lookup(request, NOW), NOW); // warms B's near cache
        }
    }

    private static ProxyClock clock() {
        return ProxyClock.system();
    }

    private static ProxyConfig proxy(CacheConfig cache, ClusterConfig cluster) {
        return new ProxyConfig(
                        new ServerConfig("127.0.0.1", 0),
                        Map.of(),
                        List.of(),
                        DemoConfig.none(),
                        "pf",
                        List.of("bench"))
                .withCache(cache)
                .withCluster(cluster);
    }

    private static SharedCache open(Cluster cluster, CacheConfig config) {
        return HazelcastSharedCache.open(cluster, config, EhcacheResponseStore.open(config));
    }

    private static CacheRequest request(String path) {
        return new CacheRequest("GET", "http", "www.example.com", path, null, HttpFields.EMPTY);
    }

    private StoreResult store(HttpCache cache, CacheLookup lookup) {
        return cache.store(lookup, 200, responseHeaders, body, NOW, NOW);
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        cacheA.close();
        if (cacheB != cacheA) {
            cacheB.close();
        }
        if (clusterB != null) {
            clusterB.close();
            clusterA.close();
        }
    }

    /** A hit on node B: lookup, then the answer as the client gets it. */
    @Benchmark
    public CacheAnswer hit() {
        CacheRequest request = requests[next++ % KEYS];
        return cacheB.answer(cacheB.lookup(request, NOW), NOW);
    }

    /** One miss led on node A and followed on node B (both on one node for {@code local}), until B has it. */
    @Benchmark
    public Coalescer.Outcome coalescedMiss() throws Exception {
        CacheRequest request = request("/miss/" + misses.incrementAndGet());
        CacheLookup leaderLookup = cacheA.lookup(request, NOW);
        Coalescer.Leader leader = (Coalescer.Leader) cacheA.join(leaderLookup);
        Coalescer.Follower follower = (Coalescer.Follower) cacheB.join(cacheB.lookup(request, NOW));
        leader.complete(store(cacheA, leaderLookup).stored());
        return follower.outcome().get(5, TimeUnit.SECONDS);
    }
}
