package dev.proxyfilter.cluster.hazelcast;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.client.config.ClientConnectionStrategyConfig;
import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.ListenerConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import com.hazelcast.core.LifecycleListener;
import com.hazelcast.map.IMap;
import com.hazelcast.topic.ITopic;
import dev.proxyfilter.cluster.Cluster;
import dev.proxyfilter.config.ClusterConfig;
import dev.proxyfilter.config.ConfigException;
import dev.proxyfilter.config.ProxyConfig;
import java.net.BindException;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Cluster} on Hazelcast 5 (open source): an embedded member in this JVM, or a client of an existing
 * cluster ({@code cluster.mode}).
 *
 * <h2>The member and client it starts</h2>
 * From the {@code cluster.*} keys: the cluster name; TCP-IP discovery from {@code cluster.members} with
 * multicast and auto-detection off; {@code cluster.port} without auto-increment, so that a busy port is a
 * start-up error naming the key; {@code cluster.interface} as the only interface bound and announced. Or from
 * a whole file ({@code cluster.hazelcast-xml}, XML or YAML), to which only the properties below are added where
 * the file leaves them unset. Then each {@link ClusterPart} adds its maps, near caches and serializers.
 *
 * <p>Always (unless the file says otherwise): no phone-home, SLF4J logging, no JVM shutdown hook (the engine
 * closes the cluster after its last request, not the JVM before it), near-cache invalidations sent at once
 * rather than in batches ({@code hazelcast.map.invalidation.batch.enabled=false}): by default a member batches
 * them for up to 10 seconds, so a purged response could be served from another node's near cache that long;
 * and a graceful shutdown bounded by {@value #GRACEFUL_SHUTDOWN_SECONDS} seconds instead of ten minutes.
 *
 * <p>A client starts asynchronously and then waits up to {@value #CLIENT_START_SECONDS} seconds for its first
 * connection, so that a wrong address fails start-up; once connected, it reconnects in the background for as
 * long as it runs, and meanwhile every cluster operation fails at once (the cache counts a miss).
 *
 * <p>Features that need the cluster's data structures get them here ({@link #map}, {@link #topic}); the
 * {@link HazelcastInstance} itself stays inside this package.
 */
public final class HazelcastCluster implements Cluster {
    private static final Logger LOG = LoggerFactory.getLogger(HazelcastCluster.class);

    /** How long a client waits for its first connection before start-up fails. */
    static final int CLIENT_START_SECONDS = 30;
    /** How long closing waits for a deregistration from the cluster. */
    static final int DEREGISTRATION_SECONDS = 2;
    /**
     * The longest a member's graceful shutdown waits for its partitions to move to the others, in seconds
     * ({@code hazelcast.graceful.shutdown.max.wait}, 600 by default): past it the member stops and the others
     * rebuild its share from their backups.
     */
    static final int GRACEFUL_SHUTDOWN_SECONDS = 30;

    private final HazelcastInstance hazelcast;
    private final ClusterConfig config;
    private final String name;
    private final String nodeId;
    private final boolean client;
    private volatile boolean connected;
    private volatile boolean closing;

    private HazelcastCluster(
            HazelcastInstance hazelcast, ClusterConfig config, String name, boolean client, boolean connected) {
        this.hazelcast = hazelcast;
        this.config = config;
        this.name = name;
        this.client = client;
        this.connected = connected;
        this.nodeId = client
                ? hazelcast.getLocalEndpoint().getUuid().toString()
                : hazelcast.getCluster().getLocalMember().getUuid().toString();
    }

    /**
     * Starts the member or client {@code proxy.cluster()} describes; what {@link Cluster#start} calls by name.
     *
     * @throws ConfigException naming the key at fault when it cannot start
     */
    public static HazelcastCluster start(ProxyConfig proxy) {
        ClusterConfig config = proxy.cluster();
        HazelcastCluster cluster = config.mode() == ClusterConfig.Mode.CLIENT ? startClient(proxy) : startMember(proxy);
        LOG.info(
                "cluster {}: {} {} started; {} member(s): {}",
                cluster.name(),
                config.mode().configName(),
                cluster.nodeId,
                cluster.members().size(),
                cluster.describeMembers());
        return cluster;
    }

    // ---- Starting ----

    private static HazelcastCluster startMember(ProxyConfig proxy) {
        ClusterConfig cluster = proxy.cluster();
        Config config;
        if (cluster.hazelcastXml() != null) {
            try {
                config = Config.loadFromFile(cluster.hazelcastXml().toFile());
            } catch (Exception | LinkageError e) {
                throw xmlError(cluster, "a Hazelcast member configuration", e);
            }
        } else {
            config = new Config();
            config.setClusterName(cluster.name());
            NetworkConfig network = config.getNetworkConfig();
            network.setPort(cluster.port()).setPortAutoIncrement(false);
            JoinConfig join = network.getJoin();
            join.getMulticastConfig().setEnabled(false);
            join.getAutoDetectionConfig().setEnabled(false);
            join.getTcpIpConfig().setEnabled(true).setMembers(cluster.members());
            if (cluster.bindInterface() != null) {
                network.getInterfaces().setEnabled(true).addInterface(cluster.bindInterface());
                config.setProperty("hazelcast.socket.bind.any", "false");
            }
        }
        defaults(config.getProperties());
        config.setClassLoader(HazelcastCluster.class.getClassLoader());
        for (ClusterPart part : parts()) {
            part.configureMember(config, proxy);
        }
        HazelcastInstance instance;
        try {
            instance = Hazelcast.newHazelcastInstance(config);
        } catch (RuntimeException e) {
            throw memberError(cluster, e);
        }
        return new HazelcastCluster(instance, cluster, config.getClusterName(), false, true);
    }

    private static HazelcastCluster startClient(ProxyConfig proxy) {
        ClusterConfig cluster = proxy.cluster();
        ClientConfig config;
        if (cluster.hazelcastXml() != null) {
            try {
                config = loadClientConfig(cluster.hazelcastXml().toFile());
            } catch (Exception | LinkageError e) {
                throw xmlError(cluster, "a Hazelcast client configuration", e);
            }
        } else {
            config = new ClientConfig();
            config.setClusterName(cluster.name());
            config.getNetworkConfig().setAddresses(cluster.members());
        }
        defaults(config.getProperties());
        config.setClassLoader(HazelcastCluster.class.getClassLoader());
        ClientConnectionStrategyConfig strategy = config.getConnectionStrategyConfig();
        strategy.setAsyncStart(true).setReconnectMode(ClientConnectionStrategyConfig.ReconnectMode.ASYNC);
        strategy.getConnectionRetryConfig().setClusterConnectTimeoutMillis(Long.MAX_VALUE);
        CountDownLatch firstConnection = new CountDownLatch(1);
        HazelcastCluster[] started = new HazelcastCluster[1];
        config.addListenerConfig(new ListenerConfig((LifecycleListener) event -> {
            if (event.getState() == LifecycleEvent.LifecycleState.CLIENT_CONNECTED) {
                firstConnection.countDown();
                if (started[0] != null) {
                    started[0].connected = true;
                }
            } else if (event.getState() == LifecycleEvent.LifecycleState.CLIENT_DISCONNECTED && started[0] != null) {
                started[0].connected = false;
                if (!started[0].closing) {
                    LOG.warn("cluster {}: client disconnected; reconnecting", cluster.name());
                }
            }
        }));
        for (ClusterPart part : parts()) {
            part.configureClient(config, proxy);
        }
        HazelcastInstance instance;
        try {
            instance = HazelcastClient.newHazelcastClient(config);
        } catch (RuntimeException e) {
            throw new ConfigException(
                    "cluster.members",
                    String.join(",", cluster.members()),
                    "members of cluster " + cluster.name() + " a client can reach; Hazelcast: " + e.getMessage(),
                    null);
        }
        boolean connected;
        try {
            connected = firstConnection.await(CLIENT_START_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            connected = false;
        }
        if (!connected) {
            instance.shutdown();
            String key = cluster.hazelcastXml() != null ? "cluster.hazelcast-xml" : "cluster.members";
            String value = cluster.hazelcastXml() != null
                    ? cluster.hazelcastXml().toString()
                    : String.join(",", cluster.members());
            throw new ConfigException(
                    key,
                    value,
                    "members of cluster " + cluster.name() + " that a client reaches within " + CLIENT_START_SECONDS
                            + "s",
                    null);
        }
        HazelcastCluster result = new HazelcastCluster(instance, cluster, config.getClusterName(), true, true);
        started[0] = result;
        return result;
    }

    /** A client configuration file: YAML by its extension, else XML. */
    private static ClientConfig loadClientConfig(java.io.File file) throws java.io.IOException {
        String name = file.getName().toLowerCase(java.util.Locale.ROOT);
        return name.endsWith(".yaml") || name.endsWith(".yml")
                ? new com.hazelcast.client.config.YamlClientConfigBuilder(file).build()
                : new com.hazelcast.client.config.XmlClientConfigBuilder(file).build();
    }

    /** The properties every instance gets unless its configuration sets them. */
    private static void defaults(java.util.Properties properties) {
        properties.putIfAbsent("hazelcast.phone.home.enabled", "false");
        properties.putIfAbsent("hazelcast.logging.type", "slf4j");
        properties.putIfAbsent("hazelcast.shutdownhook.enabled", "false");
        properties.putIfAbsent("hazelcast.map.invalidation.batch.enabled", "false");
        properties.putIfAbsent("hazelcast.graceful.shutdown.max.wait", Integer.toString(GRACEFUL_SHUTDOWN_SECONDS));
    }

    private static Iterable<ClusterPart> parts() {
        return ServiceLoader.load(ClusterPart.class, HazelcastCluster.class.getClassLoader());
    }

    private static ConfigException xmlError(ClusterConfig cluster, String expected, Throwable cause) {
        String file = cluster.hazelcastXml().toString();
        ConfigException exception =
                new ConfigException("cluster.hazelcast-xml", file, expected + "; Hazelcast: " + firstLine(cause), file);
        exception.initCause(cause);
        return exception;
    }

    /** A member that cannot start: the key its cause points at, with Hazelcast's reason. */
    private static ConfigException memberError(ClusterConfig cluster, RuntimeException e) {
        String reason = firstLine(e);
        ConfigException exception;
        if (cluster.hazelcastXml() != null) {
            exception = new ConfigException(
                    "cluster.hazelcast-xml",
                    cluster.hazelcastXml().toString(),
                    "a configuration a member can start with; Hazelcast: " + reason,
                    cluster.hazelcastXml().toString());
        } else if (cluster.bindInterface() != null && !causedBy(e, BindException.class)) {
            exception = new ConfigException(
                    "cluster.interface",
                    cluster.bindInterface(),
                    "an IPv4 address of this host; Hazelcast: " + reason,
                    null);
        } else {
            exception = new ConfigException(
                    "cluster.port",
                    Integer.toString(cluster.port()),
                    "a free port on " + (cluster.bindInterface() == null ? "every interface" : cluster.bindInterface())
                            + "; Hazelcast: " + reason,
                    null);
        }
        exception.initCause(e);
        return exception;
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    private static String firstLine(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }

    // ---- What features use ----

    /** The map {@code name}, shared by every node; its configuration comes from the {@link ClusterPart}s. */
    public <K, V> IMap<K, V> map(String name) {
        return hazelcast.getMap(name);
    }

    /** The topic {@code name}. */
    public <E> ITopic<E> topic(String name) {
        return hazelcast.getTopic(name);
    }

    /** Whether this node is a client rather than a member. */
    public boolean client() {
        return client;
    }

    /**
     * Stops this node at once, without handing data over: a crash, as tests simulate one. The other members
     * rebuild what it owned from their backups.
     */
    public void terminate() {
        hazelcast.getLifecycleService().terminate();
    }

    // ---- Cluster ----

    @Override
    public String name() {
        return config.hazelcastXml() == null
                ? config.name()
                : hazelcast.getConfig().getClusterName();
    }

    @Override
    public String nodeId() {
        return nodeId;
    }

    @Override
    public String address() {
        try {
            if (client) {
                java.net.SocketAddress local = hazelcast.getLocalEndpoint().getSocketAddress();
                return local instanceof java.net.InetSocketAddress inet
                        ? inet.getAddress().getHostAddress() + ":" + inet.getPort()
                        : "";
            }
            com.hazelcast.cluster.Address address =
                    hazelcast.getCluster().getLocalMember().getAddress();
            return address.getHost() + ":" + address.getPort();
        } catch (RuntimeException e) {
            return ""; // not running
        }
    }

    @Override
    public Set<String> members() {
        Set<String> ids = new LinkedHashSet<>();
        try {
            for (Member member : hazelcast.getCluster().getMembers()) {
                ids.add(member.getUuid().toString());
            }
        } catch (RuntimeException e) {
            // not running: no members
        }
        return ids;
    }

    private String describeMembers() {
        StringBuilder out = new StringBuilder();
        try {
            for (Member member : hazelcast.getCluster().getMembers()) {
                out.append(out.length() == 0 ? "" : ", ").append(member.getAddress());
            }
        } catch (RuntimeException e) {
            out.append("unknown");
        }
        return out.toString();
    }

    @Override
    public boolean connected() {
        return hazelcast.getLifecycleService().isRunning() && (!client || connected);
    }

    @Override
    public void publish(String topic, String message) {
        Objects.requireNonNull(message, "message");
        try {
            hazelcast
                    .<String>getTopic(topic)
                    .publishAsync(nodeId + '\n' + message)
                    .whenComplete((ignored, failure) -> {
                        if (failure != null) {
                            LOG.debug("cluster {}: publishing on {} failed", name(), topic, failure);
                        }
                    });
        } catch (RuntimeException e) {
            LOG.debug("cluster {}: publishing on {} failed", name(), topic, e);
        }
    }

    @Override
    public Subscription subscribe(String topic, Listener listener) {
        Objects.requireNonNull(listener, "listener");
        ITopic<String> channel = hazelcast.getTopic(topic);
        UUID registration = channel.addMessageListener(message -> {
            String text = message.getMessageObject();
            int newline = text.indexOf('\n');
            if (newline < 0) {
                return; // not ours
            }
            try {
                listener.onMessage(text.substring(0, newline), text.substring(newline + 1));
            } catch (RuntimeException e) {
                LOG.warn("cluster {}: a listener of {} failed", name(), topic, e);
            }
        });
        return () -> bounded("unsubscribing from " + topic, () -> channel.removeMessageListener(registration));
    }

    /**
     * Runs a cluster-wide call whose outcome nobody waits for (a deregistration), giving it {@value
     * #DEREGISTRATION_SECONDS} seconds: a cluster that cannot answer must not hold up a shutdown for Hazelcast's
     * invocation timeout (minutes). Past it, the call goes on in the background or dies with the instance.
     */
    private void bounded(String what, Runnable call) {
        Thread thread = new Thread(
                () -> {
                    try {
                        call.run();
                    } catch (RuntimeException e) {
                        LOG.debug("cluster {}: {} failed", name, what, e);
                    }
                },
                "proxy-filter-cluster-" + what.replace(' ', '-'));
        thread.setDaemon(true);
        thread.start();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(DEREGISTRATION_SECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            LOG.warn("cluster {}: {} did not finish within {} s; going on", name, what, DEREGISTRATION_SECONDS);
        }
    }

    @Override
    public Subscription onMemberLeft(Consumer<String> listener) {
        Objects.requireNonNull(listener, "listener");
        UUID registration = hazelcast.getCluster().addMembershipListener(new MembershipListener() {
            @Override
            public void memberAdded(MembershipEvent event) {
                LOG.info(
                        "cluster {}: member {} joined",
                        name(),
                        event.getMember().getAddress());
            }

            @Override
            public void memberRemoved(MembershipEvent event) {
                LOG.info("cluster {}: member {} left", name(), event.getMember().getAddress());
                listener.accept(event.getMember().getUuid().toString());
            }
        });
        return () -> {
            try {
                hazelcast.getCluster().removeMembershipListener(registration);
            } catch (RuntimeException e) {
                LOG.debug("cluster {}: removing a membership listener failed", name(), e);
            }
        };
    }

    /**
     * Leaves the cluster: a member hands the partitions it owns over to the others first (Hazelcast's graceful
     * shutdown), so that no backup is lost; a client disconnects.
     */
    @Override
    public void close() {
        closing = true;
        long start = System.nanoTime();
        try {
            hazelcast.shutdown();
        } catch (RuntimeException e) {
            LOG.warn("cluster {}: shutdown failed", name, e);
        }
        LOG.info(
                "cluster {}: {} {} left after {} ms",
                name,
                client ? "client" : "member",
                nodeId,
                Duration.ofNanos(System.nanoTime() - start).toMillis());
    }

    @Override
    public String toString() {
        return "HazelcastCluster[" + name + ", " + nodeId + "]";
    }
}
