package dev.proxyfilter.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Operator commands that every node of a cluster applies: one node {@linkplain #send sends} a command on
 * {@value #TOPIC}, every other node applies it locally (through its {@link Handler}, on an executor, never on
 * Hazelcast's event thread) and acknowledges, and the sender waits, bounded, for the acknowledgements of the nodes
 * it expects: those its heartbeats say are alive ({@link Heartbeats#live()}).
 *
 * <p>The sender applies the command itself, before sending it (so that a bad pool name is refused before anyone
 * else hears of it); a node ignores its own messages. Messages are best effort: a node that misses one (a
 * partition) is named as missing in the answer, and keeps its own state until an operator sends the command again.
 * Commands from one sender reach every node in the order sent (Hazelcast's topic order per publisher). Nothing is
 * replayed to a node that joins later: it starts from its configuration. Thread-safe.
 */
public final class ClusterCommands implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterCommands.class);

    /** The topic commands and acknowledgements travel on. */
    public static final String TOPIC = "proxy-filter.admin";

    private static final String COMMAND = "C";
    private static final String ACK = "A";
    private static final int MAX_DETAIL_CHARS = 500;

    /** Applies a command another node sent. */
    @FunctionalInterface
    public interface Handler {
        /**
         * @param command what the sender sent
         * @param sender  the sending node's id
         * @return what was done, one short line, for the sender's answer
         * @throws Exception when the command could not be applied here; its message goes back to the sender
         */
        String apply(String command, String sender) throws Exception;
    }

    /**
     * One node's acknowledgement.
     *
     * @param node   its id
     * @param ok     whether it applied the command
     * @param detail what it did, or why not
     */
    public record Ack(String node, boolean ok, String detail) {}

    /**
     * What became of a command across the cluster.
     *
     * @param expected the other nodes the sender waited for
     * @param acks     the acknowledgements that arrived in time, by node id
     * @param waited   how long the sender waited
     */
    public record Fanout(Set<String> expected, List<Ack> acks, Duration waited) {
        /** The expected nodes that did not answer in time. */
        public Set<String> missing() {
            Set<String> missing = new TreeSet<>(expected);
            acks.forEach(ack -> missing.remove(ack.node()));
            return missing;
        }

        /** The nodes that applied the command, the sender included. */
        public int applied() {
            return 1 + (int) acks.stream().filter(Ack::ok).count();
        }
    }

    private final Cluster cluster;
    private final Supplier<Set<String>> peers;
    private final Handler handler;
    private final Executor executor;
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    private final Cluster.Subscription subscription;

    /**
     * Starts listening for commands.
     *
     * @param peers    the other nodes a command is expected to reach, asked at each send
     * @param handler  applies the commands of other nodes
     * @param executor where it does so
     */
    public ClusterCommands(Cluster cluster, Supplier<Set<String>> peers, Handler handler, Executor executor) {
        this.cluster = Objects.requireNonNull(cluster, "cluster");
        this.peers = Objects.requireNonNull(peers, "peers");
        this.handler = Objects.requireNonNull(handler, "handler");
        this.executor = Objects.requireNonNull(executor, "executor");
        this.subscription = cluster.subscribe(TOPIC, this::onMessage);
    }

    /**
     * Sends {@code command} to the other nodes and waits up to {@code wait} for their acknowledgements, less when
     * all of them answer sooner. The caller has applied it here already.
     */
    public Fanout send(String command, Duration wait) {
        Set<String> expected = Set.copyOf(peers.get());
        String id = UUID.randomUUID().toString();
        Pending answers = new Pending(expected);
        pending.put(id, answers);
        long start = System.nanoTime();
        try {
            cluster.publish(TOPIC, COMMAND + '\t' + id + '\t' + command);
            if (!expected.isEmpty()) {
                answers.all.await(wait.toNanos(), TimeUnit.NANOSECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            pending.remove(id);
        }
        List<Ack> acks = new ArrayList<>(answers.acks.values());
        acks.sort(Comparator.comparing(Ack::node));
        return new Fanout(expected, List.copyOf(acks), Duration.ofNanos(System.nanoTime() - start));
    }

    private void onMessage(String sender, String message) {
        if (sender.equals(cluster.nodeId())) {
            return; // applied before it was sent
        }
        String[] parts = message.split("\t", 3);
        if (parts.length < 3) {
            return;
        }
        if (parts[0].equals(COMMAND)) {
            String id = parts[1];
            String command = parts[2];
            try {
                executor.execute(() -> apply(id, command, sender));
            } catch (RejectedExecutionException e) {
                acknowledge(id, false, "this node is shutting down");
            }
        } else if (parts[0].equals(ACK)) {
            Pending answers = pending.get(parts[1]);
            if (answers != null) {
                answers.add(new Ack(sender, parts[2].startsWith("+"), parts[2].substring(1)));
            }
        }
    }

    private void apply(String id, String command, String sender) {
        String detail;
        boolean ok;
        try {
            detail = handler.apply(command, sender);
            ok = true;
        } catch (Exception e) {
            detail = e.getMessage() == null ? e.toString() : e.getMessage();
            ok = false;
            LOG.warn(
                    "cluster command from {} not applied: {}: {}",
                    sender,
                    command.replace('\t', ' ').strip(),
                    detail);
        }
        acknowledge(id, ok, detail);
    }

    private void acknowledge(String id, boolean ok, String detail) {
        String line = detail == null ? "" : detail.replace('\n', ' ').replace('\t', ' ');
        if (line.length() > MAX_DETAIL_CHARS) {
            line = line.substring(0, MAX_DETAIL_CHARS);
        }
        cluster.publish(TOPIC, ACK + '\t' + id + '\t' + (ok ? '+' : '-') + line);
    }

    /** Stops listening; commands being applied finish on the executor. */
    @Override
    public void close() {
        subscription.close();
    }

    /** The acknowledgements one send waits for. */
    private static final class Pending {
        final Set<String> expected;
        final Map<String, Ack> acks = new ConcurrentHashMap<>();
        final CountDownLatch all;

        Pending(Set<String> expected) {
            this.expected = expected;
            this.all = new CountDownLatch(expected.size());
        }

        void add(Ack ack) {
            if (acks.putIfAbsent(ack.node(), ack) == null && expected.contains(ack.node())) {
                all.countDown();
            }
        }
    }
}
