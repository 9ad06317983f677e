package dev.proxyfilter.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Which proxies make up the cluster, as they tell each other: each node publishes a small heartbeat on
 * {@value #TOPIC} (its address, uptime, configuration generation, requests in flight: whatever its {@code local}
 * supplier says) every {@link #PERIOD}, and keeps the last heartbeat it heard from every other node. A node that
 * hears from one it did not know answers with a heartbeat at once, so that a newcomer learns of everyone within a
 * round trip rather than a period.
 *
 * <p>Hazelcast's membership alone would not do: with {@code cluster.mode=client} the proxies are clients, and the
 * members are someone else's servers. The heartbeat is what says "a proxy runs there".
 *
 * <p>A node not heard from for {@value #LATE_AFTER_PERIODS} periods is late (it is still listed, marked so); for
 * {@value #FORGET_AFTER_PERIODS} periods, forgotten. A node that leaves says so, and a member that Hazelcast sees
 * leave is forgotten at once. Heartbeats are best effort, like every topic message. Thread-safe.
 */
public final class Heartbeats implements AutoCloseable {
    /** The topic every node publishes its heartbeat on. */
    public static final String TOPIC = "proxy-filter.heartbeats";
    /** How often a node publishes its heartbeat. */
    public static final Duration PERIOD = Duration.ofSeconds(2);

    static final int LATE_AFTER_PERIODS = 3;
    static final int FORGET_AFTER_PERIODS = 30;

    private static final String BEAT = "B";
    private static final String LEAVE = "L";

    private final Cluster cluster;
    private final Supplier<Map<String, String>> local;
    private final LongSupplier nanoTime;
    private final Map<String, Heard> heard = new ConcurrentHashMap<>();
    private final Cluster.Subscription subscription;
    private final Cluster.Subscription memberLeft;

    /** One node as this one last heard it. */
    private record Heard(Map<String, String> fields, long atNanos) {}

    /**
     * What a node knows of one node of the cluster.
     *
     * @param id          the node's id ({@link Cluster#nodeId()})
     * @param self        whether it is this node, whose fields are always current
     * @param fields      what its last heartbeat said, in the order it said it
     * @param sinceLast   how long ago that heartbeat arrived (zero for this node)
     * @param late        whether it is overdue by {@value #LATE_AFTER_PERIODS} periods
     */
    public record Node(String id, boolean self, Map<String, String> fields, Duration sinceLast, boolean late) {}

    /**
     * Starts listening; call {@link #beat()} every {@link #PERIOD}.
     *
     * @param local    this node's fields, asked for at every beat: short values, no tabs or line breaks (they
     *                 become spaces)
     * @param nanoTime the clock that ages heartbeats (the engine's ticker)
     */
    public Heartbeats(Cluster cluster, Supplier<Map<String, String>> local, LongSupplier nanoTime) {
        this.cluster = Objects.requireNonNull(cluster, "cluster");
        this.local = Objects.requireNonNull(local, "local");
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
        this.subscription = cluster.subscribe(TOPIC, this::onMessage);
        this.memberLeft = cluster.onMemberLeft(heard::remove);
    }

    /** Publishes this node's heartbeat now, and forgets nodes silent for too long. */
    public void beat() {
        cluster.publish(TOPIC, BEAT + encode(local.get()));
        long now = nanoTime.getAsLong();
        long forget = FORGET_AFTER_PERIODS * PERIOD.toNanos();
        heard.values().removeIf(node -> now - node.atNanos > forget);
    }

    private void onMessage(String sender, String message) {
        if (sender.equals(cluster.nodeId()) || message.isEmpty()) {
            return;
        }
        if (message.startsWith(LEAVE)) {
            heard.remove(sender);
        } else if (message.startsWith(BEAT)) {
            Heard before = heard.put(sender, new Heard(decode(message.substring(1)), nanoTime.getAsLong()));
            if (before == null) {
                beat(); // a newcomer (or one forgotten): let it know of this node now, not in a period
            }
        }
    }

    /** Every node known, this one first, then the others by address. */
    public List<Node> nodes() {
        long now = nanoTime.getAsLong();
        long lateAfter = LATE_AFTER_PERIODS * PERIOD.toNanos();
        List<Node> others = new ArrayList<>();
        heard.forEach((id, node) -> {
            long since = Math.max(0, now - node.atNanos);
            others.add(new Node(id, false, node.fields, Duration.ofNanos(since), since > lateAfter));
        });
        others.sort(Comparator.comparing((Node node) -> node.fields().getOrDefault("address", ""))
                .thenComparing(Node::id));
        List<Node> nodes = new ArrayList<>(others.size() + 1);
        nodes.add(new Node(cluster.nodeId(), true, Map.copyOf(local.get()), Duration.ZERO, false));
        nodes.addAll(others);
        return nodes;
    }

    /** The ids of the other nodes heard from lately (not late): those an admin command waits for. */
    public Set<String> live() {
        return nodes().stream()
                .filter(node -> !node.self() && !node.late())
                .map(Node::id)
                .collect(Collectors.toUnmodifiableSet());
    }

    /** Stops listening and tells the others this node leaves, so that they forget it at once. */
    @Override
    public void close() {
        cluster.publish(TOPIC, LEAVE);
        subscription.close();
        memberLeft.close();
    }

    static String encode(Map<String, String> fields) {
        StringBuilder out = new StringBuilder();
        fields.forEach(
                (key, value) -> out.append('\t').append(clean(key)).append('=').append(clean(value)));
        return out.toString();
    }

    static Map<String, String> decode(String text) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (String field : text.split("\t")) {
            int equals = field.indexOf('=');
            if (equals > 0) {
                fields.put(field.substring(0, equals), field.substring(equals + 1));
            }
        }
        return java.util.Collections.unmodifiableMap(fields);
    }

    private static String clean(String value) {
        return value == null ? "" : value.replace('\t', ' ').replace('\n', ' ').replace('\r', ' ');
    }
}
