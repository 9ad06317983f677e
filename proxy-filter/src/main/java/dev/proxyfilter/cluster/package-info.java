/**
 * Starting points: {@link dev.proxyfilter.cluster.Cluster}, this instance's part in a cluster of proxy
 * instances as Hazelcast-free code sees it (node ids, membership, topics), and
 * {@link dev.proxyfilter.cluster.Cluster#start}, which loads the Hazelcast implementation by name;
 * {@link dev.proxyfilter.cluster.hazelcast.HazelcastCluster} is that implementation.
 *
 * <p>A single instance ({@code cluster.enabled} unset or false) never touches this package's implementation,
 * so no Hazelcast class loads. Only {@code dev.proxyfilter.cluster..} and {@code dev.proxyfilter.cache.hazelcast}
 * may import {@code com.hazelcast}; the engine reaches both by name only.
 */
package dev.proxyfilter.cluster;
