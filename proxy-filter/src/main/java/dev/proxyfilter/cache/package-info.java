/**
 * Starting points: {@link dev.proxyfilter.cache.HttpCache}, the shared HTTP cache as the forwarding pipeline
 * calls it, step by step; {@link dev.proxyfilter.cache.CachePolicy}, the RFC 9111 rules (storing, freshness,
 * age, request and response directives, RFC 5861 stale extensions) as pure functions with the time passed in;
 * {@link dev.proxyfilter.cache.CacheKeys}, the keys (effective URI plus {@code Vary}-selected headers, nothing
 * else); and {@link dev.proxyfilter.cache.ResponseStore}, the storage interface.
 *
 * <p>Around them: {@link dev.proxyfilter.cache.Conditionals} (validation, 304 freshening, the client's own
 * conditions), {@link dev.proxyfilter.cache.ByteRanges} (ranges, {@code multipart/byteranges}),
 * {@link dev.proxyfilter.cache.PartialContent} (stored 206 pieces, combined as RFC 9111 §3.4 says),
 * {@link dev.proxyfilter.cache.Invalidation} (after unsafe methods), {@link dev.proxyfilter.cache.CacheStatus}
 * (the RFC 9211 field), {@link dev.proxyfilter.cache.Coalescer} (one backend request for concurrent misses),
 * {@link dev.proxyfilter.cache.BodyBuffer} (collects a body up to the per-entry limit) and
 * {@link dev.proxyfilter.cache.ResponseCodec} (the byte form of entries for off-heap and disk tiers).
 *
 * <p>Several instances sharing one cache ({@code cache.store=shared}): {@link dev.proxyfilter.cache.SharedCache}
 * is what the cluster gives the cache; {@link dev.proxyfilter.cache.TieredResponseStore} puts this instance's
 * tiers in front of the shared one; {@code ClusterCoalescing}, through {@link dev.proxyfilter.cache.FillClaims},
 * coalesces misses across instances. None of them knows Hazelcast: the implementation is in
 * {@code dev.proxyfilter.cache.hazelcast}.
 *
 * <p>No servlet and no server here: headers are Jetty's {@code HttpFields} from {@code jetty-http}, as in the
 * engine. Every time-dependent call takes {@code nowMillis}, read by the caller from the engine's
 * {@link dev.proxyfilter.time.ProxyClock} that {@link dev.proxyfilter.cache.HttpCache#clock()} holds. Depends on
 * the JDK, {@code jetty-http}, {@code dev.proxyfilter.config} and {@code dev.proxyfilter.time}; the Ehcache
 * store lives in
 * {@code dev.proxyfilter.cache.ehcache}, the only package that imports {@code org.ehcache}, the shared tier in
 * {@code dev.proxyfilter.cache.hazelcast}.
 */
package dev.proxyfilter.cache;
