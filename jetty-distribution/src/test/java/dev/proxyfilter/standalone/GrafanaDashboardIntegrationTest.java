package dev.proxyfilter.standalone;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.util.JSONObjectUtils;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped Grafana dashboard, {@code config/grafana-dashboard.json}, queries only metrics that a running proxy
 * exports: it is parsed, the metric names of every panel query and template variable are taken out of their
 * PromQL, and each must be a sample name in a real {@code /metrics} scrape of the standalone proxy with its cache
 * on (with an off-heap tier, whose size is known in bytes). A renamed metric breaks this test, not a dashboard in
 * production.
 */
@Timeout(60)
class GrafanaDashboardIntegrationTest {
    /** Relative to the jetty-distribution module, where Maven runs the tests. */
    private static final Path DASHBOARD = Path.of("..", "config", "grafana-dashboard.json");

    private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"");
    private static final Pattern MATCHERS = Pattern.compile("\\{[^}]*}");
    private static final Pattern RANGE = Pattern.compile("\\[[^]]*]");
    private static final Pattern GROUPING =
            Pattern.compile("\\b(?:by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
    private static final Pattern LABEL_VALUES = Pattern.compile("label_values\\(\\s*([a-zA-Z_:][a-zA-Z0-9_:]*)");
    private static final Pattern IDENTIFIER = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "bool", "offset", "inf", "nan");

    @TempDir
    Path dir;

    private NamedBackend a;
    private NamedBackend b;
    private RunningProxy proxy;
    private final HttpClient client =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void stopAll() throws Exception {
        if (proxy != null) {
            proxy.stop();
        }
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
    }

    @Test
    void everyMetricTheDashboardQueriesIsInARealScrapeWithTheCacheOn() throws Exception {
        Map<String, Object> dashboard = JSONObjectUtils.parse(Files.readString(DASHBOARD));
        List<String> queries = queries(dashboard);
        assertThat(queries).hasSizeGreaterThan(30);
        Set<String> queried = new TreeSet<>();
        for (String query : queries) {
            queried.addAll(metricNames(query));
        }
        assertThat(queried)
                .as("the panels the dashboard promises")
                .contains(
                        "proxyfilter_route_responses_total",
                        "proxyfilter_route_request_duration_seconds_bucket",
                        "proxyfilter_backend_healthy",
                        "proxyfilter_backend_in_flight",
                        "proxyfilter_backend_retries_total",
                        "proxyfilter_backend_errors_total",
                        "proxyfilter_cache_hits_total",
                        "proxyfilter_cache_misses_total",
                        "proxyfilter_reload_last_ok",
                        "proxyfilter_reloads_total",
                        "proxyfilter_access_log_dropped_total",
                        "jvm_memory_used_bytes",
                        "jvm_gc_collection_seconds_sum");

        String scrape = scrapeOfARunningProxyWithTheCacheOn();
        Set<String> exported = new HashSet<>();
        for (String line : scrape.split("\n")) {
            if (!line.isEmpty() && !line.startsWith("#")) {
                Matcher name = IDENTIFIER.matcher(line);
                assertThat(name.lookingAt()).as(line).isTrue();
                exported.add(name.group());
            }
        }
        assertThat(queried).as("metrics the dashboard queries").isSubsetOf(exported);
        assertThat(scrape).doesNotContain("no description yet");
    }

    @Test
    void latencyPanelsTakeQuantilesOfBucketsSummedByLe() throws Exception {
        Map<String, Object> dashboard = JSONObjectUtils.parse(Files.readString(DASHBOARD));
        List<String> quantiles = queries(dashboard).stream()
                .filter(q -> q.contains("histogram_quantile"))
                .toList();

        assertThat(quantiles)
                .hasSizeGreaterThanOrEqualTo(4)
                .allSatisfy(q -> assertThat(q)
                        .containsPattern("histogram_quantile\\(0\\.\\d+, sum by \\(le\\b")
                        .contains("_bucket{"));
        assertThat(quantiles).anyMatch(q -> q.startsWith("histogram_quantile(0.5,"));
        assertThat(quantiles).anyMatch(q -> q.startsWith("histogram_quantile(0.99,"));
    }

    @Test
    void panelsHaveUniqueIdsAndUseTheDataSourceVariable() throws Exception {
        Map<String, Object> dashboard = JSONObjectUtils.parse(Files.readString(DASHBOARD));
        List<Object> ids = new ArrayList<>();
        for (Object item : (List<?>) dashboard.get("panels")) {
            Map<?, ?> panel = (Map<?, ?>) item;
            ids.add(panel.get("id"));
            assertThat((String) panel.get("title")).isNotBlank();
            if (!"row".equals(panel.get("type"))) {
                assertThat(panel.get("datasource"))
                        .as(panel.get("title").toString())
                        .isEqualTo(Map.of("type", "prometheus", "uid", "${datasource}"));
                assertThat((String) panel.get("description")).isNotBlank();
            }
        }
        assertThat(ids).doesNotHaveDuplicates().doesNotContainNull();
        assertThat(dashboard).containsEntry("uid", "proxy-filter");
    }

    /** Every PromQL the dashboard runs: panel targets and template-variable queries. */
    private static List<String> queries(Map<String, Object> dashboard) {
        List<String> queries = new ArrayList<>();
        for (Object item : (List<?>) dashboard.get("panels")) {
            Map<?, ?> panel = (Map<?, ?>) item;
            List<?> targets = (List<?>) panel.get("targets");
            if (targets != null) {
                for (Object target : targets) {
                    queries.add((String) ((Map<?, ?>) target).get("expr"));
                }
            }
        }
        Map<?, ?> templating = (Map<?, ?>) dashboard.get("templating");
        for (Object item : (List<?>) templating.get("list")) {
            Map<?, ?> variable = (Map<?, ?>) item;
            if ("query".equals(variable.get("type"))) {
                Object query = variable.get("query");
                queries.add(query instanceof Map<?, ?> q ? (String) q.get("query") : (String) query);
            }
        }
        return queries;
    }

    /**
     * The metric names in one PromQL expression: with strings, label matchers, ranges and grouping clauses
     * taken out, the identifiers that are not functions, aggregations or keywords.
     */
    static Set<String> metricNames(String promql) {
        Set<String> names = new TreeSet<>();
        Matcher labelValues = LABEL_VALUES.matcher(promql);
        if (labelValues.find()) {
            names.add(labelValues.group(1));
            return names;
        }
        String expr = STRING.matcher(promql).replaceAll("");
        expr = MATCHERS.matcher(expr).replaceAll(" ");
        expr = RANGE.matcher(expr).replaceAll(" ");
        expr = GROUPING.matcher(expr).replaceAll(" ");
        Matcher identifier = IDENTIFIER.matcher(expr);
        while (identifier.find()) {
            String word = identifier.group();
            boolean function = expr.substring(identifier.end()).stripLeading().startsWith("(");
            boolean number = identifier.start() > 0 && Character.isDigit(expr.charAt(identifier.start() - 1));
            if (!function && !number && !KEYWORDS.contains(word.toLowerCase(java.util.Locale.ROOT))) {
                names.add(word);
            }
        }
        return names;
    }

    private String scrapeOfARunningProxyWithTheCacheOn() throws Exception {
        a = NamedBackend.start("a");
        b = NamedBackend.start("b");
        Path config = Files.writeString(dir.resolve("proxy.properties"), """
                server.host=127.0.0.1
                server.port=0
                admin.port=0
                pool.web.backend.a.url=%s
                pool.web.backend.b.url=%s
                route.main.path=/
                route.main.pool=web
                cache.enabled=true
                cache.off-heap-mb=4
                """.formatted(a.uri(), b.uri()));
        proxy = ProxyMain.start("--config", config.toString());
        for (int i = 0; i < 6; i++) {
            HttpResponse<String> response = client.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/page/" + (i % 2)))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
        }
        HttpResponse<String> metrics = client.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.adminPort() + "/metrics"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(metrics.statusCode()).isEqualTo(200);
        return metrics.body();
    }
}
