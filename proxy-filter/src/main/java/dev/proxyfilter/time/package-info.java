/**
 * Starting points: {@link dev.proxyfilter.time.ProxyClock}, the engine's one source of time (a wall clock
 * and a monotonic nanosecond ticker), and {@link dev.proxyfilter.time.ProxyClock#system()}, the one that
 * production code uses.
 *
 * <p>Every package that reads time takes a {@code ProxyClock} where it is built (pools and their health,
 * the cache, rate limits and authentication, metrics) and defaults to the system clock when none is
 * given; tests pass a fake one and move it by hand instead of sleeping. Adapters to libraries' own clock
 * types (Caffeine's {@code Ticker}, Bucket4j's {@code TimeMeter}, Dropwizard's {@code Clock}) live with the
 * code that uses those libraries, so that this package depends on the JDK alone and any package may use
 * it.
 */
package dev.proxyfilter.time;
