/**
 * Starting points: {@link dev.proxyfilter.cluster.hazelcast.HazelcastCluster}, the
 * {@link dev.proxyfilter.cluster.Cluster} on Hazelcast 5 (an embedded member or a client, TCP-IP discovery, the
 * properties every instance gets), and {@link dev.proxyfilter.cluster.hazelcast.ClusterPart}, the
 * {@link java.util.ServiceLoader} extension through which a feature adds its maps, near caches and serializers
 * before the instance starts. {@link dev.proxyfilter.cluster.hazelcast.HazelcastBuckets} keeps the token buckets
 * of cluster-wide rate limits (Bucket4j's distributed core, an entry processor per command on an embedded member,
 * compare-and-swap for a client), with {@link dev.proxyfilter.cluster.hazelcast.RateLimitPart} its configuration.
 *
 * <p>With {@code dev.proxyfilter.cache.hazelcast}, the only packages that import {@code com.hazelcast}; nothing
 * outside them refers to either by type, only by name.
 */
package dev.proxyfilter.cluster.hazelcast;
