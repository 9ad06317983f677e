package dev.proxyfilter.standalone;

import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.forward.ProxyEngine;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A started standalone proxy: the engine, the proxy server, the admin listener and, if configured, the
 * demo backends. Returned by {@link ProxyMain#start(String...)}; {@link #stop()} (or {@code close()})
 * stops them gracefully, in that order reversed.
 */
public final class RunningProxy implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RunningProxy.class);

    private final ProxyConfig config;
    private final ProxyEngine engine;
    private final Server proxy;
    private final ServerConnector connector;
    private final ServerConnector redirect;
    private final Server demo;
    private final Server admin;
    private boolean stopped;

    RunningProxy(
            ProxyConfig config,
            ProxyEngine engine,
            Server proxy,
            ServerConnector connector,
            ServerConnector redirect,
            Server demo,
            Server admin) {
        this.config = config;
        this.engine = engine;
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
     * Stops gracefully, within {@code server.shutdown-timeout} (the grace) plus the time closing takes:
     * <ol>
     *   <li>the proxy server: its connectors close at once, so new connections are refused; a request on a
     *       kept-alive connection gets 503; in-flight exchanges (async ones too, tracked by Jetty's
     *       {@code GracefulHandler} until their response completes) get the grace to finish, then Jetty
     *       closes the connections left;</li>
     *   <li>the admin listener, which reads the engine;</li>
     *   <li>the engine, with what is left of the grace for exchanges Jetty does not see (background cache
     *       revalidations): upstream clients, health checks, threads, then the cache, flushed to disk;</li>
     *   <li>the demo backends, which those exchanges may have been reading from.</li>
     * </ol>
     * Idempotent.
     */
    public synchronized void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        Duration grace = config.server().shutdownTimeout();
        long deadline = System.nanoTime() + grace.toNanos();
        LOG.info(
                "proxy-filter stopping: new connections refused, {} exchange(s) in flight get up to {} ms",
                engine.inFlightExchanges(),
                grace.toMillis());
        engine.startDraining(); // /readyz fails from now on, while Jetty drains
        stop(proxy, "proxy server");
        if (admin != null) {
            stop(admin, "admin listener");
        }
        try {
            engine.close(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        } catch (RuntimeException e) {
            LOG.warn("closing the engine failed", e);
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
