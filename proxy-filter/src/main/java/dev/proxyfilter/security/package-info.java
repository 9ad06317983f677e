/**
 * Starting points: {@link dev.proxyfilter.security.RouteGuard}, the security step of a route in the order
 * it runs (client identity, access rules, rate limits, concurrency cap, authentication), which answers
 * an {@link dev.proxyfilter.security.Admission}; {@link dev.proxyfilter.security.Security}, which builds
 * a guard per route from the configuration; {@link dev.proxyfilter.security.ClientIdentity}, who the
 * client is behind trusted proxies; and {@link dev.proxyfilter.security.ResponseHygiene}, what every
 * response loses and gains.
 *
 * <p>The request is read through {@link dev.proxyfilter.security.ClientRequest}, a plain interface the
 * engine implements, so this package has no servlet or server code. Time comes from the engine's
 * {@link dev.proxyfilter.time.ProxyClock}: its wall clock for JWT expiry, its nanosecond ticker for token
 * buckets and tables (as Bucket4j's {@code TimeMeter} and Caffeine's {@code Ticker}); tests move it by hand.
 *
 * <p>In a cluster whose rate limits hold cluster-wide, the buckets come from a
 * {@link dev.proxyfilter.security.SharedBuckets} the engine hands over (implemented on Hazelcast in the cluster
 * packages; this package never names a cluster type): {@link dev.proxyfilter.security.RateLimiter} asks it
 * first, for at most its timeout, and falls back to its own buckets. Concurrency caps stay per instance.
 *
 * <p>Depends on the JDK, {@code dev.proxyfilter.config}, {@code dev.proxyfilter.time}, Bucket4j (token
 * buckets), Caffeine (bounded tables), nimbus-jose-jwt (JWT and JWKS) and at.favre.lib:bcrypt (password
 * hashes).
 */
package dev.proxyfilter.security;
