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
 * <p>No servlet and no server here: headers are Jetty's {@code HttpFields} from {@code jetty-http}, as in the
 * engine. Every time-dependent call takes {@code nowMillis}, read by the caller from the engine's
 * {@link dev.proxyfilter.time.ProxyClock} that {@link dev.proxyfilter.cache.HttpCache#clock()} holds. Depends on
 * the JDK, {@code jetty-http}, {@code dev.proxyfilter.config} and {@code dev.proxyfilter.time}; the Ehcache
 * store lives in
 * {@code dev.proxyfilter.cache.ehcache}, the only package that imports {@code org.ehcache}.
 */
package dev.proxyfilter.cache;
