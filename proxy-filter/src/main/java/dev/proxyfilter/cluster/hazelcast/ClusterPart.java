package dev.proxyfilter.cluster.hazelcast;

import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.config.Config;
import dev.proxyfilter.config.ProxyConfig;

/**
 * A feature's share of the Hazelcast configuration: its maps, near caches and serializers, which must be in
 * place before the member or client starts. {@link HazelcastCluster} finds the parts with
 * {@link java.util.ServiceLoader} ({@code META-INF/services/dev.proxyfilter.cluster.hazelcast.ClusterPart}), so
 * that this package knows no feature and a feature adds itself without touching it.
 *
 * <p>A part adds what a user's own Hazelcast file ({@code cluster.hazelcast-xml}) does not configure already,
 * and nothing when its feature is off in {@code proxy}.
 */
public interface ClusterPart {

    /** Adds to an embedded member's configuration. */
    void configureMember(Config config, ProxyConfig proxy);

    /** Adds to a client's configuration. */
    void configureClient(ClientConfig config, ProxyConfig proxy);
}
