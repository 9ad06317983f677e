package dev.proxyfilter.bench;

import dev.proxyfilter.config.CacheConfig;
import dev.proxyfilter.config.ClusterConfig;
import dev.proxyfilter.config.DemoConfig;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.config.ServerConfig;
import dev.proxyfilter.forward.ProxyEngine;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Start-up time and idle memory of an engine with its cache on, without a cluster and with an embedded
 * member (alone, shared cache): one engine per JVM, so that class loading counts as it does in production.
 * Prints the time {@code ProxyEngine.start} took, the heap in use after a full GC, the non-heap memory in use
 * (metaspace and code cache, where most of a member's cost is), the class count and the thread count, before
 * and after the start.
 *
 * <p>Run each variant in a fresh JVM, from the repository root:
 * <pre>
 * ./mvnw -B -pl bench -am package -DskipTests
 * java -Xmx256m -XX:+UseSerialGC -cp bench/target/benchmarks.jar dev.proxyfilter.bench.ClusterFootprint none
 * java -Xmx256m -XX:+UseSerialGC -cp bench/target/benchmarks.jar dev.proxyfilter.bench.ClusterFootprint embedded
 * </pre>
 */
public final class ClusterFootprint {
    private ClusterFootprint() {}

    public static void main(String[] args) throws Exception {
        boolean embedded = args.length > 0 && args[0].equals("embedded");
        CacheConfig.Builder cache = CacheConfig.builder();
        ProxyConfig config = new ProxyConfig(
                new ServerConfig("127.0.0.1", 0), Map.of(), List.of(), DemoConfig.none(), "pf", List.of("footprint"));
        if (embedded) {
            int port;
            try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
                port = socket.getLocalPort();
            }
            config = config.withCache(cache.store(CacheConfig.Store.SHARED).build())
                    .withCluster(ClusterConfig.loopback("footprint-" + UUID.randomUUID(), port, List.of()));
        } else {
            config = config.withCache(cache.build());
        }
        Snapshot before = Snapshot.take();
        long start = System.nanoTime();
        try (ProxyEngine engine = ProxyEngine.start(config)) {
            long startMillis = (System.nanoTime() - start) / 1_000_000;
            Thread.sleep(2_000); // idle: let the member's background tasks settle
            Snapshot after = Snapshot.take();
            System.out.printf(
                    "%s: start %d ms; heap used %.1f -> %.1f MiB (+%.1f); non-heap (metaspace, code) %.1f -> %.1f MiB"
                            + " (+%.1f); classes %d -> %d; threads %d -> %d%n",
                    embedded ? "embedded member" : "no cluster",
                    startMillis,
                    before.heapMib,
                    after.heapMib,
                    after.heapMib - before.heapMib,
                    before.nonHeapMib,
                    after.nonHeapMib,
                    after.nonHeapMib - before.nonHeapMib,
                    before.classes,
                    after.classes,
                    before.threads,
                    after.threads);
        }
    }

    private record Snapshot(double heapMib, double nonHeapMib, int classes, int threads) {
        static Snapshot take() {
            for (int i = 0; i < 3; i++) {
                System.gc();
            }
            var memory = ManagementFactory.getMemoryMXBean();
            return new Snapshot(
                    memory.getHeapMemoryUsage().getUsed() / 1048576.0,
                    memory.getNonHeapMemoryUsage().getUsed() / 1048576.0,
                    ManagementFactory.getClassLoadingMXBean().getLoadedClassCount(),
                    Thread.activeCount());
        }
    }
}
