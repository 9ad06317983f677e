/**
 * Starting points: {@link dev.proxyfilter.cache.hazelcast.HazelcastSharedCache}, the response cache shared by
 * a cluster of instances ({@code cache.store=shared}): this instance's tiers in front of a Hazelcast map, with
 * cluster-wide coalescing and invalidation; {@link dev.proxyfilter.cache.hazelcast.SharedCachePart}, the
 * Hazelcast configuration it needs (serializer, map size, near cache).
 *
 * <p>Inside: {@code HazelcastResponseStore} (the shared tier, every call bounded by
 * {@code cache.shared-timeout}), {@code HazelcastFillClaims} (leases on filling a key) and
 * {@link dev.proxyfilter.cache.hazelcast.StoreEntrySerializer} (entries in {@code ResponseCodec} form). The HTTP
 * logic that uses them, {@code TieredResponseStore} and {@code ClusterCoalescing}, is in
 * {@code dev.proxyfilter.cache} and knows no Hazelcast. With {@code dev.proxyfilter.cluster..}, the only package
 * that imports {@code com.hazelcast}; the engine loads it by name.
 */
package dev.proxyfilter.cache.hazelcast;
