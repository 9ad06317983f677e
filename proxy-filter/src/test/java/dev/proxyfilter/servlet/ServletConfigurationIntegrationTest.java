package dev.proxyfilter.servlet;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.EnumSet;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The filter configured the ways a webapp configures it: inline init-params, a {@code config}
 * init-param naming a file, and the drop-in initializer that needs no {@code web.xml} at all.
 */
@Timeout(60)
class ServletConfigurationIntegrationTest {
    private final HttpClient http = HttpClient.newHttpClient();
    private TestBackend backend;
    private Server jetty;
    private Tomcat tomcat;

    @TempDir
    Path temp;

    @AfterEach
    void stop() throws Exception {
        if (jetty != null) {
            jetty.stop();
        }
        if (tomcat != null) {
            tomcat.stop();
            tomcat.destroy();
        }
        if (backend != null) {
            backend.close();
        }
    }

    private URI startJetty(FilterHolder filter) throws Exception {
        jetty = new Server();
        ServerConnector connector = new ServerConnector(jetty, 1, 1);
        connector.setHost("127.0.0.1");
        jetty.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/app");
        filter.setAsyncSupported(true);
        context.addFilter(filter, "/*", EnumSet.of(DispatcherType.REQUEST));
        context.addServlet(new ServletHolder(new ProxyAdapter.Local()), "/*");
        jetty.setHandler(context);
        jetty.start();
        return URI.create("http://127.0.0.1:" + connector.getLocalPort());
    }

    private String get(URI uri) throws Exception {
        HttpResponse<String> response =
                http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
        return response.statusCode() + " " + response.body();
    }

