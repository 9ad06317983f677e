package dev.proxyfilter.cluster;

import dev.proxyfilter.config.ConfigException;
import dev.proxyfilter.config.ProxyConfig;
import java.lang.reflect.InvocationTargetException;
import java.util.Set;
import java.util.function.Consumer;

/**
 * This instance's part in a cluster of proxy instances ({@code cluster.*}), as the engine and the features
 * built on it see it: who is in the cluster, and a way to tell every node something. It names no
 * Hazelcast type, so that code using it loads none; the implementation,
 * {@code dev.proxyfilter.cluster.hazelcast.HazelcastCluster}, is loaded by name in {@link #start}, and only
 * when {@code cluster.enabled=true}.
 *
 * <p>Features that need the cluster's data structures (the shared response cache, cluster-wide rate limits) live
 * next to the Hazelcast implementation, which gives them its maps; what
 * any feature may use without Hazelcast is here: node ids, membership, and {@linkplain #publish topics}.
 *
 * <p>Thread-safe. The engine starts the cluster before its cache and closes it after.
 */
public interface Cluster extends AutoCloseable {

    /** The implementation, loaded by name: nothing of Hazelcast loads unless a cluster is configured. */
    String IMPLEMENTATION = "dev.proxyfilter.cluster.hazelcast.HazelcastCluster";

    /**
     * Starts this instance's part in the cluster that {@code config.cluster()} describes (it must be enabled):
     * an embedded member joins, or a client connects. Blocks until it has.
     *
     * @throws ConfigException naming the key at fault when the cluster cannot be started as configured (a
     *     port in use, an interface this host lacks, an unreadable Hazelcast file, members out of reach), or
     *     when Hazelcast is not on the class path
     */
    static Cluster start(ProxyConfig config) {
        if (!config.cluster().enabled()) {
            throw new IllegalArgumentException("cluster.enabled: false (expected: true to start a cluster)");
        }
        Class<?> type;
        try {
            type = Class.forName(IMPLEMENTATION, true, Cluster.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            throw missingHazelcast(e);
        }
        try {
            return (Cluster) type.getMethod("start", ProxyConfig.class).invoke(null, config);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (cause instanceof LinkageError linkage) {
                throw missingHazelcast(linkage);
            }
            throw new IllegalStateException("cannot start the cluster", cause);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot start the cluster", e);
        }
    }

    private static ConfigException missingHazelcast(Throwable cause) {
        ConfigException exception = new ConfigException(
                "cluster.enabled",
                "true",
                "com.hazelcast:hazelcast 5.x on the class path too, an optional dependency of proxy-filter",
                null);
        exception.initCause(cause);
        return exception;
    }

    /** The cluster's name ({@code cluster.name}). */
    String name();

    /** This node's id, unique in the cluster for as long as it runs. */
    String nodeId();

    /**
     * This node's address in the cluster, {@code host:port}: an embedded member's, or the local end of a client's
     * connection; empty when unknown (a client not connected).
     */
    String address();

    /** The ids of the cluster's members now (for an embedded member, itself included). */
    Set<String> members();

    /** Whether this node reaches the cluster now: its member runs, or its client is connected. */
    boolean connected();

    /**
     * Sends {@code message} to every node subscribed to {@code topic}, this one included, without waiting. Best
     * effort: a message may be lost when a node is unreachable; never throws for that.
     */
    void publish(String topic, String message);

    /** Calls {@code listener} for each message on {@code topic}, on a thread that must not block. */
    Subscription subscribe(String topic, Listener listener);

    /** Calls {@code listener} with the id of each member that leaves the cluster, on a thread that must not block. */
    Subscription onMemberLeft(Consumer<String> listener);

    /** Leaves the cluster: an embedded member hands its data over to the others first. */
    @Override
    void close();

    /** A message on a topic. */
    @FunctionalInterface
    interface Listener {
        /**
         * @param sender  the id of the node that published it
         * @param message what it published
         */
        void onMessage(String sender, String message);
    }

    /** Ends a subscription. */
    @FunctionalInterface
    interface Subscription extends AutoCloseable {
        @Override
        void close();
    }
}
