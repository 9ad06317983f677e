package dev.proxyfilter.admin;

import com.codahale.metrics.Snapshot;
import com.codahale.metrics.Timer;
import dev.proxyfilter.balance.Backend;
import dev.proxyfilter.balance.BackendHealth;
import dev.proxyfilter.balance.BackendPool;
import dev.proxyfilter.balance.BackendState;
import dev.proxyfilter.cluster.Cluster;
import dev.proxyfilter.cluster.ClusterCommands;
import dev.proxyfilter.cluster.Heartbeats;
import dev.proxyfilter.forward.AdminCommand;
import dev.proxyfilter.forward.CachingStep;
import dev.proxyfilter.forward.ClusterNode;
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

    /**
     * Sets a backend's weight; 0 stops new traffic. In a cluster, on every node: see {@link #drain}.
     *
     * @return {@code ok}, what was done here, and in a cluster how many nodes acknowledged ({@link #fanout})
     */
    public Map<String, Object> weight(String pool, String backend, int weight) {
        return everywhere(AdminCommand.weight(pool, backend, weight));
    }

    /** Takes the backend out of rotation (in-flight requests finish); in a cluster, on every node. */
    public Map<String, Object> disable(String pool, String backend) {
        return everywhere(AdminCommand.disable(pool, backend));
    }

    /**
     * Sends no new request to the backend, sticky ones included, while those in flight finish. Applied here
     * first, so that an unknown pool or backend is refused before any other node hears of it; then, in a cluster,
     * sent to every other node, which applies it to its own engine, and the answer says which nodes acknowledged
     * within {@link ClusterNode#ACK_WAIT}.
     */
    public Map<String, Object> drain(String pool, String backend) {
        return everywhere(AdminCommand.drain(pool, backend));
    }

    /**
     * Puts the backend back in rotation after {@link #disable} or {@link #drain}; its health still applies (each
     * node's own checks). In a cluster, on every node.
     */
    public Map<String, Object> enable(String pool, String backend) {
        return everywhere(AdminCommand.enable(pool, backend));
    }

    private Map<String, Object> everywhere(AdminCommand command) {
        String done = command.applyTo(engine, "admin");
        changed(done);
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("ok", true);
        answer.put("done", done);
        sendToCluster(answer, command);
        return answer;
    }

    /** In a cluster, sends the command applied here to the other nodes and adds their answers. */
    private void sendToCluster(Map<String, Object> answer, AdminCommand command) {
        ClusterNode node = engine.clusterNode();
        if (node != null) {
            answer.put("cluster", fanout(node, node.send(command)));
        }
    }

    /**
     * A command's way across the cluster as plain maps: {@code nodes} (the ones expected, this one included),
     * {@code acknowledged} and {@code applied} (this one included), {@code missing} (addresses of the nodes that
     * did not answer in time) and each acknowledgement with its node's address and what it did.
     */
    private static Map<String, Object> fanout(ClusterNode node, ClusterCommands.Fanout fanout) {
        Map<String, String> addresses = new LinkedHashMap<>();
        for (Heartbeats.Node known : node.nodes()) {
            addresses.put(known.id(), known.fields().getOrDefault("address", ""));
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("nodes", fanout.expected().size() + 1);
        m.put("acknowledged", fanout.acks().size() + 1);
        m.put("applied", fanout.applied());
        m.put(
                "missing",
                fanout.missing().stream()
                        .map(id -> addresses.getOrDefault(id, id))
                        .toList());
        List<Map<String, Object>> acks = new ArrayList<>();
        for (ClusterCommands.Ack ack : fanout.acks()) {
            Map<String, Object> a = new LinkedHashMap<>();
            a.put("node", ack.node());
            a.put("address", addresses.getOrDefault(ack.node(), ""));
            a.put("ok", ack.ok());
            a.put("detail", ack.detail());
            acks.add(a);
        }
        m.put("acks", acks);
        m.put("waited_ms", fanout.waited().toMillis());
        return m;
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
     * for a bad configuration, which the result reports as rejected. In a cluster, every other node then re-reads
     * its own sources (whatever this node's outcome), and the answer says which did, within
     * {@link ClusterNode#RELOAD_ACK_WAIT}.
     *
     * @return the {@link ReloadResult} here as a map, {@code ok} telling whether it was applied or unchanged, and
     *     {@code cluster} in a cluster
     */
    public Map<String, Object> reload() {
        ReloadResult result = engine.reloadFromSource("admin");
        changed("configuration reload: " + result.outcome().name().toLowerCase(java.util.Locale.ROOT));
        Map<String, Object> answer = new LinkedHashMap<>(result.toMap());
        sendToCluster(answer, AdminCommand.reload());
        return answer;
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

    /**
     * The nodes of the cluster as this node knows them from their heartbeats (this one first), with their
     * address, uptime, configuration generation, requests in flight and how long ago their last heartbeat came;
     * {@code "enabled": false} without a cluster. Each node's metrics stay its own: ask its admin interface.
     */
    public Map<String, Object> cluster() {
        Map<String, Object> m = new LinkedHashMap<>();
        ClusterNode node = engine.clusterNode();
        if (node == null) {
            m.put("enabled", false);
            m.put("nodes", List.of());
            return m;
        }
        Cluster cluster = node.cluster();
        m.put("enabled", true);
        m.put("name", cluster.name());
        m.put("node", cluster.nodeId());
        m.put("connected", cluster.connected());
        m.put("hazelcast_members", cluster.members().size());
        m.put("rate_limits", engine.config().cluster().rateLimits().configName());
        m.put("heartbeat_period_ms", Heartbeats.PERIOD.toMillis());
        List<Map<String, Object>> nodes = new ArrayList<>();
        for (Heartbeats.Node known : node.nodes()) {
            Map<String, String> fields = known.fields();
            long sinceMillis = known.sinceLast().toMillis();
            Map<String, Object> n = new LinkedHashMap<>();
            n.put("id", known.id());
            n.put("self", known.self());
            n.put("state", known.self() ? "self" : known.late() ? "late" : "ok");
            n.put("address", fields.getOrDefault("address", ""));
            n.put("started", fields.get("started"));
            Long uptime = number(fields.get("uptime_ms"));
            n.put("uptime_ms", uptime == null ? null : uptime + sinceMillis);
            n.put("generation", number(fields.get("generation")));
            n.put("in_flight", number(fields.get("in_flight")));
            n.put("draining", Boolean.parseBoolean(fields.get("draining")));
            n.put("last_heartbeat_ms_ago", sinceMillis);
            nodes.add(n);
        }
        m.put("nodes", nodes);
        return m;
    }

    private static Long number(String value) {
        try {
            return value == null ? null : Long.valueOf(value);
        } catch (NumberFormatException e) {
            return null; // a newer node's field
        }
    }

    /** The running configuration and where it came from. */
    public Object config() {
        return engine.config();
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
     * Removes the stored responses (all variants) of one URL, such as {@code http://example.com/a?b=1}, on every
     * node of a cluster (see {@link #purge}).
     *
     * @return how many were removed here: 1 or 0
     * @throws IllegalArgumentException when the URL is not absolute http(s), or the cache is off
     */
    public int purgeUrl(String url) {
        return (Integer) purge(url, null).get("removed");
    }

    /**
     * Removes every stored response whose URL starts with {@code prefix}, such as {@code http://example.com/api/},
     * on every node of a cluster (see {@link #purge}).
     *
     * @return how many entries were removed here (variants and their indexes included)
     */
    public int purgePrefix(String prefix) {
        return (Integer) purge(null, prefix).get("removed");
    }

    /**
     * Removes the responses of {@code url}, or else of every URL under {@code prefix}. In a cluster, from every
     * node: with {@code cache.store=shared} through the shared tier, which tells the other nodes to drop their
     * local copies itself (asynchronously, unacknowledged; the answer says {@code "via": "shared-cache"}); with
     * a local store by a command each node applies to its own tiers, acknowledged like a drain.
     *
     * @return {@code removed} (here) and, in a cluster, {@code cluster}
     * @throws IllegalArgumentException when the URL is not absolute http(s), or the cache is off
     */
    public Map<String, Object> purge(String url, String prefix) {
        CachingStep caching = requireCache();
        AdminCommand command;
        int removed;
        if (url != null) {
            String key = cacheUri(url, "url");
            boolean present = caching.purgeKey(key);
            LOG.info("cache purge of {}: {}", key, present ? "removed" : "not stored");
            removed = present ? 1 : 0;
            command = AdminCommand.purgeUrl(key);
        } else {
            String key = cacheUri(prefix, "prefix");
            removed = caching.purge(key);
            LOG.info("cache purge of prefix {}: {} entries removed", prefix, removed);
            command = AdminCommand.purgePrefix(key);
        }
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("removed", removed);
        if (engine.clusterNode() != null) {
            if (engine.config().cache().shared()) {
                answer.put("cluster", Map.of("via", "shared-cache"));
            } else {
                sendToCluster(answer, command);
            }
        }
        return answer;
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
