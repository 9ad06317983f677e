package dev.proxyfilter.testing;

import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.config.ServerConfig;
import dev.proxyfilter.forward.ProxyEngine;
import dev.proxyfilter.jetty.JettyConnectors;
import dev.proxyfilter.jetty.ProxyHandler;
import dev.proxyfilter.servlet.JettyProxyServlet;
import dev.proxyfilter.servlet.ProxyFilter;
import dev.proxyfilter.servlet.ProxyValve;
import dev.proxyfilter.time.ProxyClock;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
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
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The ways the engine runs inside a container. The behaviour suite runs over each, as Jetty's proxy
 * tests run over each servlet variant. Where a route does not match, the filter and the valve pass the
 * request on to the webapp's own servlet (which answers "local"), and the proxy servlet answers 404.
 */
public enum ProxyAdapter {
    FILTER_IN_JETTY(true),
    FILTER_IN_TOMCAT(true),
    PROXY_SERVLET_IN_JETTY(false),
    VALVE_IN_TOMCAT(true),
    /** The core handler, as the standalone distribution runs it: no servlet layer. */
    HANDLER_IN_JETTY(false),
    /**
     * The core handler behind the HTTP/1.1 fast path ({@code server.fast-path}): plain requests never meet
     * Jetty's request objects, the others fall back to the core handler's connection.
     */
    FAST_PATH(false);

    private final boolean passesOn;

    ProxyAdapter(boolean passesOn) {
        this.passesOn = passesOn;
    }

    /** Whether an unmatched request reaches the webapp (else it gets 404). */
    public boolean passesOn() {
        return passesOn;
    }

    /** A running proxy. */
    public interface Running extends AutoCloseable {
        URI uri();

        ProxyEngine engine();

        @Override
        void close();
    }

