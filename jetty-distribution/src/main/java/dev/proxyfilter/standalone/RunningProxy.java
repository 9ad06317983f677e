package dev.proxyfilter.standalone;

import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.forward.ProxyEngine;
import java.util.Map;
import java.util.TreeMap;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A started standalone proxy: the proxy server and, if configured, the demo backends. Returned by
 * {@link ProxyMain#start(String...)}; {@link #stop()} (or {@code close()}) stops both, proxy first.
 */
public final class RunningProxy implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RunningProxy.class);

    private final ProxyConfig config;
    private final Server proxy;
    private final ServerConnector connector;
    private final ServerConnector redirect;
    private final Server demo;
    private final Server admin;
    private final ProxyEngine engine;
    private boolean stopped;

    RunningProxy(ProxyConfig config, Server proxy, ServerConnector connector, ServerConnector redirect, Server demo,
            Server admin, ProxyEngine engine) {
        this.engine = engine;
        this.config = config;
        this.proxy = proxy;
        this.connector = connector;
        this.redirect = redirect;
        this.demo = demo;
        this.admin = admin;
    }

    /** The proxy's engine: its live configuration, metrics and {@link ProxyEngine#reloadFromSource reload}. */
    public ProxyEngine engine() {
        return engine;
    }

    /** The admin listener's bound port, or -1 when it is off. */
    public int adminPort() {
        return admin == null ? -1 : AdminListener.port(admin);
    }

    /** The configuration this proxy started with; {@code engine().config()} is the one it runs now. */
    public ProxyConfig config() {
        return config;
    }

    /** The port the proxy listens on; the bound one when {@code server.port} is 0. */
    public int port() {
        return connector.getLocalPort();
    }

    /** The bound port of the plain HTTP listener that redirects to HTTPS, or -1 without one. */
    public int redirectPort() {
        return redirect == null ? -1 : redirect.getLocalPort();
    }

    /** The demo backends' bound ports by name; empty without demo backends. */
    public Map<String, Integer> demoPorts() {
        Map<String, Integer> ports = new TreeMap<>();
        for (String name : config.demo().backends().keySet()) {
            ports.put(name, DemoBackends.port(demo, name));
        }
        return ports;
    }

    /** Waits until the proxy server has stopped. */
    public void join() throws InterruptedException {
        proxy.join();
    }

    /**
     * Stops the proxy gracefully (in-flight exchanges get up to {@link ProxyMain#STOP_TIMEOUT} to
     * finish), then the demo backends, which those exchanges may still be reading from. Idempotent.
     */
    public synchronized void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        stop(proxy, "proxy server");
        if (admin != null) {
            stop(admin, "admin listener");
        }
        if (demo != null) {
            stop(demo, "demo backends");
        }
        LOG.info("proxy-filter stopped");
    }

    @Override
    public void close() {
        stop();
    }

    private static void stop(Server server, String what) {
        try {
            server.stop();
        } catch (Exception e) {
            LOG.warn("stopping the {} failed", what, e);
        }
    }
}
