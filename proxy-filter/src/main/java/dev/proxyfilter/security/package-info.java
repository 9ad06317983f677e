/**
 * Starting points: {@link dev.proxyfilter.security.RouteGuard}, the security step of a route in the order
 * it runs (client identity, access rules, rate limits, concurrency cap, authentication), which answers
 * an {@link dev.proxyfilter.security.Admission}; {@link dev.proxyfilter.security.Security}, which builds
 * a guard per route from the configuration; {@link dev.proxyfilter.security.ClientIdentity}, who the
 * client is behind trusted proxies; and {@link dev.proxyfilter.security.ResponseHygiene}, what every
 * response loses and gains.
 *
 * <p>The request is read through {@link dev.proxyfilter.security.ClientRequest}, a plain interface the
 * engine implements, so this package has no servlet or server code. Time is injected: a
 * {@link java.time.Clock} for JWT expiry, a nanosecond {@link java.util.function.LongSupplier} for token
 * buckets and tables; tests move both by hand.
 *
 * <p>Depends on the JDK, {@code dev.proxyfilter.config}, Bucket4j (token buckets), Caffeine (bounded
 * tables), nimbus-jose-jwt (JWT and JWKS) and at.favre.lib:bcrypt (password hashes).
 */
package dev.proxyfilter.security;
