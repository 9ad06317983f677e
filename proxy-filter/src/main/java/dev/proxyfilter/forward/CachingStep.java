package dev.proxyfilter.forward;

import dev.proxyfilter.cache.HttpCache;
import dev.proxyfilter.cache.ResponseStore;
import dev.proxyfilter.cache.SharedCache;
import dev.proxyfilter.cache.StoreStats;
import dev.proxyfilter.cache.ehcache.EhcacheResponseStore;
import dev.proxyfilter.cluster.Cluster;
import dev.proxyfilter.config.CacheConfig;
import dev.proxyfilter.config.ConfigException;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.metrics.ProxyMetrics;
import dev.proxyfilter.time.ProxyClock;
import java.util.concurrent.atomic.LongAdder;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.PreEncodedHttpField;

/**
 * The response cache's place in the engine: the one {@link HttpCache} of the proxy (on Ehcache, and with
 * {@code cache.store=shared} a tier on the cluster behind it), the clock its freshness is judged by, and its
 * counters. {@link #exchange} gives each request on a caching route its
 * {@link CachedExchange}; requests on other routes, and every request when {@code cache.enabled=false}, never
 * see the cache.
 */
public final class CachingStep implements AutoCloseable {
    private final HttpCache cache;
    private final String via;
    /** This proxy's {@code Via} on answers from the cache, encoded once. */
    private final HttpField viaField;

    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    final LongAdder hits = new LongAdder();
    final LongAdder misses = new LongAdder();
    final LongAdder staleServed = new LongAdder();
    final LongAdder coalesced = new LongAdder();
    final LongAdder stored = new LongAdder();
    final LongAdder revalidated = new LongAdder();
    final LongAdder invalidated = new LongAdder();

    private CachingStep(HttpCache cache, String via) {
        this.cache = cache;
        this.via = via;
        this.viaField = new PreEncodedHttpField(HttpHeader.VIA, "1.1 " + via);
    }

    private dev.proxyfilter.cache.TierUsage usage(String tier) {
        return cache.store().tiers().getOrDefault(tier, new dev.proxyfilter.cache.TierUsage(0, 0, 0));
    }

    /**
     * The step for a configuration, or {@code null} when its cache is off.
     *
     * @param cluster the running cluster, required with {@code cache.store=shared}; else unused
     */
    static CachingStep open(ProxyConfig config, ProxyMetrics metrics, ProxyClock clock, Cluster cluster) {
        CacheConfig cacheConfig = config.cache();
        if (!cacheConfig.enabled()) {
            return null;
        }
        ResponseStore store = EhcacheResponseStore.open(cacheConfig);
        HttpCache cache;
        if (cacheConfig.shared()) {
            SharedCache shared;
            try {
                shared = openShared(cluster, cacheConfig, store);
            } catch (RuntimeException e) {
                store.close();
                throw e;
            }
            cache = HttpCache.create(cacheConfig, shared, config.via(), clock);
        } else {
            cache = HttpCache.create(cacheConfig, store, config.via(), clock);
        }
        CachingStep step = new CachingStep(cache, config.via());
        step.registerMetrics(metrics);
        return step;
    }

    /** The shared cache's Hazelcast implementation, loaded by name: an instance without one loads no Hazelcast. */
    private static final String SHARED_CACHE = "dev.proxyfilter.cache.hazelcast.HazelcastSharedCache";

    private static SharedCache openShared(Cluster cluster, CacheConfig config, ResponseStore local) {
        if (cluster == null) {
            throw new ConfigException("cache.store", "shared", "cluster.enabled=true too", null);
        }
        try {
            return (SharedCache) Class.forName(SHARED_CACHE, true, CachingStep.class.getClassLoader())
                    .getMethod("open", Cluster.class, CacheConfig.class, ResponseStore.class)
                    .invoke(null, cluster, config, local);
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (e.getCause() instanceof ConfigException invalid) {
                throw invalid;
            }
            throw new IllegalStateException("cannot open the shared cache: " + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new IllegalStateException("cannot open the shared cache", e);
        }
    }

    private void registerMetrics(ProxyMetrics metrics) {
        metrics.gauge("proxy.cache.hits", hits::sum);
        metrics.gauge("proxy.cache.misses", misses::sum);
        metrics.gauge("proxy.cache.stale_served", staleServed::sum);
        metrics.gauge("proxy.cache.coalesced", coalesced::sum);
        metrics.gauge("proxy.cache.stored", stored::sum);
        metrics.gauge("proxy.cache.revalidated", revalidated::sum);
        metrics.gauge("proxy.cache.invalidated", invalidated::sum);
        metrics.gauge(
                "proxy.cache.store.rejected_too_large",
                () -> cache.store().stats().rejected());
        metrics.gaugeDouble("proxy.cache.hit_ratio", this::hitRatio);
        // Bytes held, entries and evictions per tier (OnHeap, OffHeap, Disk), as the store reports them.
        for (String tier : cache.store().tiers().keySet()) {
            String prefix = "proxy.cache.tier." + tier.toLowerCase(java.util.Locale.ROOT);
            metrics.gauge(prefix + ".bytes", () -> usage(tier).bytes());
            metrics.gauge(prefix + ".entries", () -> usage(tier).entries());
            metrics.gauge(prefix + ".evictions", () -> usage(tier).evictions());
        }
    }

    /** Fresh hits. */
    public long hits() {
        return hits.sum();
    }

    /** Lookups that went to a backend. */
    public long misses() {
        return misses.sum();
    }

    /** Stale responses served (stale-while-revalidate, stale-if-error). */
    public long staleServed() {
        return staleServed.sum();
    }

    /** Requests that waited for an identical miss in flight and got its response. */
    public long coalesced() {
        return coalesced.sum();
    }

    /** Responses stored. */
    public long stored() {
        return stored.sum();
    }

    /** Stored responses a backend's 304 freshened. */
    public long revalidated() {
        return revalidated.sum();
    }

    /** Stored responses removed by an unsafe method or a purge. */
    public long invalidated() {
        return invalidated.sum();
    }

    /** The share of cacheable lookups answered from the cache, 0..1. */
    public double hitRatio() {
        long h = hits.sum() + staleServed.sum() + coalesced.sum();
        long total = h + misses.sum();
        return total == 0 ? 0 : (double) h / total;
    }

    /** What the store counted: entries rejected as too large, removals. */
    public StoreStats storeStats() {
        return cache.store().stats();
    }

    HttpCache cache() {
        return cache;
    }

    String via() {
        return via;
    }

    /** {@code Via: 1.1 <via>}, pre-encoded. */
    HttpField viaField() {
        return viaField;
    }

    /** Now on the engine's wall clock, in epoch milliseconds: what freshness is judged by. */
    long now() {
        return cache.clock().millis();
    }

    /** The cache's part in one exchange, or {@code null} when the route does not cache. */
    CachedExchange exchange(ForwardRoute route, ClientExchange client) {
        if (!route.config().cache()) {
            return null;
        }
        return new CachedExchange(this, client);
    }

    /** Removes the stored responses of one normalised URI; returns whether one was stored. */
    public boolean purgeKey(String uri) {
        var store = cache.store();
        boolean present = store.get(uri) != null;
        store.remove(uri);
        return present;
    }

    /** Removes every stored response whose normalised URI starts with {@code uriPrefix}. */
    public int purge(String uriPrefix) {
        return cache.purge(uriPrefix);
    }

    /** Closes the store once; the engine may be closed more than once (adapter and container). */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            cache.close();
        }
    }
}
