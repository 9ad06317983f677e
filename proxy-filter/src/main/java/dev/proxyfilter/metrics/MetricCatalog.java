package dev.proxyfilter.metrics;

import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.PrometheusNaming;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What each metric the proxy keeps in its Dropwizard registry under a plain dotted name ({@code proxy.cache.hits},
 * {@code proxy.reload.generation}, {@code proxy.server.threads.busy}, ...) is called in Prometheus, its type, its
 * labels and its HELP text. The parts of the engine register gauges and counters by dotted name, as before; this
 * table alone decides how they are exported, so that every family carries a HELP line written for people and
 * follows Prometheus naming: one {@code proxyfilter_} prefix, base units in the name, {@code _total} on counters
 * (the text format adds it), and a label instead of a name per pool, tier or result.
 *
 * <p>The pool, backend and route families are not here: {@link LabeledExports} builds them from the holders
 * {@link ProxyMetrics} hands out. A dotted name that no rule matches is still exported, named after it, with a
 * HELP text saying it has no description: the Grafana dashboard test fails on that text, so a new metric gets its
 * rule.
 */
final class MetricCatalog {
    /** Prometheus type of a family. */
    enum Type {
        /** Only ever goes up (the text format adds {@code _total}); a restart starts it from zero. */
        COUNTER,
        /** A value now. */
        GAUGE
    }

    /**
     * One Prometheus family: name without {@code _total}, type, HELP text, its labels' names, and whether a
     * negative value means "not known" (a series left out) rather than a value.
     */
    record Family(String name, Type type, String help, List<String> labelNames, boolean negativeIsUnknown) {}

    /** A Dropwizard metric described: the family it belongs to and its label values there. */
    record Described(Family family, Labels labels) {}

    /** The HELP text of a metric no rule describes; tests look for it. */
    static final String UNDESCRIBED = "(no description yet: add a rule to dev.proxyfilter.metrics.MetricCatalog)";

    private record Rule(Pattern dropwizardName, Family family) {}

