package dev.proxyfilter.cluster;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Clusters without Hazelcast for unit tests: nodes in one JVM whose topics deliver every message to every
 * subscribed node, this one included, at once on the publishing thread. A node can be made deaf (it neither
 * receives nor sends), as a partition would.
 */
final class LocalTopics {
    private final List<Node> nodes = new CopyOnWriteArrayList<>();

    /** A new node of this cluster. */
    Node node(String id) {
        Node node = new Node(id);
        nodes.add(node);
        return node;
    }

    final class Node implements Cluster {
        private final String id;
        private final Map<String, List<Listener>> listeners = new ConcurrentHashMap<>();
        private final List<Consumer<String>> leaving = new CopyOnWriteArrayList<>();
        volatile boolean deaf;

        Node(String id) {
            this.id = id;
        }

        @Override
        public String name() {
            return "local";
        }

        @Override
        public String nodeId() {
            return id;
        }

        @Override
        public String address() {
            return "10.0.0." + id + ":5701";
        }

        @Override
        public Set<String> members() {
            return nodes.stream().map(Node::nodeId).collect(Collectors.toSet());
        }

        @Override
        public boolean connected() {
            return !deaf;
        }

        @Override
        public void publish(String topic, String message) {
            if (deaf) {
                return;
            }
            for (Node node : nodes) {
                if (!node.deaf) {
                    for (Listener listener : node.listeners.getOrDefault(topic, List.of())) {
                        listener.onMessage(id, message);
                    }
                }
            }
        }

        @Override
        public Subscription subscribe(String topic, Listener listener) {
            listeners.computeIfAbsent(topic, t -> new CopyOnWriteArrayList<>()).add(listener);
            return () -> listeners.get(topic).remove(listener);
        }

        @Override
        public Subscription onMemberLeft(Consumer<String> listener) {
            leaving.add(listener);
            return () -> leaving.remove(listener);
        }

        /** This node leaves as a member would: the others hear of it from the membership, not from the node. */
        void crash() {
            nodes.remove(this);
            for (Node node : nodes) {
                node.leaving.forEach(listener -> listener.accept(id));
            }
        }

        @Override
        public void close() {
            nodes.remove(this);
        }
    }
}
