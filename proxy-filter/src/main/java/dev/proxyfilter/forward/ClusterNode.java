package dev.proxyfilter.forward;

import dev.proxyfilter.cluster.Cluster;
import dev.proxyfilter.cluster.ClusterCommands;
import dev.proxyfilter.cluster.Heartbeats;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's side of a cluster beyond the shared cache and rate limits: this node's heartbeat, published every
 * {@link Heartbeats#PERIOD} (address, uptime, configuration generation, requests in flight), so that every node
 * can list the others; and the operator's {@link AdminCommand}s, which the admin API applies here and sends to
 * every other node through {@link ClusterCommands}, and which this node applies when another sends them.
 *
 * <p>What stays per node: backend health and outlier ejection (each node checks the backends itself and ejects
 * on what it sees), metrics, and everything a command did not change. A command is applied to the serving
 * generation; a reload keeps the admin state of backends that stay (see {@link Reloader}).
 */
public final class ClusterNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);

    /** How long the admin API waits for the other nodes to acknowledge a backend change or a purge. */
    public static final Duration ACK_WAIT = Duration.ofSeconds(2);
    /** How long it waits for their reloads, which read files and start clients. */
    public static final Duration RELOAD_ACK_WAIT = Duration.ofSeconds(10);

    private final ProxyEngine engine;
    private final Cluster cluster;
    private final Scheduler scheduler;
    private final Instant started;
    private final long startedNanos;
    private final Heartbeats heartbeats;
    private final ClusterCommands commands;
    /** Applies other nodes' commands, one at a time, in the order they arrive; its thread ends when idle. */
    private final ThreadPoolExecutor executor;

    private volatile boolean closed;
    private volatile Scheduler.Task nextBeat;

    ClusterNode(ProxyEngine engine, Cluster cluster, Scheduler scheduler) {
        this.engine = engine;
        this.cluster = cluster;
        this.scheduler = scheduler;
        this.started = engine.clock().instant();
        this.startedNanos = engine.clock().nanoTime();
        this.executor = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), task -> {
            Thread thread = new Thread(task, "proxy-filter-cluster-admin");
            thread.setDaemon(true);
            return thread;
        });
        executor.allowCoreThreadTimeOut(true);
        this.heartbeats = new Heartbeats(cluster, this::fields, engine.clock()::nanoTime);
        this.commands = new ClusterCommands(cluster, heartbeats::live, this::applyFromCluster, executor);
        beat();
    }

    /** What this node's heartbeat says. */
    private Map<String, String> fields() {
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("address", cluster.address());
        fields.put("started", started.toString());
        fields.put(
                "uptime_ms",
                Long.toString(TimeUnit.NANOSECONDS.toMillis(engine.clock().nanoTime() - startedNanos)));
        fields.put("generation", Long.toString(engine.generation()));
        fields.put("in_flight", Integer.toString(engine.inFlightExchanges()));
        fields.put("draining", Boolean.toString(engine.draining()));
        return fields;
    }

    private void beat() {
        if (closed) {
            return;
        }
        try {
            heartbeats.beat();
        } catch (RuntimeException e) {
            LOG.debug("cluster {}: a heartbeat failed", cluster.name(), e);
        }
        try {
            nextBeat = scheduler.schedule(this::beat, Heartbeats.PERIOD.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            // the scheduler stops with the engine
        }
    }

    /** A command another node sent, on this node's command thread. */
    private String applyFromCluster(String line, String sender) {
        AdminCommand command = AdminCommand.decode(line);
        String done = command.applyTo(engine, "cluster");
        LOG.info("admin (from cluster node {}): {}", sender, done);
        engine.metrics().registry().counter("proxy.admin.changes").inc();
        return done;
    }

    /**
     * Sends {@code command}, already applied here, to every other node, and waits for their acknowledgements
     * ({@link #ACK_WAIT}, {@link #RELOAD_ACK_WAIT} for a reload) or less when all answer sooner.
     */
    public ClusterCommands.Fanout send(AdminCommand command) {
        Duration wait = command.action() == AdminCommand.Action.RELOAD ? RELOAD_ACK_WAIT : ACK_WAIT;
        return commands.send(command.encode(), wait);
    }

    /** Every node of the cluster as the heartbeats tell, this one first. */
    public List<Heartbeats.Node> nodes() {
        return heartbeats.nodes();
    }

    /** The cluster this node is part of. */
    public Cluster cluster() {
        return cluster;
    }

    /** Stops the heartbeat (telling the others this node leaves) and the commands. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Scheduler.Task task = nextBeat;
        if (task != null) {
            task.cancel();
        }
        commands.close();
        heartbeats.close();
        executor.shutdown();
    }
}
