package dev.proxyfilter.admin;

import com.codahale.metrics.Snapshot;
import com.codahale.metrics.Timer;
import dev.proxyfilter.balance.Backend;
import dev.proxyfilter.balance.BackendHealth;
import dev.proxyfilter.balance.BackendPool;
import dev.proxyfilter.balance.BackendState;
import dev.proxyfilter.forward.CachingStep;
import dev.proxyfilter.forward.Generation;
import dev.proxyfilter.forward.ProxyEngine;
import dev.proxyfilter.metrics.ProxyMetrics;
import dev.proxyfilter.reload.ReloadResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the admin interface can see and change, without HTTP: the adapters' admin servlet and the
 * standalone proxy's admin listener only translate. Every change is logged and counted in {@code proxy.admin.changes}.
 */
public final class AdminOperations {
    private static final Logger LOG = LoggerFactory.getLogger(AdminOperations.class);

    private final ProxyEngine engine;

    /** The operations on {@code engine}. */
    public AdminOperations(ProxyEngine engine) {
        this.engine = engine;
    }

    /** Every pool with its backends' state and numbers, as plain maps ready for JSON. */
    public List<Map<String, Object>> pools() {
        List<Map<String, Object>> pools = new ArrayList<>();
        // One generation throughout, so that a reload meanwhile cannot mix two configurations.
        Generation generation = engine.serving();
        for (BackendPool pool : generation.pools().values()) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("name", pool.name());
            p.put(
                    "strategy",
                    generation.config().pools().get(pool.name()).strategy().configName());
            p.put("pending", generation.pending(pool.name()));
            p.put("mode", pool.mode().name().toLowerCase(java.util.Locale.ROOT));
            List<Map<String, Object>> backends = new ArrayList<>();
            for (Backend backend : pool.backends()) {
                backends.add(backend(backend));
            }
            p.put("backends", backends);
            pools.add(p);
        }
        return pools;
    }

    private Map<String, Object> backend(Backend backend) {
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("name", backend.name());
        b.put("url", backend.url().toString());
        b.put("state", state(backend));
        BackendHealth health = backend.health();
        b.put("reason", health.reason());
        b.put("backup", backend.backup());
        b.put("weight", backend.weight());
        b.put("weight_percent", health.weightPercent());
        b.put("consecutive_failures", health.consecutiveFailures());
        health.lastCheck().ifPresent(check -> b.put("last_check", check));
        health.sinceLastCheck().ifPresent(since -> b.put("last_check_ms_ago", since.toMillis()));
        b.put("in_flight", backend.inFlight());
        ProxyMetrics.BackendMetrics metrics = engine.metrics(backend);
        if (metrics != null) {
            Timer timer = metrics.requests();
            Snapshot snapshot = timer.getSnapshot();
            b.put("requests", timer.getCount());
            b.put("rate_1m", timer.getOneMinuteRate());
            b.put("p50_ms", snapshot.getMedian() / TimeUnit.MILLISECONDS.toNanos(1));
            b.put("p99_ms", snapshot.get99thPercentile() / TimeUnit.MILLISECONDS.toNanos(1));
            Map<String, Object> responses = new LinkedHashMap<>();
            for (String c : List.of("1xx", "2xx", "3xx", "4xx", "5xx")) {
                responses.put(c, metrics.responses(c));
            }
            b.put("responses", responses);
            Map<String, Object> errors = new LinkedHashMap<>();
            for (ProxyMetrics.ErrorKind kind : ProxyMetrics.ErrorKind.values()) {
                errors.put(kind.name().toLowerCase(java.util.Locale.ROOT), metrics.errors(kind));
            }
            b.put("errors", errors);
            b.put("retries", metrics.retries());
        }
        return b;
    }

    /**
     * The backend's {@link BackendState} in lower case, except that an UP backend is {@code idle} at weight 0
     * and {@code starting} while slow start ramps it up.
     */
    private static String state(Backend backend) {
        BackendState state = backend.state();
        if (state != BackendState.UP) {
            return state.name().toLowerCase(java.util.Locale.ROOT);
        }
        if (backend.weight() == 0) {
            return "idle";
        }
        return backend.health().weightPercent() < 100 ? "starting" : "up";
    }

    /** Sets a backend's weight; 0 stops new traffic. */
    public void weight(String pool, String backend, int weight) {
        if (weight < 0 || weight > 1_000_000) {
            throw new IllegalArgumentException("weight: " + weight + " (expected: integer 0..1000000)");
        }
        Backend b = find(pool, backend);
        int old = b.weight();
        b.weight(weight);
        changed("pool " + pool + " backend " + backend + ": weight " + old + " -> " + weight);
    }

    /** Takes the backend out of rotation (in-flight requests finish). */
    public void disable(String pool, String backend) {
        find(pool, backend).disable();
        changed("pool " + pool + " backend " + backend + ": disabled");
    }

    /** Sends no new request to the backend, sticky ones included, while those in flight finish. */
    public void drain(String pool, String backend) {
        find(pool, backend).drain();
        changed("pool " + pool + " backend " + backend + ": draining");
    }

    /** Puts the backend back in rotation after {@link #disable} or {@link #drain}; its health still applies. */
    public void enable(String pool, String backend) {
        find(pool, backend).enable();
        changed("pool " + pool + " backend " + backend + ": enabled");
    }

    /** Whether every pool has a backend that can take traffic, and which do not. */
    public List<String> poolsWithoutBackend() {
        List<String> missing = new ArrayList<>();
        for (BackendPool pool : engine.pools().values()) {
            boolean any = false;
            for (Backend backend : pool.backends()) {
                any |= pool.eligible(backend);
            }
            if (!any) {
                missing.add(pool.name());
            }
        }
        return missing;
    }

    /**
     * Re-reads the configuration's sources and applies them (see {@link ProxyEngine#reload}); never throws
     * for a bad configuration, which the result reports as rejected.
     */
    public ReloadResult reload() {
        ReloadResult result = engine.reloadFromSource("admin");
        changed("configuration reload: " + result.outcome().name().toLowerCase(java.util.Locale.ROOT));
        return result;
    }

    /** The outcome of the last reload and the generation serving, as plain maps for JSON. */
    public Map<String, Object> reloadStatus() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("generation", engine.generation());
        m.put("reloadable", engine.reloadable());
        m.put("restart_only", ProxyEngine.RESTART_ONLY);
        ReloadResult last = engine.lastReload();
        m.put("last", last == null ? null : last.toMap());
        return m;
    }

    /** The running configuration and where it came from. */
    public Object config() {
        return engine.config();
    }

    private Backend find(String pool, String backend) {
        BackendPool p = engine.pools().get(pool);
        if (p == null) {
            throw new IllegalArgumentException(
                    "pool: " + pool + " (expected: one of " + engine.pools().keySet() + ")");
        }
        for (Backend b : p.backends()) {
            if (b.name().equals(backend)) {
                return b;
            }
        }
        throw new IllegalArgumentException("backend: " + backend + " (expected: one of "
                + p.backends().stream().map(Backend::name).toList() + " in pool " + pool + ")");
    }

    private void changed(String what) {
        LOG.info("admin: {}", what);
        engine.metrics().registry().counter("proxy.admin.changes").inc();
    }

    // ---- the response cache ----

    /** The cache's numbers for the dashboard, or {@code null} when the cache is off. */
    public Map<String, Object> cache() {
        CachingStep caching = engine.caching();
        if (caching == null) {
            return null;
        }
        dev.proxyfilter.cache.StoreStats stats = caching.storeStats();
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("hit_ratio", caching.hitRatio());
        c.put("hits", caching.hits());
        c.put("misses", caching.misses());
        c.put("stale_served", caching.staleServed());
        c.put("coalesced", caching.coalesced());
        c.put("stored", caching.stored());
        c.put("revalidated", caching.revalidated());
        c.put("invalidated", caching.invalidated());
        c.put("rejected_too_large", stats.rejected());
        c.put("removals", stats.removals());
        return c;
    }

    /**
     * Removes the stored responses (all variants) of one URL, such as {@code http://example.com/a?b=1}.
     *
     * @return how many were removed: 1 or 0
     * @throws IllegalArgumentException when the URL is not absolute http(s), or the cache is off
     */
    public int purgeUrl(String url) {
        CachingStep caching = requireCache();
        String key = cacheUri(url, "url");
        boolean present = caching.purgeKey(key);
        LOG.info("cache purge of {}: {}", key, present ? "removed" : "not stored");
        return present ? 1 : 0;
    }

    /**
     * Removes every stored response whose URL starts with {@code prefix}, such as {@code http://example.com/api/}.
     *
     * @return how many entries were removed (variants and their indexes included)
     */
    public int purgePrefix(String prefix) {
        CachingStep caching = requireCache();
        int removed = caching.purge(cacheUri(prefix, "prefix"));
        LOG.info("cache purge of prefix {}: {} entries removed", prefix, removed);
        return removed;
    }

    private CachingStep requireCache() {
        CachingStep caching = engine.caching();
        if (caching == null) {
            throw new IllegalArgumentException("cache: off (expected: cache.enabled=true to purge)");
        }
        return caching;
    }

    private static String cacheUri(String value, String name) {
        String expected = " (expected: absolute http(s) URL such as http://example.com/path)";
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException(name + ": missing" + expected);
        }
        java.net.URI uri;
        try {
            uri = java.net.URI.create(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": " + value + expected);
        }
        String scheme = uri.getScheme();
        if (scheme == null
                || uri.getRawAuthority() == null
                || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))) {
            throw new IllegalArgumentException(name + ": " + value + expected);
        }
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        return dev.proxyfilter.cache.CacheKeys.uri(scheme, uri.getRawAuthority(), path, uri.getRawQuery());
    }
}
