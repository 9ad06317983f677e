package dev.proxyfilter.forward;

import com.codahale.metrics.Snapshot;
import com.codahale.metrics.Timer;
import dev.proxyfilter.balance.Backend;
import dev.proxyfilter.balance.BackendHealth;
import dev.proxyfilter.balance.BackendPool;
import dev.proxyfilter.balance.BackendState;
import dev.proxyfilter.metrics.ProxyMetrics;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the admin interface can see and change, without HTTP: the adapters' admin servlet only
 * translates. Every change is logged and counted in {@code proxy.admin.changes}.
 */
public final class AdminOperations {
    private static final Logger LOG = LoggerFactory.getLogger(AdminOperations.class);

    private final ProxyEngine engine;

    AdminOperations(ProxyEngine engine) {
        this.engine = engine;
    }

    /** Every pool with its backends' state and numbers, as plain maps ready for JSON. */
    public List<Map<String, Object>> pools() {
        List<Map<String, Object>> pools = new ArrayList<>();
        for (BackendPool pool : engine.pools().values()) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("name", pool.name());
            p.put("strategy", engine.config().pools().get(pool.name()).strategy().configName());
            p.put("pending", engine.pending(pool.name()));
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

    /** The running configuration and where it came from. */
    public Object config() {
        return engine.config();
    }

    private Backend find(String pool, String backend) {
        BackendPool p = engine.pools().get(pool);
        if (p == null) {
            throw new IllegalArgumentException("pool: " + pool + " (expected: one of " + engine.pools().keySet() + ")");
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
}
