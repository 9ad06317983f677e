package dev.proxyfilter.standalone;

import dev.proxyfilter.config.AdminConfig;
import dev.proxyfilter.forward.ProxyEngine;
import dev.proxyfilter.servlet.AdminServlet;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The admin interface's own listener ({@code admin.host:admin.port}, loopback by default): a small
 * server apart from the proxy's, so that the dashboard stays reachable when the proxy is saturated
 * and the API is never exposed on the public port.
 */
final class AdminListener {
    private AdminListener() {}

    /** Starts it, or returns null when {@code admin.port} is -1. */
    static Server start(AdminConfig admin, ProxyEngine engine) throws Exception {
        Server server = bind(admin, engine, false, true);
        if (server != null) {
            start(server);
        }
        return server;
    }

    /**
     * Binds its port, so that a port in use fails the start before the proxy listener opens, but does
     * not answer yet: {@link #start(Server)} does once the proxy listens. Returns null when
     * {@code admin.port} is -1.
     *
     * @param reusePort {@code server.reuse-port}: the admin port is shared during a takeover too
     * @param exclusive with {@code reusePort}: refuse a port that another process holds (no takeover)
     */
    static Server bind(AdminConfig admin, ProxyEngine engine, boolean reusePort, boolean exclusive) {
        if (admin.port() < 0) {
            return null;
        }
        QueuedThreadPool threads = new QueuedThreadPool(16, 2);
        threads.setName("proxy-admin");
        Server server = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        ServerConnector connector =
                new HandOverConnector(server, 1, 1, reusePort, exclusive, new HttpConnectionFactory(http));
        connector.setHost(admin.host());
        connector.setPort(admin.port());
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/", ServletContextHandler.NO_SESSIONS);
        context.addServlet(new ServletHolder("admin", new AdminServlet(engine, admin.token())), "/*");
        server.setHandler(context);
        try {
            Servers.bind(connector, "admin.port");
        } catch (RuntimeException | Error e) {
            Servers.stopAndClose(server);
            throw e;
        }
        return server;
    }

    /** Starts answering on the port {@link #bind} opened. */
    static void start(Server server) throws Exception {
        try {
            server.start();
        } catch (Exception | Error e) {
            Servers.stopAndClose(server);
            throw e;
        }
    }

    /** The listener's connector. */
    static HandOverConnector connector(Server server) {
        return (HandOverConnector) server.getConnectors()[0];
    }

    /** The bound port. */
    static int port(Server server) {
        return ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    }
}