    private static final List<Rule> RULES = List.of(
            // ---- the response cache (cache.enabled=true) ----
            counter(
                    "proxy\\.cache\\.hits",
                    "proxyfilter_cache_hits",
                    "Requests answered from the cache with a fresh stored response, without a backend"),
            counter(
                    "proxy\\.cache\\.misses",
                    "proxyfilter_cache_misses",
                    "Cacheable requests that went to a backend: nothing usable was stored, or it had to be revalidated"),
            counter(
                    "proxy\\.cache\\.stale_served",
                    "proxyfilter_cache_stale_served",
                    "Stale responses served while one request refreshes them (stale-while-revalidate) or while the"
                            + " backend fails (stale-if-error)"),
            counter(
                    "proxy\\.cache\\.coalesced",
                    "proxyfilter_cache_coalesced",
                    "Requests that waited for an identical miss already in flight and were answered with its response"),
            counter("proxy\\.cache\\.stored", "proxyfilter_cache_stored", "Responses written to the cache"),
            counter(
                    "proxy\\.cache\\.revalidated",
                    "proxyfilter_cache_revalidated",
                    "Stored responses that a backend's 304 Not Modified made fresh again"),
            counter(
                    "proxy\\.cache\\.invalidated",
                    "proxyfilter_cache_invalidated",
                    "Stored responses removed by an unsafe request to their URL (POST, PUT, DELETE, PATCH) or a purge"),
            counter(
                    "proxy\\.cache\\.store\\.rejected_too_large",
                    "proxyfilter_cache_rejected_too_large",
                    "Responses not stored because their body was larger than cache.max-entry-bytes"),
            gauge(
                    "proxy\\.cache\\.hit_ratio",
                    "proxyfilter_cache_hit_ratio",
                    "Share of cacheable requests answered from the cache (fresh, stale or coalesced) since the start,"
                            + " 0 to 1; for a recent ratio, divide the rates of the hit and miss counters"),
            new Rule(
                    Pattern.compile("proxy\\.cache\\.tier\\.([a-z0-9_-]+)\\.bytes"),
                    new Family(
                            "proxyfilter_cache_tier_bytes",
                            Type.GAUGE,
                            "Bytes held by one tier of the cache store (offheap, disk; onheap when it is sized in"
                                    + " bytes, absent when it counts entries)",
                            List.of("tier"),
                            true)),
            gauge(
                    "proxy\\.cache\\.tier\\.([a-z0-9_-]+)\\.entries",
                    "proxyfilter_cache_tier_entries",
                    "Responses held by one tier of the cache store",
                    "tier"),
            counter(
                    "proxy\\.cache\\.tier\\.([a-z0-9_-]+)\\.evictions",
                    "proxyfilter_cache_tier_evictions",
                    "Responses one tier of the cache store evicted to make room",
                    "tier"),
            // ---- threads: server (client connections, standalone) and upstream (backend connections) ----
            gauge(
                    "proxy\\.(server|upstream)\\.threads\\.busy",
                    "proxyfilter_threads_busy",
                    "Threads of a pool running a task now: server (client connections) or upstream (backend"
                            + " connections)",
                    "executor"),
            gauge(
                    "proxy\\.(server|upstream)\\.threads\\.max",
                    "proxyfilter_threads_max",
                    "Most threads the pool may run",
                    "executor"),
            gauge(
                    "proxy\\.(server|upstream)\\.threads\\.queued",
                    "proxyfilter_threads_queued",
                    "Tasks waiting for a free thread of the pool",
                    "executor"),
            // ---- the engine ----
            gauge(
                    "proxy\\.requests\\.in_flight",
                    "proxyfilter_requests_in_flight",
                    "Client requests being handled now: forwarded, answered from the cache or refused, not yet ended"),
            // ---- configuration reloads ----
            gauge(
                    "proxy\\.reload\\.generation",
                    "proxyfilter_reload_generation",
                    "Number of the configuration serving new requests: 1 at the start, one more per applied reload"),
            gauge(
                    "proxy\\.reload\\.last_ok",
                    "proxyfilter_reload_last_ok",
                    "1 when the last configuration reload was applied (or none was tried yet), 0 when it was rejected"
                            + " and the previous configuration keeps serving"),
            gauge(
                    "proxy\\.reload\\.restart_required",
                    "proxyfilter_reload_restart_required",
                    "Restart-only settings that the last reload changed but could not apply; above 0, a restart is"
                            + " needed to apply them"),
            counter(
                    "proxy\\.reload\\.(success|failure)",
                    "proxyfilter_reloads",
                    "Configuration reloads by result: success (applied) or failure (rejected, the previous"
                            + " configuration keeps serving)",
                    "result"),
            // ---- administration and the access log ----
            counter(
                    "proxy\\.admin\\.changes",
                    "proxyfilter_admin_changes",
                    "Backend changes made through the admin API: drain, enable, disable, weight"),
            counter(
                    "proxy\\.access_log\\.dropped",
                    "proxyfilter_access_log_dropped",
                    "Access-log lines lost: the queue to the log writer was full, or the logging backend failed"),
            gauge(
                    "proxy\\.access_log\\.queued",
                    "proxyfilter_access_log_queued",
                    "Access-log lines waiting for the log writer thread"),
            // ---- the standalone listener's HTTP/1.1 fast path ----
            counter(
                    "proxy\\.fast_path\\.requests",
                    "proxyfilter_fast_path_requests",
                    "Requests the HTTP/1.1 fast path parsed and answered itself (server.fast-path)"),
            counter(
                    "proxy\\.fast_path\\.fall_backs",
                    "proxyfilter_fast_path_fall_backs",
                    "Connections the fast path handed to Jetty's HTTP/1.1 at a request it does not cover"
                            + " (a body, Upgrade, Expect, HTTP/1.0, an encoded path, a malformed request)"));

    private MetricCatalog() {}

    /** The family and labels of a Dropwizard metric, or {@code null} when no rule describes it. */
    static Described describe(String dropwizardName) {
        for (Rule rule : RULES) {
            Matcher matcher = rule.dropwizardName.matcher(dropwizardName);
            if (matcher.matches()) {
                List<String> names = rule.family.labelNames();
                String[] pairs = new String[names.size() * 2];
                for (int i = 0; i < names.size(); i++) {
                    pairs[2 * i] = names.get(i);
                    pairs[2 * i + 1] = matcher.group(i + 1);
                }
                return new Described(rule.family, Labels.of(pairs));
            }
        }
        return null;
    }

    /** A family for a metric no rule describes: a gauge named after it, saying it has no description. */
    static Described undescribed(String dropwizardName, Type type) {
        String base =
                dropwizardName.startsWith("proxy.") ? dropwizardName.substring("proxy.".length()) : dropwizardName;
        String name = PrometheusNaming.sanitizeMetricName("proxyfilter_" + base.toLowerCase(Locale.ROOT));
        return new Described(
                new Family(name, type, "Dropwizard metric " + dropwizardName + " " + UNDESCRIBED, List.of(), false),
                Labels.EMPTY);
    }

    /** Every family a rule describes, for tests and documentation. */
    static List<Family> families() {
        return RULES.stream().map(Rule::family).toList();
    }

    private static Rule counter(String pattern, String name, String help, String... labels) {
        return new Rule(Pattern.compile(pattern), new Family(name, Type.COUNTER, help, List.of(labels), false));
    }

    private static Rule gauge(String pattern, String name, String help, String... labels) {
        return new Rule(Pattern.compile(pattern), new Family(name, Type.GAUGE, help, List.of(labels), false));
    }
}
