package dev.proxyfilter.cache.hazelcast;

import com.hazelcast.map.IMap;
import dev.proxyfilter.cache.FillClaims;
import dev.proxyfilter.cache.ResponseStore;
import dev.proxyfilter.cache.SharedCache;
import dev.proxyfilter.cache.StoreEntry;
import dev.proxyfilter.cache.TieredResponseStore;
import dev.proxyfilter.cluster.Cluster;
import dev.proxyfilter.cluster.hazelcast.HazelcastCluster;
import dev.proxyfilter.config.CacheConfig;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The response cache shared by a cluster ({@code cache.store=shared}), on Hazelcast: the {@link SharedCache}
 * the engine loads by name ({@link #open}).
 *
 * <h2>What lives where</h2>
 * <ul>
 * <li>{@value #MAP}: the shared tier, entries by cache key ({@link HazelcastResponseStore}); a near cache on
 *     each instance, invalidated by Hazelcast ({@link SharedCachePart} configures both).</li>
 * <li>{@value #FILLS}: cluster-wide fill claims ({@link HazelcastFillClaims}).</li>
 * <li>{@value #TOPIC}: what the instances tell each other: {@code S key} and {@code R key} (another
 *     instance stored or removed {@code key}: drop the local copy), {@code P prefix} (purged: purge the local
 *     tier too), {@code F key} (a fill ended: wake the nodes waiting for it).</li>
 * </ul>
 * Messages are best effort. One lost means at worst a local copy that lives until its own instance stores or
 * evicts it (stores and removals by that instance are still seen by all), or a waiting node that waits out
 * its coalescing timeout and goes to the backend.
 */
public final class HazelcastSharedCache implements SharedCache {
    private static final Logger LOG = LoggerFactory.getLogger(HazelcastSharedCache.class);

    /** The shared map's name. */
    public static final String MAP = "proxy-filter.cache";
    /** The fill claims' map. */
    public static final String FILLS = "proxy-filter.cache.fills";
    /** The topic the instances tell each other on. */
    public static final String TOPIC = "proxy-filter.cache.events";

    static final String STORED = "S ";
    static final String REMOVED = "R ";
    static final String PURGED = "P ";
    static final String FILLED = "F ";

    private final Cluster cluster;
    private final TieredResponseStore store;
    private final HazelcastResponseStore shared;
    private final HazelcastFillClaims fills;
    private final ThreadPoolExecutor executor;
    private final Cluster.Subscription events;
    private final Cluster.Subscription memberLeft;

    private HazelcastSharedCache(Cluster cluster, ResponseStore local, CacheConfig config) {
        this.cluster = cluster;
        HazelcastCluster hazelcast = (HazelcastCluster) cluster;
        // Blocking cluster calls wait here, one thread each (a miss's re-read, a release): as many as the
        // misses a busy node has in flight, not 8, or they queue behind each other (threads time out when idle).
        this.executor = new ThreadPoolExecutor(
                64,
                64,
                30,
                TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(4096),
                threads(),
                new ThreadPoolExecutor.AbortPolicy());
        executor.allowCoreThreadTimeOut(true);
        Remote remote = new Remote(config.sharedTimeout(), executor);
        IMap<String, StoreEntry> map = hazelcast.map(MAP);
        this.shared = new HazelcastResponseStore(map, cluster, remote, config.maxEntryBytes());
        this.store = new TieredResponseStore(local, shared);
        this.fills = new HazelcastFillClaims(hazelcast.map(FILLS), cluster, hazelcast.client(), remote, executor);
        this.events = cluster.subscribe(TOPIC, this::onMessage);
        this.memberLeft = cluster.onMemberLeft(fills::nodeLeft);
    }

    /**
     * The shared cache of {@code cluster} with {@code local} as this instance's tier; what the engine calls by
     * name when {@code cache.store=shared}.
     *
     * @param cluster a started {@link HazelcastCluster}
     * @param config  the cache configuration: per-entry limit, shared timeout
     * @param local   this instance's tiers; closed with the shared cache
     */
    public static HazelcastSharedCache open(Cluster cluster, CacheConfig config, ResponseStore local) {
        if (!(cluster instanceof HazelcastCluster)) {
            throw new IllegalArgumentException("a shared cache needs a HazelcastCluster, not " + cluster);
        }
        return new HazelcastSharedCache(cluster, local, config);
    }

    private static ThreadFactory threads() {
        AtomicInteger count = new AtomicInteger();
        return task -> {
            Thread thread = new Thread(task, "proxy-filter-shared-cache-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    /** A message on the topic, on Hazelcast's event thread: nothing here may block for long. */
    private void onMessage(String sender, String message) {
        if (message.length() < 2) {
            return;
        }
        String argument = message.substring(2);
        switch (message.substring(0, 2)) {
            case FILLED -> fills.fillEnded(argument); // ours too: a stand-in may wait on this node
            case STORED, REMOVED -> {
                if (!sender.equals(cluster.nodeId())) {
                    store.local().remove(argument);
                }
            }
            case PURGED -> {
                if (!sender.equals(cluster.nodeId())) {
                    int removed = store.local().removeByPrefix(argument);
                    LOG.debug("purge of {} from {}: {} local entries removed", argument, sender, removed);
                }
            }
            default -> LOG.debug("unknown message on {}: {}", TOPIC, message);
        }
    }

    @Override
    public TieredResponseStore store() {
        return store;
    }

    @Override
    public FillClaims fills() {
        return fills;
    }

    @Override
    public Executor executor() {
        return executor;
    }

    /** Calls to the cluster that timed out, for tests and metrics. */
    public long timeouts() {
        return shared.timeouts();
    }

    /** Calls to the cluster that failed otherwise. */
    public long failures() {
        return shared.failures();
    }

    /** Stops listening, lets queued claim releases go out (briefly), then closes the store. */
    @Override
    public void close() {
        events.close();
        memberLeft.close();
        executor.shutdown();
        try {
            if (!executor.awaitTermination(1, TimeUnit.SECONDS)) {
                executor.shutdownNow(); // the leases end what was not released
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
        store.close();
    }
}
