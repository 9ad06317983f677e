package dev.proxyfilter.forward;

import dev.proxyfilter.balance.Backend;
import dev.proxyfilter.balance.BackendPool;
import dev.proxyfilter.config.ConfigException;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.config.RouteConfig;
import dev.proxyfilter.metrics.ProxyMetrics;
import dev.proxyfilter.reload.ConfigWatcher;
import dev.proxyfilter.reload.ReloadResult;
import dev.proxyfilter.security.Security;
import dev.proxyfilter.security.SharedBuckets;
import dev.proxyfilter.time.ProxyClock;
import dev.proxyfilter.upstream.UpstreamClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.eclipse.jetty.client.HttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replaces the engine's {@link Generation} with a new one once it is completely built, through one volatile
 * write, and lets go of the old one once its requests have ended.
 *
 * <p>Long-lived across generations: thread pool, scheduler, buffer pool, metrics, the response cache and the
 * clients (one per connect timeout, stopped once no live generation uses it). Backends whose pool, name and
 * URL stay are the same objects in the next generation: health, statistics and sticky sessions carry over.
 * Removed backends drain, and their metrics go once their last request ended. Settings the running
 * listeners, clients or cache were built from ({@link ProxyEngine#RESTART_ONLY}) are reported, not applied.
 * Reloads run one at a time, under this object's lock.
 */
final class Reloader {
    private static final Logger LOG = LoggerFactory.getLogger(Reloader.class);

    /** How often a retired generation is looked at until its requests have ended. */
    private static final long SWEEP_MILLIS = 250;

    private final GenerationBuilder builder;
    private final UpstreamClients clients;
    private final ProxyMetrics metrics;
    private final ProxyClock clock;
    /** The configuration the long-lived parts were built from: what restart-only settings compare to. */
    private final ProxyConfig baseline;
    /** The cluster's token buckets for every generation's rate limits, or null: each instance's own. */
    private final SharedBuckets sharedBuckets;

    private volatile Generation current;
    /** Older generations with requests still in flight; guarded by {@code this}. */
    private final List<Generation> retired = new ArrayList<>();
    /** Removed backends still draining; guarded by {@code this}. */
    private final List<Backend> draining = new ArrayList<>();

    private boolean sweeping;
    private boolean closed;
    private volatile ReloadResult lastReload;
    private volatile Supplier<ProxyConfig> source;
    private final List<AutoCloseable> watchers = new CopyOnWriteArrayList<>();

    Reloader(
            ProxyConfig baseline,
            Security security,
            SharedBuckets sharedBuckets,
            GenerationBuilder builder,
            UpstreamClients clients,
            ProxyMetrics metrics,
            ProxyClock clock)
            throws Exception {
        this.clock = clock;
        this.baseline = baseline;
        this.sharedBuckets = sharedBuckets;
        this.builder = builder;
        this.clients = clients;
        this.metrics = metrics;
        synchronized (this) {
            current = builder.build(1, baseline, security, null);
        }
        current.healthChecker.start();
        metrics.gauge("proxy.reload.generation", () -> current.number);
        metrics.gauge("proxy.reload.last_ok", () -> lastReload == null || lastReload.ok() ? 1 : 0);
        metrics.gauge(
                "proxy.reload.restart_required",
                () -> lastReload == null ? 0 : lastReload.restartRequired().size());
        metrics.registry().counter("proxy.reload.success");
        metrics.registry().counter("proxy.reload.failure");
    }

    /** The generation serving new requests now. */
    Generation serving() {
        return current;
    }

    /** The outcome of the last reload, or {@code null} before the first. */
    ReloadResult lastReload() {
        return lastReload;
    }

    void source(Supplier<ProxyConfig> loader) {
        this.source = loader;
    }

    boolean reloadable() {
        return source != null;
    }

    /** Watches {@code file} and reloads from {@link #source} when it changes; stopped by {@link #close()}. */
    ConfigWatcher watch(Path file) {
        ConfigWatcher watcher = ConfigWatcher.start(file, baseline.reload().debounce(), () -> reloadFromSource("file"));
        watchers.add(watcher);
        return watcher;
    }

    /** See {@link ProxyEngine#reload(ProxyConfig, String)}. */
    synchronized ReloadResult reload(ProxyConfig next, String trigger) {
        Generation previous = current;
        if (closed) {
            return rejected(trigger, previous, "engine closed");
        }
        List<String> restartRequired = restartRequired(next);
        ProxyConfig effective = new ProxyConfig(
                baseline.server(),
                next.pools(),
                next.routes(),
                baseline.demo(),
                next.via(),
                next.sources(),
                next.retryBudgetPercent(),
                baseline.admin(),
                next.accessLog(),
                next.security(),
                next.limits(),
                baseline.upstreamTls(),
                baseline.cache(),
                baseline.reload(),
                next.websocket(),
                baseline.cluster(),
                baseline.accessLogTarget());
        if (effective.equals(previous.config)) {
            return record(new ReloadResult(
                    ReloadResult.Outcome.UNCHANGED,
                    previous.number,
                    restartRequired.isEmpty()
                            ? "configuration unchanged"
                            : "configuration unchanged; needs a restart: " + String.join(", ", restartRequired),
                    restartRequired,
                    trigger,
                    clock.instant()));
        }
        Generation generation;
        try {
            Security security = Security.start(
                    next.security(),
                    next.routes().stream().map(RouteConfig::name).toList(),
                    clock,
                    previous.security, // unchanged rate limits keep their buckets
                    sharedBuckets);
            generation = builder.build(previous.number + 1, effective, security, previous);
        } catch (ConfigException e) {
            return rejected(trigger, previous, e.getMessage());
        } catch (Exception | LinkageError e) {
            LOG.warn("configuration reload ({}) could not start", trigger, e);
            return rejected(trigger, previous, "cannot start the new configuration: " + e);
        }
        current = generation;
        generation.healthChecker.start();
        previous.healthChecker.close();
        retire(previous, generation);
        String summary =
                "generation " + generation.number + ": " + effective.routes().size() + " route(s), "
                        + effective.pools().size() + " pool(s)"
                        + (restartRequired.isEmpty()
                                ? ""
                                : "; not applied, needs a restart: " + String.join(", ", restartRequired));
        return record(new ReloadResult(
                ReloadResult.Outcome.APPLIED, generation.number, summary, restartRequired, trigger, clock.instant()));
    }

    /** See {@link ProxyEngine#reloadFromSource}. */
    ReloadResult reloadFromSource(String trigger) {
        Supplier<ProxyConfig> from = source;
        if (from == null) {
            synchronized (this) {
                return rejected(
                        trigger,
                        current,
                        "reload: no configuration source (expected: an engine started"
                                + " from a configuration file or init-params)");
            }
        }
        ProxyConfig next;
        try {
            next = from.get();
        } catch (ConfigException e) {
            synchronized (this) {
                return rejected(trigger, current, e.getMessage());
            }
        } catch (RuntimeException e) {
            synchronized (this) {
                return rejected(trigger, current, "cannot read the configuration: " + e);
            }
        }
        return reload(next, trigger);
    }

    /** Restart-only settings that differ between the running configuration and {@code next}. */
    private List<String> restartRequired(ProxyConfig next) {
        List<String> keys = new ArrayList<>();
        if (!next.server().equals(baseline.server())) {
            keys.add("server.*");
        }
        if (!next.admin().equals(baseline.admin())) {
            keys.add("admin.*");
        }
        if (!next.accessLogTarget().equals(baseline.accessLogTarget())) {
            keys.add("log.access.*");
        }
        if (!next.demo().equals(baseline.demo())) {
            keys.add("demo.*");
        }
        if (!next.upstreamTls().equals(baseline.upstreamTls())) {
            keys.add("proxy.tls.*");
        }
        if (!next.cache().equals(baseline.cache())) {
            keys.add("cache.*");
        }
        if (!next.reload().equals(baseline.reload())) {
            keys.add("reload.*");
        }
        if (!next.cluster().equals(baseline.cluster())) {
            keys.add("cluster.*");
        }
        return keys;
    }

    /** Under {@code this}. */
    private ReloadResult rejected(String trigger, Generation serving, String message) {
        return record(new ReloadResult(
                ReloadResult.Outcome.REJECTED, serving.number, message, List.of(), trigger, clock.instant()));
    }

    private ReloadResult record(ReloadResult result) {
        lastReload = result;
        switch (result.outcome()) {
            case APPLIED -> {
                metrics.registry().counter("proxy.reload.success").inc();
                if (result.restartRequired().isEmpty()) {
                    LOG.info("configuration reloaded ({}): {}", result.trigger(), result.message());
                } else {
                    LOG.warn("configuration reloaded ({}): {}", result.trigger(), result.message());
                }
            }
            case UNCHANGED -> {
                metrics.registry().counter("proxy.reload.success").inc();
                LOG.info("configuration reload ({}): {}", result.trigger(), result.message());
            }
            case REJECTED -> {
                metrics.registry().counter("proxy.reload.failure").inc();
                LOG.error(
                        "configuration reload ({}) rejected, generation {} keeps serving: {}",
                        result.trigger(),
                        result.generation(),
                        result.message());
            }
        }
        return result;
    }

    /**
     * Drains the backends {@code next} dropped and keeps {@code previous} until its requests have ended;
     * {@link #sweep} then stops the clients and removes the metrics nobody uses any more. Under {@code this}.
     */
    private void retire(Generation previous, Generation next) {
        Set<Backend> kept = Collections.newSetFromMap(new IdentityHashMap<>());
        for (BackendPool pool : next.pools.values()) {
            kept.addAll(pool.backends());
        }
        for (BackendPool pool : previous.pools.values()) {
            for (Backend backend : pool.backends()) {
                if (!kept.contains(backend)) {
                    backend.retire();
                    draining.add(backend);
                }
            }
            if (!next.pools.containsKey(pool.name())) {
                metrics.removePool(pool.name());
            }
        }
        previous.retiredAt = clock.nanoTime();
        retired.add(previous);
        if (!sweeping) {
            sweeping = true;
            clients.scheduler().schedule(this::sweep, SWEEP_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    /** Lets go of what retired generations held once their requests have ended; again later while some run. */
    private void sweep() {
        List<HttpClient> unused;
        synchronized (this) {
            if (closed) {
                return;
            }
            Generation serving = current;
            long now = clock.nanoTime();
            retired.removeIf(generation -> generation.idle(now));
            Set<Duration> inUse = new HashSet<>(serving.clientTimeouts);
            Set<String> routesInUse = new HashSet<>();
            for (Generation generation : retired) {
                inUse.addAll(generation.clientTimeouts);
                generation.config.routes().forEach(route -> routesInUse.add(route.name()));
            }
            serving.config.routes().forEach(route -> routesInUse.add(route.name()));
            unused = clients.removeUnused(inUse);
            Set<String> addresses = new HashSet<>();
            addAddresses(serving, addresses);
            for (Generation generation : retired) {
                addAddresses(generation, addresses);
            }
            clients.retainDestinations(addresses);
            for (var it = draining.iterator(); it.hasNext(); ) {
                Backend backend = it.next();
                if (backend.inFlight() == 0) {
                    it.remove();
                    builder.forget(backend);
                    BackendPool pool = serving.pools.get(backend.pool());
                    if (pool == null || pool.backend(backend.name()).isEmpty()) {
                        metrics.removeBackend(backend.pool(), backend.name());
                    }
                }
            }
            for (String name : List.copyOf(metrics.routeNames())) {
                if (!routesInUse.contains(name)) {
                    metrics.removeRoute(name);
                    metrics.tunnels().removeRoute(name);
                }
            }
            if (retired.isEmpty() && draining.isEmpty()) {
                sweeping = false;
            } else {
                clients.scheduler().schedule(this::sweep, SWEEP_MILLIS, TimeUnit.MILLISECONDS);
            }
        }
        for (HttpClient client : unused) {
            UpstreamClients.stopQuietly(client);
        }
    }

    private static void addAddresses(Generation generation, Set<String> addresses) {
        for (BackendPool pool : generation.pools.values()) {
            for (Backend backend : pool.backends()) {
                addresses.add(UpstreamClient.key(backend.scheme(), backend.host(), backend.port()));
            }
        }
    }

    /**
     * Stops watching for reloads and every generation's health checks; returns the clients to stop.
     * Idempotent: a second call returns none.
     */
    List<HttpClient> close() {
        for (AutoCloseable watcher : watchers) {
            try {
                watcher.close();
            } catch (Exception e) {
                LOG.warn("stopping {} failed", watcher, e);
            }
        }
        watchers.clear();
        synchronized (this) {
            closed = true;
            current.healthChecker.close();
            for (Generation generation : retired) {
                generation.healthChecker.close();
            }
            retired.clear();
            draining.clear();
            return clients.removeAll();
        }
    }
}
