/**
 * Health checking: active checks on a timer, passive evidence from forwarded traffic, and the log of every
 * state change. The state machine itself (UP, DOWN, EJECTED, DRAINING, DISABLED, rise and fall, ejection) is
 * {@link dev.proxyfilter.balance.BackendHealth}.
 *
 * <h2>Starting points</h2>
 * {@link dev.proxyfilter.health.HealthChecker} (periodic {@code GET} to each backend of a pool with {@code
 * health.path}), {@link dev.proxyfilter.health.PassiveHealth} (responses and failures of real requests as
 * outlier evidence) and {@link dev.proxyfilter.health.HealthLog}.
 */
package dev.proxyfilter.health;
