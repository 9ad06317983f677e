package dev.proxyfilter.standalone;

import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.forward.ProxyEngine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.server.Connector;
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

    /**
     * Hand-over: the listener closes once no connection has come for this long (a quiet moment, when none
     * is likely to be half-way through its handshake with it), or after {@link #HAND_OVER_MAX}.
     */
    static final Duration HAND_OVER_QUIET = Duration.ofMillis(100);

    static final Duration HAND_OVER_MAX = Duration.ofSeconds(1);
    /** How long closing a listener on its acceptor thread may take before it is closed from here. */
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(1);

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
     * With {@code server.reuse-port} the stop begins with a hand-over to the process that shares the ports
     * (see {@link #handOver}); in-flight exchanges get the same grace.
     *
     * <p>Idempotent.
     */
    public synchronized void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        Duration grace = config.server().shutdownTimeout();
        long deadline = System.nanoTime() + grace.toNanos();
        boolean handOver = config.server().reusePort();
        LOG.info(
                "proxy-filter stopping: {}, {} exchange(s) in flight get up to {} ms",
                handOver ? "handing over to the process sharing the ports" : "new connections refused",
                engine.inFlightExchanges(),
                grace.toMillis());
        engine.startDraining(); // /readyz fails from now on, while Jetty drains
        if (handOver) {
            handOver(deadline);
        }
        proxy.setStopTimeout(TimeUnit.NANOSECONDS.toMillis(Math.max(0, deadline - System.nanoTime())));
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
            // The other process's upstream connections to these ports were told to close; let them finish.
            awaitNoConnections(handOverConnectors(demo), System.nanoTime() + HAND_OVER_MAX.toNanos());
            stop(demo, "demo backends");
        }
        LOG.info("proxy-filter stopped");
    }

    /**
     * The hand-over to a process that listens on the same ports ({@code server.reuse-port}), before the
     * usual graceful stop; see {@link HandOverConnector} for why the listeners close this way.
     * <ol>
     *   <li>the admin listener closes (queue drained): a {@code /readyz} on the shared admin port reaches
     *       the new process only, so a keepalived or load balancer check stays green;</li>
     *   <li>the proxy listeners keep accepting until no connection has come for {@link #HAND_OVER_QUIET}
     *       (at most {@link #HAND_OVER_MAX}), then close with an empty accept queue, the demo backends'
     *       listeners with them; from then on new connections reach the new process only;</li>
     *   <li>connections already open get {@code Connection: close} on their next response (HTTP/2: GOAWAY),
     *       and close after {@link HandOverConnector#HAND_OVER_IDLE_MS} idle; a request that comes on one
     *       meanwhile is served, not refused;</li>
     *   <li>when they are all closed, or the grace ends, the graceful stop goes on as without hand-over.</li>
     * </ol>
     */
    private void handOver(long deadline) {
        long start = System.nanoTime();
        if (admin != null) {
            closeAfterDraining(AdminListener.connector(admin), "admin listener");
        }
        List<HandOverConnector> listeners = handOverConnectors(proxy);
        long acceptUntil = Math.min(deadline, start + HAND_OVER_MAX.toNanos());
        while (System.nanoTime() - acceptUntil < 0
                && listeners.stream().anyMatch(l -> l.nanosSinceLastAccept() < HAND_OVER_QUIET.toNanos())) {
            sleep(10);
        }
        long accepting = System.nanoTime() - start;
        List<HandOverConnector> closing = new ArrayList<>(listeners);
        if (demo != null) {
            closing.addAll(handOverConnectors(demo));
        }
        for (HandOverConnector listener : closing) {
            closeAfterDraining(listener, listener.getName());
        }
        for (HandOverConnector listener : closing) {
            listener.handOver();
        }
        int open = openConnections(listeners);
        awaitNoConnections(listeners, deadline);
        LOG.info(
                "hand-over: listener closed after {} ms of accepting, then {} open connection(s) closed in {} ms{}",
                TimeUnit.NANOSECONDS.toMillis(accepting),
                open,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start - accepting),
                openConnections(listeners) == 0 ? "" : " (" + openConnections(listeners) + " left at the grace's end)");
    }

    private static List<HandOverConnector> handOverConnectors(Server server) {
        List<HandOverConnector> connectors = new ArrayList<>();
        for (Connector connector : server.getConnectors()) {
            if (connector instanceof HandOverConnector handOver && handOver.reusesPort()) {
                connectors.add(handOver);
            }
        }
        return connectors;
    }

    private static void closeAfterDraining(HandOverConnector connector, String what) {
        CompletableFuture<Void> closed = connector.closeAfterDraining();
        try {
            closed.get(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            LOG.warn("the {} did not close on its acceptor thread in time; closing it now: {}", what, e.toString());
            connector.close();
        }
    }

    private static int openConnections(List<HandOverConnector> connectors) {
        return connectors.stream()
                .mapToInt(c -> c.getConnectedEndPoints().size())
                .sum();
    }

    private static void awaitNoConnections(List<HandOverConnector> connectors, long deadline) {
        while (openConnections(connectors) > 0 && System.nanoTime() - deadline < 0) {
            sleep(10);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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