    /** The webapp's own servlet, reached by requests no route takes. */
    public static final class Local extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            resp.setContentType("text/plain");
            resp.getWriter().print("local " + req.getRequestURI());
        }
    }

    public Running start(ProxyConfig config) {
        return start(config, null);
    }

    /**
     * Starts {@link #FILTER_IN_TOMCAT} or {@link #VALVE_IN_TOMCAT} with attributes on Tomcat's connector, such as
     * {@code continueResponseTiming}.
     */
    public Running startInTomcat(ProxyConfig config, Map<String, String> connectorAttributes) {
        if (this != FILTER_IN_TOMCAT && this != VALVE_IN_TOMCAT) {
            throw new UnsupportedOperationException(this + " does not run in Tomcat");
        }
        try {
            return tomcat(config, this == VALVE_IN_TOMCAT, null, connectorAttributes, false);
        } catch (Exception e) {
            throw new IllegalStateException("cannot start " + this, e);
        }
    }

    /**
     * Starts the proxy with its engine on {@code clock} (the system clock when null), so that a test moves the
     * engine's time instead of sleeping. The servlet and the valve start their own engine: only with the system clock.
     */
    public Running start(ProxyConfig config, ProxyClock clock) {
        return start(config, clock, false);
    }

    /**
     * Starts the proxy with h2c (prior knowledge and Upgrade) next to HTTP/1.1 on the servlet containers'
     * connectors too, as a user sets up a container for HTTP/2; the core handler always has it, as the
     * standalone proxy does. Not the default: java.net.http clients would upgrade, and Tomcat reads a whole
     * request body before it upgrades.
     */
    public Running startWithH2c(ProxyConfig config) {
        return start(config, null, true);
    }

    private Running start(ProxyConfig config, ProxyClock clock, boolean h2c) {
        if (clock != null && (this == PROXY_SERVLET_IN_JETTY || this == VALVE_IN_TOMCAT)) {
            throw new UnsupportedOperationException(this + " starts its own engine on the system clock");
        }
        try {
            return switch (this) {
                case FILTER_IN_JETTY -> jetty(config, false, clock, h2c);
                case PROXY_SERVLET_IN_JETTY -> jetty(config, true, clock, h2c);
                case FILTER_IN_TOMCAT -> tomcat(config, false, clock, Map.of(), h2c);
                case VALVE_IN_TOMCAT -> tomcat(config, true, clock, Map.of(), h2c);
                case HANDLER_IN_JETTY -> jettyHandler(config, clock, false);
                case FAST_PATH -> jettyHandler(config, clock, true);
            };
        } catch (Exception e) {
            throw new IllegalStateException("cannot start " + this, e);
        }
    }

    private static Running jetty(ProxyConfig config, boolean servlet, ProxyClock clock, boolean h2c) throws Exception {
        QueuedThreadPool threads = new QueuedThreadPool(64, 4);
        threads.setName(servlet ? "proxy-servlet" : "proxy-filter-jetty");
        Server server = new Server(threads);
        // Strict as the standalone proxy is: compliance modes, limits, header deadline; h2c if asked.
        ServerConnector connector = new ServerConnector(
                server,
                1,
                1,
                JettyConnectors.plainFactories(
                        config.server().withH2c(h2c),
                        JettyConnectors.httpConfiguration(config.server()),
                        false)); // the servlet adapters cannot tunnel an HTTP/2 stream (RFC 8441)
        JettyConnectors.limit(connector, config.server());
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/");
        ProxyEngine[] engine = new ProxyEngine[1];
        if (servlet) {
            JettyProxyServlet proxy = new JettyProxyServlet(config);
            ServletHolder holder = new ServletHolder(proxy);
            holder.setAsyncSupported(true);
            holder.setInitOrder(0);
            context.addServlet(holder, "/*");
            server.setHandler(JettyConnectors.handler(context, config.server()));
            server.start();
            engine[0] = proxy.engine();
        } else {
            ProxyEngine running = engine(config, clock);
            FilterHolder filter = new FilterHolder(new ProxyFilter(running));
            filter.setAsyncSupported(true);
            context.addFilter(filter, "/*", EnumSet.of(DispatcherType.REQUEST));
            context.addServlet(new ServletHolder(new Local()), "/*");
            server.setHandler(JettyConnectors.handler(context, config.server()));
            server.start();
            engine[0] = running;
        }
        return new Started(URI.create("http://127.0.0.1:" + connector.getLocalPort()), engine[0], server::stop, true);
    }

    private static ProxyEngine engine(ProxyConfig config, ProxyClock clock) {
        return clock == null ? ProxyEngine.start(config) : ProxyEngine.start(config, clock);
    }

    private static Running jettyHandler(ProxyConfig config, ProxyClock clock, boolean fastPath) throws Exception {
        QueuedThreadPool threads = new dev.proxyfilter.jetty.ProxyThreadPool(64, 4); // as the standalone proxy
        threads.setName("proxy-handler");
        Server server = new Server(threads);
        ServerConfig listener =
                config.server().withFastPath(fastPath || config.server().fastPath());
        ProxyHandler handler = clock == null ? new ProxyHandler(config) : new ProxyHandler(engine(config, clock));
        ServerConnector connector = new ServerConnector(
                server,
                1,
                1,
                JettyConnectors.plainFactories(listener, JettyConnectors.httpConfiguration(listener), handler::engine));
        JettyConnectors.limit(connector, listener);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(JettyConnectors.handler(handler, listener));
        server.start();
        // A handler closes the engine it started when the server stops it; one it was given is ours to close.
        return new Started(
                URI.create("http://127.0.0.1:" + connector.getLocalPort()),
                handler.engine(),
                server::stop,
                clock != null);
    }

    private static Running tomcat(
            ProxyConfig config, boolean valve, ProxyClock clock, Map<String, String> connectorAttributes, boolean h2c)
            throws Exception {
        Path base = Files.createTempDirectory("tomcat-proxy");
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(base.toString());
        Connector connector = new Connector();
        connector.setPort(0);
        connector.setProperty("address", "127.0.0.1");
        connectorAttributes.forEach((name, value) -> {
            if (!connector.setProperty(name, value)) {
                throw new IllegalArgumentException("Tomcat's connector has no attribute " + name);
            }
        });
        if (h2c) { // HTTP/2 in clear text next to HTTP/1.1 (prior knowledge and Upgrade)
            connector.addUpgradeProtocol(new org.apache.coyote.http2.Http2Protocol());
        }
        tomcat.setConnector(connector);
        Context context = tomcat.addContext("", base.toString());
        Tomcat.addServlet(context, "local", new Local()).setAsyncSupported(true);
        context.addServletMappingDecoded("/", "local");
        ProxyEngine[] engine = new ProxyEngine[1];
        if (valve) {
            ProxyValve proxyValve = new ProxyValve(config);
            tomcat.getHost().getPipeline().addValve(proxyValve);
            tomcat.start();
            engine[0] = proxyValve.engine();
        } else {
            ProxyEngine running = engine(config, clock);
            FilterDef def = new FilterDef();
            def.setFilterName("proxy");
            def.setFilter(new ProxyFilter(running));
            def.setAsyncSupported("true");
            context.addFilterDef(def);
            FilterMap map = new FilterMap();
            map.setFilterName("proxy");
            map.addURLPattern("/*");
            context.addFilterMap(map);
            tomcat.start();
            engine[0] = running;
        }
        return new Started(
                URI.create("http://127.0.0.1:" + connector.getLocalPort()),
                engine[0],
                () -> {
                    tomcat.stop();
                    tomcat.destroy();
                },
                !valve); // the valve closes its own engine when Tomcat stops it
    }

    /** What stops a container. */
    private interface Stopper {
        void stop() throws Exception;
    }

    /** A started container; {@code closeEngine} when the engine was started for it rather than by it. */
    private record Started(URI uri, ProxyEngine engine, Stopper stopper, boolean closeEngine) implements Running {
        Started {
            LeakCheck.opened(engine);
        }

        @Override
        public void close() {
            LeakCheck.closed(engine);
            try {
                stopper.stop();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            } finally {
                if (closeEngine) {
                    engine.close();
                }
            }
        }
    }
}
