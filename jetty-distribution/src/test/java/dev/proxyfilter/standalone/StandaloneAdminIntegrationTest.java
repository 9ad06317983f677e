package dev.proxyfilter.standalone;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.testing.TestBackend;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the README's "Observability and administration" promises of the standalone proxy, in-process with real
 * listeners: a cache purge by URL and by prefix over the admin listener's HTTP API (with its token), and the
 * metrics published as MBeans under the {@code dev.proxyfilter} JMX domain, whose values move with the traffic.
 */
@Timeout(60)
class StandaloneAdminIntegrationTest {
    private static final String TOKEN = "purge-token-0123456789";

    @TempDir
    Path dir;

    private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    private final HttpClient client =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private TestBackend backend;
    private RunningProxy proxy;

    /** Answers {@code PATH N} (N counts the requests for the path), fresh for a minute. */
    private final class Cacheable extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            int n = counts.computeIfAbsent(req.getRequestURI(), k -> new AtomicInteger())
                    .incrementAndGet();
            resp.setContentType("text/plain");
            resp.setHeader("Cache-Control", "max-age=60");
            resp.getWriter().print(req.getRequestURI() + " " + n);
        }
    }

    @BeforeEach
    void start() throws Exception {
        backend = TestBackend.start("origin", new Cacheable());
        Path config = Files.writeString(
                dir.resolve("proxy.properties"), """
                server.host=127.0.0.1
                server.port=0
                admin.host=127.0.0.1
                admin.port=0
                admin.token=%s
                reload.watch=false
                cache.enabled=true
                pool.jmxweb.backend.origin.url=%s
                route.jmxmain.path=/
                route.jmxmain.pool=jmxweb
                """.formatted(TOKEN, backend.url()), StandardCharsets.UTF_8);
        proxy = ProxyMain.start("--config", config.toString());
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.stop();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @Test
    void purgeByUrlAndByPrefixOverTheAdminApi() throws Exception {
        String origin = "http://127.0.0.1:" + proxy.port();
        for (String path : new String[] {"/p/1", "/p/2", "/q", "/keep"}) {
            assertThat(cacheStatus(get(path))).as(path).contains("fwd=uri-miss");
            HttpResponse<String> again = get(path);
            assertThat(cacheStatus(again)).as(path).contains("hit");
            assertThat(again.body()).isEqualTo(path + " 1");
        }

        assertThat(purge("url", origin + "/q", null).statusCode())
                .as("no token")
                .isEqualTo(401);
        assertThat(get("/q").body()).as("a refused purge removed nothing").isEqualTo("/q 1");

        HttpResponse<String> byUrl = purge("url", origin + "/q", TOKEN);
        assertThat(byUrl.statusCode()).isEqualTo(200);
        assertThat(byUrl.body()).isEqualTo("{\"removed\":1}\n");
        HttpResponse<String> byPrefix = purge("prefix", origin + "/p/", TOKEN);
        assertThat(byPrefix.statusCode()).isEqualTo(200);
        assertThat(byPrefix.body()).isEqualTo("{\"removed\":2}\n");
        assertThat(purge("url", origin + "/q", TOKEN).body())
                .as("nothing left to purge")
                .isEqualTo("{\"removed\":0}\n");

        for (String path : new String[] {"/p/1", "/p/2", "/q"}) {
            HttpResponse<String> after = get(path);
            assertThat(cacheStatus(after)).as(path).contains("fwd=uri-miss");
            assertThat(after.body()).isEqualTo(path + " 2");
        }
        HttpResponse<String> kept = get("/keep");
        assertThat(cacheStatus(kept)).as("another entry stays").contains("hit");
        assertThat(kept.body()).isEqualTo("/keep 1");
        assertThat(counts.get("/keep").get()).isEqualTo(1);
    }

    @Test
    void metricsArePublishedOverJmxAndMoveWithTraffic() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        Set<ObjectName> names = server.queryNames(new ObjectName("dev.proxyfilter:*"), null);
        assertThat(names).as("MBeans in the dev.proxyfilter domain").isNotEmpty();
        assertThat(names.stream().map(n -> n.getKeyProperty("name")))
                .contains("proxy.backend.jmxweb.origin.weight", "proxy.server.threads.busy")
                // The JVM's own numbers are the JVM's platform MBeans, not copies in our domain.
                .noneMatch(name -> name.startsWith("jvm."));

        get("/jmx/1");
        ObjectName requests = single(server, "proxy.backend.jmxweb.origin.requests");
        ObjectName route2xx = single(server, "proxy.route.jmxmain.responses.2xx");
        // A backend exchange is recorded when it completes, which may be just after the client has its response.
        Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .until(() -> count(server, requests) == 1 && count(server, route2xx) == 1);

        for (int i = 0; i < 4; i++) {
            get("/jmx/more/" + i);
        }
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> count(server, requests) == 5);
        assertThat(count(server, route2xx)).isEqualTo(5);
        assertThat(((Number) server.getAttribute(requests, "Mean")).doubleValue())
                .as("the request timer's mean")
                .isPositive();

        proxy.stop();
        assertThat(server.queryNames(new ObjectName("dev.proxyfilter:*"), null))
                .as("a stopped proxy leaves no MBean behind")
                .isEmpty();
    }

    private static ObjectName single(MBeanServer server, String metric) throws Exception {
        Set<ObjectName> found = server.queryNames(new ObjectName("dev.proxyfilter:name=" + metric + ",*"), null);
        assertThat(found).as("the MBean of " + metric).hasSize(1);
        return found.iterator().next();
    }

    private static long count(MBeanServer server, ObjectName name) throws Exception {
        return ((Number) server.getAttribute(name, "Count")).longValue();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + path))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> purge(String parameter, String value, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.adminPort()
                        + "/api/cache/purge?" + parameter + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8)))
                .timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String cacheStatus(HttpResponse<?> response) {
        return response.headers().firstValue("Cache-Status").orElse("");
    }
}
