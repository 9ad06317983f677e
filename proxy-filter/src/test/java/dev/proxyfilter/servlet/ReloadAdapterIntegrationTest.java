package dev.proxyfilter.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.forward.ProxyEngine;
import dev.proxyfilter.reload.ReloadResult;
import dev.proxyfilter.testing.Backends;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.TestBackend;
import jakarta.servlet.DispatcherType;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import org.awaitility.Awaitility;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reloading as a webapp sees it: a {@link ProxyFilter} configured by a {@code config} init-param watches
 * that file, and the webapp's {@link AdminServlet} reloads it on {@code POST /api/reload}, reports the
 * outcome and the metrics, and undeploying the webapp stops the watcher thread.
 */
@Timeout(60)
class ReloadAdapterIntegrationTest {
    private final HttpClient http = HttpClient.newHttpClient();
    private TestBackend a;
    private TestBackend b;
    private Server jetty;
    private URI base;
    private ProxyEngine engine;

    @TempDir
    Path temp;

    private Path file;

    @BeforeEach
    void start() throws Exception {
        a = TestBackend.start("a", new Backends.Echo("a"));
        b = TestBackend.start("b", new Backends.Echo("b"));
        file = temp.resolve("proxy.properties");
        Files.writeString(file, config(a));
    }

    /** Deploys the webapp: the filter reading {@link #file}, watching it or not, and the admin servlet. */
    private void deploy(boolean watch) throws Exception {
        jetty = new Server();
        ServerConnector connector = new ServerConnector(jetty, 1, 1);
        connector.setHost("127.0.0.1");
        jetty.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/app");
        FilterHolder filter = new FilterHolder(ProxyFilter.class);
        filter.setInitParameter("config", file.toString());
        filter.setInitParameter("reload.watch", Boolean.toString(watch));
        filter.setAsyncSupported(true);
        context.addFilter(filter, "/*", EnumSet.of(DispatcherType.REQUEST));
        context.addServlet(new ServletHolder("admin", new AdminServlet()), "/admin/*");
        context.addServlet(new ServletHolder("local", new ProxyAdapter.Local()), "/*");
        jetty.setHandler(context);
        jetty.start();
        base = URI.create("http://127.0.0.1:" + connector.getLocalPort());
        engine = ((ProxyFilter) filter.getFilter()).engine();
    }

    @AfterEach
    void stop() throws Exception {
        if (jetty != null) {
            jetty.stop();
        }
        a.close();
        b.close();
    }

    private static String config(TestBackend backend) {
        return "pool.web.backend." + backend.name() + ".url=" + backend.url()
                + "\nroute.web.path=/web\nroute.web.pool=web\n" + "reload.debounce=50ms\n";
    }

    private HttpResponse<String> call(String method, String path) throws Exception {
        return http.send(
                HttpRequest.newBuilder(base.resolve(path))
                        .method(method, HttpRequest.BodyPublishers.noBody())
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theFilterWatchesItsFileAndUndeployStopsTheWatcher() throws Exception {
        deploy(true);
        assertThat(call("GET", "/app/web/x").body()).isEqualTo("a");

        Files.writeString(file, config(b));

        Awaitility.await()
                .atMost(Duration.ofSeconds(10))
                .until(() -> call("GET", "/app/web/x").body().equals("b"));
        assertThat(engine.lastReload().trigger()).isEqualTo("file");
        assertThat(engine.generation()).isEqualTo(2);
        assertThat(Thread.getAllStackTraces().keySet())
                .anyMatch(t -> t.getName().equals("proxy-config-watcher"));

        jetty.stop();
        assertThat(Thread.getAllStackTraces().keySet())
                .noneMatch(t -> t.getName().equals("proxy-config-watcher") && t.isAlive());
    }

    @Test
    void postReloadAppliesOrRejectsAndGetShowsTheLastOutcome() throws Exception {
        deploy(false);
        assertThat(Thread.getAllStackTraces().keySet())
                .noneMatch(t -> t.getName().equals("proxy-config-watcher") && t.isAlive());

        assertThat(call("GET", "/app/admin/api/reload").body())
                .contains("\"generation\":1")
                .contains("\"last\":null")
                .contains("\"reloadable\":true");

        Files.writeString(file, config(b));
        HttpResponse<String> applied = call("POST", "/app/admin/api/reload");
        assertThat(applied.statusCode()).isEqualTo(200);
        assertThat(applied.body())
                .contains("\"outcome\":\"applied\"")
                .contains("\"generation\":2")
                .contains("\"trigger\":\"admin\"");
        assertThat(call("GET", "/app/web/x").body()).isEqualTo("b");

        Files.writeString(file, config(a) + "pool.web.strategy=fastest\n");
        HttpResponse<String> rejected = call("POST", "/app/admin/api/reload");
        assertThat(rejected.statusCode()).isEqualTo(422);
        assertThat(rejected.body())
                .contains("\"outcome\":\"rejected\"")
                .contains("\"generation\":2")
                .contains("pool.web.strategy: fastest (expected: ");
        assertThat(call("GET", "/app/web/x").body()).isEqualTo("b");
        assertThat(call("GET", "/app/admin/api/reload").body()).contains("\"outcome\":\"rejected\"");
        assertThat(call("GET", "/app/admin/api/config").body()).contains("\"reload\":{\"generation\":2");
        assertThat(engine.lastReload().outcome()).isEqualTo(ReloadResult.Outcome.REJECTED);

        String metrics = call("GET", "/app/admin/metrics").body();
        assertThat(metrics)
                .contains("proxyfilter_reloads_total{result=\"success\"} 1.0")
                .contains("proxyfilter_reloads_total{result=\"failure\"} 1.0")
                .contains("proxyfilter_reload_last_ok 0.0")
                .contains("proxyfilter_reload_generation 2.0");
        assertThat(call("PUT", "/app/admin/api/reload").statusCode()).isEqualTo(400);
    }
}
