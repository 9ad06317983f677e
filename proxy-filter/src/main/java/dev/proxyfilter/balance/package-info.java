/**
 * Starting points: {@link dev.proxyfilter.balance.BackendPool}, whose
 * {@code select(request, exclude)} the forwarding engine calls for each attempt, and which adds session
 * affinity by cookie on top of any strategy; {@link dev.proxyfilter.balance.Backend}, a backend's address
 * and its run-time state (in-flight requests, latency average, weight, availability);
 * {@link dev.proxyfilter.balance.Strategy}, the selection strategies behind static factories
 * (weighted round-robin, round-robin, random, least request, response time, consistent hash); and
 * {@link dev.proxyfilter.balance.RequestView}, all a strategy may read of the request. For health:
 * {@link dev.proxyfilter.balance.BackendHealth} (active checks' rise and fall, outlier ejection, slow start,
 * drain) and the pool's {@link dev.proxyfilter.balance.PoolMode} (backups, panic), whose changes go to a
 * {@link dev.proxyfilter.balance.HealthListener}.
 *
 * <p>Every selector is thread-safe and allocates nothing per pick; time (for the latency average,
 * ejections, slow start and the times health reports) comes from the {@link dev.proxyfilter.time.ProxyClock}
 * the pool is built with, and randomness from a supplier that tests seed.
 *
 * <p>Depends on the JDK, {@code dev.proxyfilter.config} and {@code dev.proxyfilter.time} only.
 */
package dev.proxyfilter.balance;
