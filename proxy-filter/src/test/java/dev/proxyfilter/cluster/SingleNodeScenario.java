package dev.proxyfilter.cluster;

import dev.proxyfilter.config.ConfigLoader;
import dev.proxyfilter.config.ConfigSource;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.forward.ProxyEngine;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.TestBackend;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

/**
 * What {@link NoHazelcastWithoutClusterTest} runs in a class loader of its own: a single proxy with the
 * response cache on and no {@code cluster.*} key, serving a miss and a hit; and an engine asked for a cluster
 * where Hazelcast cannot be loaded. Only JDK types cross the loader boundary.
 */
public final class SingleNodeScenario {
    private SingleNodeScenario() {}

    /** Starts an origin and the proxy in front of it, sends two requests, stops; returns their Cache-Status. */
    public static String missThenHit() throws Exception {
        try (TestBackend origin = TestBackend.start("origin", new Origin())) {
            ProxyConfig config = ConfigLoader.load(List.of(new ConfigSource(
                    "scenario",
                    Map.of(
                            "pool.web.backend.a.url", origin.url().toString(),
                            "route.main.path", "/",
                            "route.main.pool", "web",
                            "cache.enabled", "true"))));
            try (ProxyAdapter.Running proxy = ProxyAdapter.HANDLER_IN_JETTY.start(config)) {
                HttpClient http = HttpClient.newHttpClient();
                HttpRequest request =
                        HttpRequest.newBuilder(proxy.uri().resolve("/single")).build();
                String first = http.send(request, HttpResponse.BodyHandlers.ofString())
                        .headers()
                        .firstValue("Cache-Status")
                        .orElse("");
                String second = http.send(request, HttpResponse.BodyHandlers.ofString())
                        .headers()
                        .firstValue("Cache-Status")
                        .orElse("");
                return first + " | " + second;
            }
        }
    }

    /** Starts an engine with a cluster and a shared cache; returns the message it fails with. */
    public static String clusterWithoutHazelcast() {
        ProxyConfig config = ConfigLoader.load(List.of(new ConfigSource(
                "scenario",
                Map.of(
                        "cluster.enabled", "true",
                        "cache.enabled", "true",
                        "cache.store", "shared"))));
        try (ProxyEngine engine = ProxyEngine.start(config)) {
            return "started: " + engine;
        } catch (RuntimeException e) {
            return e.getMessage();
        }
    }

    private static final class Origin extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            resp.setHeader("Cache-Control", "max-age=60");
            resp.getWriter().print("single");
        }
    }
}
