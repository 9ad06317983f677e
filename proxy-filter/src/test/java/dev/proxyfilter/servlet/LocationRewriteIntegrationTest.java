package dev.proxyfilter.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.config.RouteConfig;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.forward.ProxyEngine;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.RawHttp;
import dev.proxyfilter.testing.TestBackend;
import dev.proxyfilter.testing.TestConfigs;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A backend's {@code Location} mapped back to what the client asked for (README: "a {@code Location} pointing
 * at a backend is mapped back under the context path"): with a stripped route prefix through every adapter,
 * and with the filter in a webapp mounted at {@code /app} in Jetty and in Tomcat. Both a path-only
 * {@code Location} and an absolute one naming the backend are rewritten.
 */
@Timeout(60)
class LocationRewriteIntegrationTest {
    private final List<AutoCloseable> resources = new ArrayList<>();

    /** Answers 302 to {@code ?to=PATH}, absolute (its own address) with {@code &abs}, and says what it received. */
    static final class Redirect extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) {
            String to = req.getParameter("to");
            String location = req.getParameter("abs") != null ? "http://127.0.0.1:" + req.getLocalPort() + to : to;
            resp.setStatus(302);
            resp.setHeader("Location", location);
            resp.setHeader("X-Received-Path", req.getRequestURI());
            resp.setContentLength(0);
        }
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

    private static RouteConfig route(String name, String path, boolean strip) {
        return new RouteConfig(
                name, null, path, "web", strip, true, Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ZERO);
    }

    private ProxyConfig config() {
        TestBackend backend = track(TestBackend.start("redirect", new Redirect()));
        return TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "a", backend.url(), 1)
                .route(route("prefixed", "/prefix", true))
                .route(route("api", "/api", false))
                .build();
    }

    private static RawHttp.Response get(URI proxy, String pathAndQuery) throws Exception {
        return RawHttp.exchange(
                proxy, "GET " + pathAndQuery + " HTTP/1.1\r\nHost: www.example\r\nConnection: close\r\n\r\n");
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void aStrippedPrefixIsPutBackInFrontOfTheLocation(ProxyAdapter adapter) throws Exception {
        ProxyAdapter.Running proxy = track(adapter.start(config()));

        RawHttp.Response relative = get(proxy.uri(), "/prefix/go?to=/x");
        assertThat(relative.status()).isEqualTo(302);
        assertThat(relative.header("X-Received-Path")).isEqualTo("/go");
        assertThat(relative.header("Location")).isEqualTo("/prefix/x");

        RawHttp.Response absolute = get(proxy.uri(), "/prefix/go?to=/x%3Fy%3D1&abs");
        assertThat(absolute.header("Location")).isEqualTo("http://www.example/prefix/x?y=1");

        RawHttp.Response unstripped = get(proxy.uri(), "/api/go?to=/api/done");
        assertThat(unstripped.header("X-Received-Path")).isEqualTo("/api/go");
        assertThat(unstripped.header("Location")).isEqualTo("/api/done");
    }

    @Test
    void theFilterInAJettyWebappPutsTheContextPathBack() throws Exception {
        assertTheContextPathIsPutBack(jettyWebapp(config()));
    }

    @Test
    void theFilterInATomcatWebappPutsTheContextPathBack() throws Exception {
        assertTheContextPathIsPutBack(tomcatWebapp(config()));
    }

    private static void assertTheContextPathIsPutBack(URI proxy) throws Exception {
        RawHttp.Response relative = get(proxy, "/app/api/go?to=/api/done");
        assertThat(relative.status()).isEqualTo(302);
        assertThat(relative.header("X-Received-Path"))
                .as("the path within the webapp")
                .isEqualTo("/api/go");
        assertThat(relative.header("Location")).isEqualTo("/app/api/done");

        RawHttp.Response absolute = get(proxy, "/app/api/go?to=/api/done&abs");
        assertThat(absolute.header("Location")).isEqualTo("http://www.example/app/api/done");

        RawHttp.Response stripped = get(proxy, "/app/prefix/go?to=/x");
        assertThat(stripped.header("X-Received-Path")).isEqualTo("/go");
        assertThat(stripped.header("Location"))
                .as("context path, then the stripped prefix")
                .isEqualTo("/app/prefix/x");

        RawHttp.Response local = get(proxy, "/app/other");
        assertThat(local.bodyText()).as("unrouted: the webapp's own servlet").isEqualTo("local /app/other");
    }

    private URI jettyWebapp(ProxyConfig config) throws Exception {
        ProxyEngine engine = track(ProxyEngine.start(config));
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server, 1, 1);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/app");
        FilterHolder filter = new FilterHolder(new ProxyFilter(engine));
        filter.setAsyncSupported(true);
        context.addFilter(filter, "/*", EnumSet.of(DispatcherType.REQUEST));
        context.addServlet(new ServletHolder(new ProxyAdapter.Local()), "/*");
        server.setHandler(context);
        server.start();
        track(server::stop);
        return URI.create("http://127.0.0.1:" + connector.getLocalPort());
    }

    private URI tomcatWebapp(ProxyConfig config) throws Exception {
        ProxyEngine engine = track(ProxyEngine.start(config));
        Path base = Files.createTempDirectory("tomcat-app");
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(base.toString());
        Connector connector = new Connector();
        connector.setPort(0);
        connector.setProperty("address", "127.0.0.1");
        tomcat.setConnector(connector);
        Context context = tomcat.addContext("/app", base.toString());
        Tomcat.addServlet(context, "local", new ProxyAdapter.Local()).setAsyncSupported(true);
        context.addServletMappingDecoded("/", "local");
        FilterDef def = new FilterDef();
        def.setFilterName("proxy");
        def.setFilter(new ProxyFilter(engine));
        def.setAsyncSupported("true");
        context.addFilterDef(def);
        FilterMap map = new FilterMap();
        map.setFilterName("proxy");
        map.addURLPattern("/*");
        context.addFilterMap(map);
        tomcat.start();
        track(() -> {
            tomcat.stop();
            tomcat.destroy();
        });
        return URI.create("http://127.0.0.1:" + connector.getLocalPort());
    }
}