    @Test
    void inlineInitParamsConfigureTheFilterInsideAContextPath() throws Exception {
        backend = TestBackend.start("a", new Backends.Echo("a"));
        FilterHolder filter = new FilterHolder(ProxyFilter.class);
        filter.setInitParameter("pool.api.backend.a.url", backend.url().toString());
        filter.setInitParameter("route.api.path", "/api");
        filter.setInitParameter("route.api.pool", "api");
        URI base = startJetty(filter);

        HttpResponse<String> proxied = http.send(
                HttpRequest.newBuilder(base.resolve("/app/api/x")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(proxied.body()).isEqualTo("a");
        assertThat(proxied.headers().firstValue("X-Received-Path")).hasValue("/api/x");
        assertThat(get(base.resolve("/app/other"))).isEqualTo("200 local /app/other");
    }

    @Test
    void aConfigFileNamedByInitParamAndOverriddenBySystemProperty() throws Exception {
        backend = TestBackend.start("a", new Backends.Echo("a"));
        Path file = temp.resolve("proxy.properties");
        Files.writeString(file, "pool.api.backend.a.url=http://127.0.0.1:1\nroute.api.path=/api\nroute.api.pool=api\n");
        System.setProperty("proxyfilter.pool.api.backend.a.url", backend.url().toString());
        try {
            FilterHolder filter = new FilterHolder(ProxyFilter.class);
            filter.setInitParameter("config", file.toString());
            URI base = startJetty(filter);
            assertThat(get(base.resolve("/app/api/y"))).isEqualTo("200 a");
        } finally {
            System.clearProperty("proxyfilter.pool.api.backend.a.url");
        }
    }

    @Test
    void aBadInitParamStopsTheWebappWithKeyValueExpectationAndSource() throws Exception {
        FilterHolder filter = new FilterHolder(ProxyFilter.class);
        filter.setInitParameter("pool.api.backend.a.url", "http://127.0.0.1:9");
        filter.setInitParameter("pool.api.backend.a.weight", "-1");
        filter.setInitParameter("route.api.path", "/api");
        filter.setInitParameter("route.api.pool", "api");
        jetty = new Server();
        ServerConnector connector = new ServerConnector(jetty, 1, 1);
        connector.setHost("127.0.0.1");
        jetty.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/app");
        filter.setAsyncSupported(true);
        context.addFilter(filter, "/*", EnumSet.of(DispatcherType.REQUEST));
        jetty.setHandler(context);
        Throwable failure = null;
        try {
            jetty.start();
        } catch (Exception e) {
            failure = e;
        }
        assertThat(failure).isNotNull();
        assertThat(failure)
                .hasMessageContaining(
                        "pool.api.backend.a.weight: -1 (expected: integer >= 0) [WEB-INF/web.xml init-param]");
    }

    @Test
    void dropInInitializerInstallsTheFilterWithoutWebXml() throws Exception {
        backend = TestBackend.start("a", new Backends.Echo("a"));
        Path webapp = temp.resolve("dropin");
        Files.createDirectories(webapp.resolve("WEB-INF"));
        Files.writeString(
                webapp.resolve("WEB-INF/proxy-filter.properties"),
                "pool.api.backend.a.url=" + backend.url() + "\nroute.api.path=/api\nroute.api.pool=api\n");
        Files.writeString(webapp.resolve("index.html"), "static index");

        tomcat = new Tomcat();
        tomcat.setBaseDir(temp.resolve("tomcat").toString());
        Connector connector = new Connector();
        connector.setPort(0);
        connector.setProperty("address", "127.0.0.1");
        tomcat.setConnector(connector);
        Context context = tomcat.addWebapp("/drop", webapp.toString());
        tomcat.start();
        assertThat(context.getState()).isEqualTo(LifecycleState.STARTED);
        URI base = URI.create("http://127.0.0.1:" + connector.getLocalPort());

        HttpResponse<String> proxied = http.send(
                HttpRequest.newBuilder(base.resolve("/drop/api/z")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(proxied.body()).isEqualTo("a");
        assertThat(proxied.headers().firstValue("X-Received-Path")).hasValue("/api/z");
        assertThat(get(base.resolve("/drop/index.html"))).isEqualTo("200 static index");
        assertThat(context.findFilterDefs())
                .extracting(d -> d.getFilterClass())
                .containsExactly(ProxyFilter.class.getName());
    }

    @Test
    void aFilterDeclaredInWebXmlWinsOverTheDropIn() throws Exception {
        backend = TestBackend.start("a", new Backends.Echo("a"));
        Path webapp = temp.resolve("declared");
        Files.createDirectories(webapp.resolve("WEB-INF"));
        Files.writeString(
                webapp.resolve("WEB-INF/proxy-filter.properties"),
                "pool.api.backend.a.url=http://127.0.0.1:1\nroute.api.path=/\nroute.api.pool=api\n");
        Files.writeString(
                webapp.resolve("WEB-INF/proxy.properties"),
                "pool.api.backend.a.url=" + backend.url() + "\nroute.api.path=/api\nroute.api.pool=api\n");
        Files.writeString(webapp.resolve("WEB-INF/web.xml"), """
                <web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0">
                  <filter>
                    <filter-name>mine</filter-name>
                    <filter-class>dev.proxyfilter.servlet.ProxyFilter</filter-class>
                    <async-supported>true</async-supported>
                    <init-param><param-name>config</param-name><param-value>/WEB-INF/proxy.properties</param-value></init-param>
                  </filter>
                  <filter-mapping><filter-name>mine</filter-name><url-pattern>/api/*</url-pattern></filter-mapping>
                </web-app>
                """);
        Files.writeString(webapp.resolve("index.html"), "static index");
        tomcat = new Tomcat();
        tomcat.setBaseDir(temp.resolve("tomcat2").toString());
        Connector connector = new Connector();
        connector.setPort(0);
        connector.setProperty("address", "127.0.0.1");
        tomcat.setConnector(connector);
        Context context = tomcat.addWebapp("/decl", webapp.toString());
        tomcat.start();
        URI base = URI.create("http://127.0.0.1:" + connector.getLocalPort());

        assertThat(context.findFilterDefs()).extracting(d -> d.getFilterName()).containsExactly("mine");
        assertThat(get(base.resolve("/decl/api/q"))).isEqualTo("200 a");
        assertThat(get(base.resolve("/decl/index.html"))).isEqualTo("200 static index");
    }
}
