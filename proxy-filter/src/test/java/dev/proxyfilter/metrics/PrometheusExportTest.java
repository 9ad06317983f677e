package dev.proxyfilter.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.ref.WeakReference;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The Prometheus text the registry writes: names, HELP lines, histogram buckets, and one registry per instance. */
class PrometheusExportTest {
    private static String scrape(ProxyMetrics metrics) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        metrics.writePrometheus(out);
        return out.toString(StandardCharsets.UTF_8);
    }

    /** The value of one sample line, e.g. {@code name{labels}}. */
    private static double sample(String text, String series) {
        Matcher m =
                Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(text);
        assertThat(m.find()).as("sample %s in:%n%s", series, text).isTrue();
        return Double.parseDouble(m.group(1));
    }

    @Test
    void latencyIsAHistogramWithCumulativeBucketsInSeconds() throws IOException {
        try (ProxyMetrics metrics = new ProxyMetrics()) {
            ProxyMetrics.RouteMetrics route = metrics.route("main");
            route.onExchange(200, TimeUnit.MICROSECONDS.toNanos(300)); // 0.0005
            route.onExchange(200, TimeUnit.MILLISECONDS.toNanos(1)); // exactly on a bound: le includes it
            route.onExchange(503, TimeUnit.MILLISECONDS.toNanos(40)); // 0.05
            route.onExchange(200, TimeUnit.SECONDS.toNanos(90)); // past the last bound: +Inf only

            String text = scrape(metrics);

            assertThat(text)
                    .contains("# TYPE proxyfilter_route_request_duration_seconds histogram\n")
                    .doesNotContain("summary\n# HELP proxyfilter");
            String bucket = "proxyfilter_route_request_duration_seconds_bucket{route=\"main\",le=\"%s\"}";
            assertThat(sample(text, bucket.formatted("5.0E-4"))).isEqualTo(1);
            assertThat(sample(text, bucket.formatted("0.001"))).isEqualTo(2);
            assertThat(sample(text, bucket.formatted("0.025"))).isEqualTo(2);
            assertThat(sample(text, bucket.formatted("0.05"))).isEqualTo(3);
            assertThat(sample(text, bucket.formatted("60.0"))).isEqualTo(3);
            assertThat(sample(text, bucket.formatted("+Inf"))).isEqualTo(4);
            assertThat(sample(text, "proxyfilter_route_request_duration_seconds_count{route=\"main\"}"))
                    .isEqualTo(4);
            assertThat(sample(text, "proxyfilter_route_request_duration_seconds_sum{route=\"main\"}"))
                    .isCloseTo(90.0413, org.assertj.core.api.Assertions.within(1e-9));
            assertThat(sample(text, "proxyfilter_route_responses_total{class=\"5xx\",route=\"main\"}"))
                    .isEqualTo(1);
            // The Dropwizard timer, which the dashboard and JMX read, counts the same exchanges.
            assertThat(route.requests().getCount()).isEqualTo(4);
        }
    }

    @Test
    void everyFamilyHasAHelpLineForPeopleAndFollowsTheNamingRules() throws IOException {
        try (ProxyMetrics metrics = new ProxyMetrics()) {
            metrics.backend("web", "a").onResponse(200, 1_000_000);
            metrics.route("main").onExchange(200, 1_000_000);
            metrics.poolPending("web", () -> 0);
            metrics.gauge("proxy.cache.hits", () -> 3);
            metrics.gauge("proxy.cache.tier.onheap.bytes", () -> 4096);
            metrics.gauge("proxy.cache.tier.disk.bytes", () -> -1); // not known: no series rather than -1
            metrics.gauge("proxy.upstream.threads.busy", () -> 1);
            metrics.gauge("proxy.reload.generation", () -> 1);
            metrics.registry().counter("proxy.reload.success").inc();
            metrics.registry().counter("proxy.admin.changes");

            String text = scrape(metrics);

            List<String> families = new ArrayList<>();
            Matcher type = Pattern.compile("(?m)^# TYPE (\\S+) (\\S+)$").matcher(text);
            while (type.find()) {
                String family = type.group(1);
                families.add(family);
                // Ours are sentences; the JVM families' come with Prometheus' instrumentation ("JVM runtime info").
                String help = family.startsWith("proxyfilter_") ? " [A-Z0-9].{30,}$" : " [A-Z].+$";
                assertThat(text).as(family).containsPattern("(?m)^# HELP " + family + help);
                if (type.group(2).equals("counter")) {
                    assertThat(family).as("a counter's name").endsWith("_total");
                }
                assertThat(family).as("one namespace each").matches("(proxyfilter|jvm|process)_[a-z0-9_]+");
            }
            assertThat(families)
                    .contains(
                            "proxyfilter_cache_hits_total",
                            "proxyfilter_cache_tier_bytes",
                            "proxyfilter_threads_busy",
                            "proxyfilter_reloads_total",
                            "proxyfilter_admin_changes_total",
                            "proxyfilter_pool_pending",
                            "proxyfilter_backend_request_duration_seconds",
                            "jvm_memory_used_bytes",
                            "jvm_gc_collection_seconds",
                            "jvm_threads_current",
                            "process_cpu_seconds_total",
                            "process_resident_memory_bytes");
            assertThat(text)
                    .doesNotContain("Generated from Dropwizard", "Lambda$", MetricCatalog.UNDESCRIBED)
                    .contains("proxyfilter_cache_tier_bytes{tier=\"onheap\"} 4096.0\n")
                    .doesNotContain("tier=\"disk\"")
                    .contains("proxyfilter_threads_busy{executor=\"upstream\"} 1.0\n")
                    .contains("proxyfilter_reloads_total{result=\"success\"} 1.0\n");
        }
    }

    @Test
    void aMetricNoRuleDescribesIsExportedAndSaysSo() throws IOException {
        try (ProxyMetrics metrics = new ProxyMetrics()) {
            metrics.gauge("proxy.something.new", () -> 7);

            assertThat(scrape(metrics))
                    .contains("# HELP proxyfilter_something_new Dropwizard metric proxy.something.new "
                            + MetricCatalog.UNDESCRIBED)
                    .contains("proxyfilter_something_new 7.0\n");
        }
    }

    @Test
    void aCounterKeptAsASumThatStepsBackIsExportedAsNeverDecreasing() throws IOException {
        AtomicLong misses = new AtomicLong(5);
        try (ProxyMetrics metrics = new ProxyMetrics()) {
            metrics.gauge("proxy.cache.misses", misses::get);
            assertThat(sample(scrape(metrics), "proxyfilter_cache_misses_total"))
                    .isEqualTo(5);

            misses.decrementAndGet(); // a miss recounted as coalesced
            assertThat(sample(scrape(metrics), "proxyfilter_cache_misses_total"))
                    .isEqualTo(5);

            misses.addAndGet(3);
            assertThat(sample(scrape(metrics), "proxyfilter_cache_misses_total"))
                    .isEqualTo(7);
        }
    }

    /**
     * Two engines in one JVM (two webapps, or tests) each export the JVM families on their own registry, with no
     * clash; and a closed one is not kept reachable by the JVM instrumentation (its {@code JvmMetrics} would keep
     * every registry in a static set).
     */
    @Test
    void eachInstanceHasItsOwnRegistryAndNothingStaticKeepsItAlive() throws Exception {
        try (ProxyMetrics one = new ProxyMetrics();
                ProxyMetrics two = new ProxyMetrics()) {
            assertThat(scrape(one)).contains("# TYPE jvm_memory_used_bytes gauge");
            assertThat(scrape(two)).contains("# TYPE jvm_memory_used_bytes gauge");
        }

        WeakReference<ProxyMetrics> ref = abandoned();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (ref.get() != null && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        assertThat(ref.get()).as("a closed ProxyMetrics is garbage").isNull();
    }

    private static WeakReference<ProxyMetrics> abandoned() throws IOException {
        ProxyMetrics metrics = new ProxyMetrics();
        metrics.route("main").onExchange(200, 1);
        scrape(metrics);
        metrics.close();
        return new WeakReference<>(metrics);
    }
}
