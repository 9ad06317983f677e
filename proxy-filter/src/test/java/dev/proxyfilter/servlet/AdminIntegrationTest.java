package dev.proxyfilter.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.forward.ProxyEngine;
import dev.proxyfilter.metrics.ProxyMetrics;
import dev.proxyfilter.testing.Backends;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.TestBackend;
import dev.proxyfilter.testing.TestConfigs;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Metrics under a scripted workload, their Prometheus form, and what each admin action changes. */
@Timeout(60)
class AdminIntegrationTest {
    private static final String TOKEN = "0123456789abcdef-token";
    private final HttpClient http = HttpClient.newHttpClient();
    private final List<AutoCloseable> resources = new ArrayList<>();
    private Backends.Echo echoA;
    private Backends.Echo echoB;
    private ProxyAdapter.Running proxy;
    private URI admin;

    @BeforeEach
    void start() throws Exception {
        echoA = new Backends.Echo("a");
        echoB = new Backends.Echo("b");
        TestBackend a = track(TestBackend.start("a", echoA));
        TestBackend b = track(TestBackend.start("b", echoB));
        TestBackend failing = track(TestBackend.start("f", new Backends.Status(500)));
        proxy = track(ProxyAdapter.FILTER_IN_JETTY.start(TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "a", a.url(), 1, "b", b.url(), 1)
                .pool("bad", StrategyName.ROUND_ROBIN, "f", failing.url(), 1)
                .route("web", "/web", "web")
                .route("bad", "/bad", "bad")
                .build()));
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server, 1, 1);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/");
        context.addServlet(new ServletHolder(new AdminServlet(proxy.engine(), TOKEN)), "/*");
        server.setHandler(context);
        server.start();
        resources.add(server::stop);
        admin = URI.create("http://127.0.0.1:" + connector.getLocalPort());
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private <T extends AutoCloseable> T track(T resource) {
        resources.add(resource);
        return resource;
    }

    private HttpResponse<String> adminCall(String method, String path, boolean withToken) throws Exception {
        HttpRequest.Builder request =
                HttpRequest.newBuilder(admin.resolve(path)).method(method, HttpRequest.BodyPublishers.noBody());
        if (withToken) {
            request.header("Authorization", "Bearer " + TOKEN);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private String proxied(String path) throws Exception {
        HttpResponse<String> response = http.send(
                HttpRequest.newBuilder(proxy.uri().resolve(path)).build(), HttpResponse.BodyHandlers.ofString());
        return response.statusCode() + " " + response.body();
    }

    @Test
    void metricsCountTheScriptedWorkloadExactly() throws Exception {
        for (int i = 0; i < 10; i++) {
            proxied("/web/x");
        }
        for (int i = 0; i < 3; i++) {
            assertThat(proxied("/bad/y")).startsWith("500");
        }
        ProxyEngine engine = proxy.engine();
        ProxyMetrics metrics = engine.metrics();
        // A backend exchange is recorded when it completes, which may be just after the client has its response.
        org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(5))
                .until(() -> metrics.backend("web", "a").requests().getCount()
                                        + metrics.backend("web", "b").requests().getCount()
                                == 10
                        && metrics.backend("bad", "f").responses("5xx") == 3
                        && metrics.route("bad").responses("5xx") == 3);
        ProxyMetrics.BackendMetrics a = metrics.backend("web", "a");
        ProxyMetrics.BackendMetrics b = metrics.backend("web", "b");
        assertThat(a.requests().getCount()).isEqualTo(5);
        assertThat(b.requests().getCount()).isEqualTo(5);
        assertThat(a.responses("2xx")).isEqualTo(5);
        assertThat(metrics.backend("bad", "f").responses("5xx")).isEqualTo(3);
        assertThat(metrics.route("web").requests().getCount()).isEqualTo(10);
        assertThat(metrics.route("web").responses("2xx")).isEqualTo(10);
        assertThat(metrics.route("bad").responses("5xx")).isEqualTo(3);
        assertThat(metrics.backend("web", "a").errors(ProxyMetrics.ErrorKind.CONNECT))
                .isZero();
    }

    /** One sample line of the Prometheus text format: name{labels} value. */
    private static final Pattern SAMPLE = Pattern.compile(
            "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(?:[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\]|\\\\.)*\",?)*\\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)");

    @Test
    void prometheusOutputParsesAndCarriesPoolAndBackendLabels() throws Exception {
        for (int i = 0; i < 4; i++) {
            proxied("/web/x");
        }
        org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(5))
                .until(() -> proxy.engine().metrics().route("web").requests().getCount() == 4
                        && proxy.engine()
                                        .metrics()
                                        .backend("web", "a")
                                        .requests()
                                        .getCount()
                                == 2
                        && proxy.engine()
                                        .metrics()
                                        .backend("web", "b")
                                        .requests()
                                        .getCount()
                                == 2);
        HttpResponse<String> response = adminCall("GET", "/metrics", true);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type"))
                .hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
        Map<String, Double> samples = new HashMap<>();
        for (String line : response.body().split("\n")) {
            if (line.isEmpty() || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            assertThat(m.matches()).as("a valid sample line: %s", line).isTrue();
            samples.put(
                    m.group(1) + (m.group(2) == null ? "" : m.group(2)),
                    Double.parseDouble(m.group(3).replace("Inf", "Infinity")));
        }
        assertThat(samples)
                .containsEntry("proxyfilter_backend_request_duration_seconds_count{backend=\"a\",pool=\"web\"}", 2.0);
        assertThat(samples)
                .containsEntry(
                        "proxyfilter_backend_request_duration_seconds_bucket{backend=\"a\",pool=\"web\",le=\"+Inf\"}",
                        2.0);
        assertThat(samples)
                .containsEntry("proxyfilter_backend_responses_total{backend=\"b\",class=\"2xx\",pool=\"web\"}", 2.0);
        assertThat(samples).containsEntry("proxyfilter_route_request_duration_seconds_count{route=\"web\"}", 4.0);
        assertThat(samples.keySet())
                .contains("jvm_memory_used_bytes{area=\"heap\"}", "process_cpu_seconds_total")
                .anyMatch(k -> k.startsWith("jvm_gc_collection_seconds_count{"));
        // Every family says what it is, for people; none is a bridge's "Generated from Dropwizard metric import".
        List<String> families = new ArrayList<>();
        Matcher type = Pattern.compile("(?m)^# TYPE (\\S+) ").matcher(response.body());
        while (type.find()) {
            families.add(type.group(1));
        }
        assertThat(families).hasSizeGreaterThan(20);
        for (String family : families) {
            assertThat(response.body()).as(family).containsPattern("(?m)^# HELP " + family + " \\S");
        }
        assertThat(response.body()).doesNotContain("Generated from Dropwizard", "no description yet");

        HttpResponse<String> json = adminCall("GET", "/metrics.json", true);
        assertThat(json.statusCode()).isEqualTo(200);
        assertThat(json.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(json.body())
                .startsWith("{")
                .contains("\"proxy.route.web.requests\":{\"count\":4,")
                .contains("\"proxy.backend.web.a.responses.2xx\":{\"count\":2}");
    }

    @Test
    void adminActionsChangeWhatTheyClaim() throws Exception {
        assertThat(adminCall("GET", "/api/pools", false).statusCode()).isEqualTo(401);
        HttpResponse<String> pools = adminCall("GET", "/api/pools", true);
        assertThat(pools.statusCode()).isEqualTo(200);
        assertThat(pools.body())
                .contains("\"name\":\"web\"")
                .contains("\"name\":\"a\"")
                .contains("\"state\":\"up\"");

        assertThat(adminCall("POST", "/api/pools/web/backends/a/disable", true).statusCode())
                .isEqualTo(200);
        int before = echoA.requests.get();
        for (int i = 0; i < 6; i++) {
            assertThat(proxied("/web/x")).isEqualTo("200 b");
        }
        assertThat(echoA.requests.get()).isEqualTo(before);
        assertThat(adminCall("GET", "/api/pools", true).body()).contains("\"state\":\"disabled\"");

        assertThat(adminCall("POST", "/api/pools/web/backends/a/enable", true).statusCode())
                .isEqualTo(200);
        assertThat(adminCall("POST", "/api/pools/web/backends/b/weight?value=0", true)
                        .statusCode())
                .isEqualTo(200);
        for (int i = 0; i < 4; i++) {
            assertThat(proxied("/web/x")).isEqualTo("200 a");
        }

        HttpResponse<String> bad = adminCall("POST", "/api/pools/web/backends/zz/disable", true);
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("backend: zz (expected: one of [a, b] in pool web)");
        assertThat(adminCall("POST", "/api/pools/web/backends/a/weight?value=-3", true)
                        .body())
                .contains("weight: -3");
        assertThat(adminCall("POST", "/api/pools/web/backends/a/explode", true).statusCode())
                .isEqualTo(400);
        assertThat(adminCall("GET", "/api/config", true).body()).contains("\"sources\":[\"test\"]");
        assertThat(proxy.engine()
                        .metrics()
                        .registry()
                        .counter("proxy.admin.changes")
                        .getCount())
                .isEqualTo(3);
    }

    @Test
    void drainThroughTheApiTakesNoNewRequestAndShowsHealth() throws Exception {
        assertThat(adminCall("POST", "/api/pools/web/backends/a/drain", true).statusCode())
                .isEqualTo(200);
        int before = echoA.requests.get();
        for (int i = 0; i < 4; i++) {
            assertThat(proxied("/web/x")).isEqualTo("200 b");
        }
        assertThat(echoA.requests.get()).isEqualTo(before);
        String pools = adminCall("GET", "/api/pools", true).body();
        assertThat(pools)
                .contains("\"mode\":\"normal\"")
                .contains("\"state\":\"draining\"")
                .contains("\"reason\":\"on operator request\"")
                .contains("\"weight_percent\":100");

        assertThat(adminCall("POST", "/api/pools/web/backends/a/enable", true).statusCode())
                .isEqualTo(200);
        assertThat(adminCall("GET", "/api/pools", true).body()).doesNotContain("\"state\":\"draining\"");
    }

    @Test
    void cachePurgeWithTheCacheOffIsABadRequestAndPoolsHaveNoCacheNumbers() throws Exception {
        HttpResponse<String> purge = adminCall("POST", "/api/cache/purge?url=http%3A%2F%2Fexample.com%2F", true);
        assertThat(purge.statusCode()).isEqualTo(400);
        assertThat(purge.body()).contains("cache: off (expected: cache.enabled=true to purge)");
        assertThat(adminCall("GET", "/api/pools", true).body()).doesNotContain("\"cache\"");
    }

    @Test
    void healthAndReadiness() throws Exception {
        assertThat(adminCall("GET", "/healthz", false).statusCode()).isEqualTo(200);
        assertThat(adminCall("GET", "/readyz", false).statusCode()).isEqualTo(200);
        adminCall("POST", "/api/pools/bad/backends/f/disable", true);
        HttpResponse<String> notReady = adminCall("GET", "/readyz", false);
        assertThat(notReady.statusCode()).isEqualTo(503);
        assertThat(notReady.body()).contains("\"pools_without_backend\":[\"bad\"]");
    }

    /** Issue 7: while a stop drains in-flight exchanges, load balancers in front are told to stop sending. */
    @Test
    void readinessFailsOnceAStopBegins() throws Exception {
        assertThat(adminCall("GET", "/readyz", false).statusCode()).isEqualTo(200);
        proxy.engine().startDraining();
        HttpResponse<String> draining = adminCall("GET", "/readyz", false);
        assertThat(draining.statusCode()).isEqualTo(503);
        assertThat(draining.body()).contains("\"draining\":true").contains("\"ready\":false");
        assertThat(adminCall("GET", "/healthz", false).statusCode())
                .as("alive while draining")
                .isEqualTo(200);
    }

    @Test
    void dashboardIsServedSelfContained() throws Exception {
        HttpResponse<String> page = adminCall("GET", "/?token=" + TOKEN, false);
        assertThat(page.statusCode()).as(page.body()).isEqualTo(200);
        assertThat(page.body())
                .contains("<title>Proxy Filter</title>")
                .doesNotContain("http://")
                .doesNotContain("https://");
    }
}
