package dev.proxyfilter.cluster;

import static dev.proxyfilter.cluster.ProxyCluster.cacheStatus;
import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.IMap;
import dev.proxyfilter.cache.StoreEntry;
import dev.proxyfilter.cache.hazelcast.HazelcastSharedCache;
import dev.proxyfilter.cluster.hazelcast.HazelcastCluster;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.client.ContentResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The cache keeps working while the cluster changes under load: a member that dies, one that joins, a shared
 * tier too slow to answer. Client requests never fail; the shared tier is at worst a miss.
 */
@Timeout(90)
class ClusterFailoverIntegrationTest {
    private static final int PATHS = 20;
    private ProxyCluster cluster;
    private ExecutorService load;

    @AfterEach
    void close() {
        if (load != null) {
            load.shutdownNow();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aMemberKilledMidLoadFailsNoRequestAndTheCacheKeepsAnswering() throws Exception {
        cluster = ProxyCluster.start(
                3,
                ProxyCluster.defaultCache()
                        .sharedTimeout(Duration.ofMillis(300))
                        .build());
        warm(0);
        Load running = startLoad(3);
        running.awaitRequests(150);

        ((HazelcastCluster) cluster.proxy(2).engine().cluster()).terminate(); // a crash: no hand-over
        int atKill = running.requests.get();
        running.awaitRequests(atKill + 300);
        running.stop();

        assertThat(running.failures).isEmpty();
        // Instance 2 lost its member, not its listener: it still answers, from its own tier or the origin.
        assertThat(cluster.get(2, "/k/0").getStatus()).isEqualTo(200);
        // The survivors still hold every entry: the dead member's partitions came back from their backups.
        int before = totalCount();
        for (int node = 0; node < 2; node++) {
            for (int i = 0; i < PATHS; i++) {
                ContentResponse response = cluster.get(node, "/k/" + i);
                assertThat(cacheStatus(response)).as("/k/%d on %d", i, node).contains("hit");
            }
        }
        assertThat(totalCount()).isEqualTo(before);
    }

    @Test
    void aMemberJoiningMidLoadFailsNoRequestAndHitsWhatTheOthersStored() throws Exception {
        cluster = ProxyCluster.start(2);
        warm(0);
        Load running = startLoad(2);
        running.awaitRequests(100);

        int joined = cluster.join(); // partitions migrate to it while the load goes on
        running.nodes = 3;
        int atJoin = running.requests.get();
        running.awaitRequests(atJoin + 300);
        running.stop();

        assertThat(running.failures).isEmpty();
        int before = totalCount();
        for (int i = 0; i < PATHS; i++) {
            ContentResponse response = cluster.get(joined, "/k/" + i);
            assertThat(response.getContentAsString()).startsWith("/k/" + i + " ");
            assertThat(cacheStatus(response)).as("/k/%d", i).contains("hit");
        }
        assertThat(totalCount()).isEqualTo(before);
    }

    @Test
    void aSharedTierSlowerThanTheTimeoutIsAMissNotAnError() throws Exception {
        cluster = ProxyCluster.start(
                2,
                ProxyCluster.defaultCache()
                        .sharedTimeout(Duration.ofMillis(200))
                        .build());
        cluster.get(0, "/slow"); // stored: instance 0's own tier and the shared one
        IMap<String, StoreEntry> shared =
                ((HazelcastCluster) cluster.proxy(0).engine().cluster()).map(HazelcastSharedCache.MAP);
        // Occupy the partition of the key (on whichever member owns it) for 3 s: every call to it waits.
        var blocked = shared.submitToKey(ProxyCluster.url("/slow"), new Stall(3_000));
        Thread.sleep(100); // the processor has started

        long start = System.nanoTime();
        ContentResponse fromOther = cluster.get(1, "/slow");
        long otherMillis = (System.nanoTime() - start) / 1_000_000;
        ContentResponse fromStorer = cluster.get(0, "/slow");

        assertThat(fromOther.getStatus()).isEqualTo(200);
        assertThat(cacheStatus(fromOther)).contains("fwd=uri-miss");
        assertThat(fromOther.getContentAsString()).isEqualTo("/slow 2");
        assertThat(otherMillis)
                .as("lookup, claim and store each give up after 200 ms")
                .isLessThan(2_500);
        assertThat(cacheStatus(fromStorer)).contains("hit").endsWith("detail=local"); // its own tier answers
        blocked.toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** Holds its partition's thread: a member too busy (or too far) to answer in time. */
    static final class Stall implements EntryProcessor<String, StoreEntry, Boolean> {
        private static final long serialVersionUID = 1L;
        private final long millis;

        Stall(long millis) {
            this.millis = millis;
        }

        @Override
        public Boolean process(Map.Entry<String, StoreEntry> entry) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Boolean.TRUE;
        }

        @Override
        public EntryProcessor<String, StoreEntry, Boolean> getBackupProcessor() {
            return null; // reads nothing, changes nothing
        }
    }

    /** Stores every path through {@code node}, so that the load is mostly hits. */
    private void warm(int node) throws Exception {
        for (int i = 0; i < PATHS; i++) {
            assertThat(cluster.get(node, "/k/" + i).getStatus()).isEqualTo(200);
        }
    }

    private int totalCount() {
        int sum = 0;
        for (int i = 0; i < PATHS; i++) {
            sum += cluster.count("/k/" + i);
        }
        return sum;
    }

    private Load startLoad(int nodes) {
        load = Executors.newFixedThreadPool(3);
        Load running = new Load(nodes);
        for (int t = 0; t < 3; t++) {
            int thread = t;
            running.tasks.add(load.submit(() -> running.run(thread)));
        }
        return running;
    }

    /** Clients that keep sending GETs round the instances until stopped, recording anything but a 200. */
    private final class Load {
        final AtomicInteger requests = new AtomicInteger();
        final List<String> failures = new CopyOnWriteArrayList<>();
        final List<Future<?>> tasks = new CopyOnWriteArrayList<>();
        final AtomicBoolean stopped = new AtomicBoolean();
        volatile int nodes;

        Load(int nodes) {
            this.nodes = nodes;
        }

        void run(int thread) {
            int i = thread;
            while (!stopped.get()) {
                int node = i % nodes;
                String path = "/k/" + (i % PATHS);
                try {
                    ContentResponse response = cluster.get(node, path);
                    if (response.getStatus() != 200
                            || !response.getContentAsString().startsWith(path + " ")) {
                        failures.add(node + " " + path + ": " + response.getStatus());
                    }
                } catch (Exception e) {
                    failures.add(node + " " + path + ": " + e);
                }
                requests.incrementAndGet();
                i += 7;
            }
        }

        void awaitRequests(int count) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (requests.get() < count && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(requests.get()).as("requests sent").isGreaterThanOrEqualTo(count);
        }

        void stop() throws Exception {
            stopped.set(true);
            for (Future<?> task : tasks) {
                task.get(30, TimeUnit.SECONDS);
            }
        }
    }
}
