package dev.proxyfilter.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Passive health checking (outlier ejection) of a pool, {@code pool.NAME.outlier.*}, after Envoy's
 * {@code consecutive_gateway_failure}: a backend that fails {@code consecutiveFailures} requests in a row
 * (connect failure, reset or timeout before the response, or a 502, 503 or 504 from it) is ejected for
 * {@code baseEjectionTime} times the number of times it has been ejected, at most ten times
 * {@code baseEjectionTime}. At most {@code maxEjectionPercent} of the pool is ejected at once, rounded
 * down, but one backend may always be ejected in a pool of two or more; a pool's only backend never is.
 *
 * @param consecutiveFailures failures in a row that eject, &gt;= 0; 0 turns ejection off
 * @param baseEjectionTime    how long a first ejection lasts, &gt; 0
 * @param maxEjectionPercent  share of the pool's backends that may be ejected at once, 0..100
 */
public record OutlierConfig(int consecutiveFailures, Duration baseEjectionTime, int maxEjectionPercent) {
    public static final int DEFAULT_CONSECUTIVE_FAILURES = 5;
    public static final Duration DEFAULT_BASE_EJECTION_TIME = Duration.ofSeconds(30);
    public static final int DEFAULT_MAX_EJECTION_PERCENT = 50;
    /** The defaults: eject after 5 failures for 30 s, at most half of the pool. */
    public static final OutlierConfig DEFAULT =
            new OutlierConfig(DEFAULT_CONSECUTIVE_FAILURES, DEFAULT_BASE_EJECTION_TIME, DEFAULT_MAX_EJECTION_PERCENT);
    /** No ejection. */
    public static final OutlierConfig OFF =
            new OutlierConfig(0, DEFAULT_BASE_EJECTION_TIME, DEFAULT_MAX_EJECTION_PERCENT);

    public OutlierConfig {
        Objects.requireNonNull(baseEjectionTime, "baseEjectionTime");
        if (consecutiveFailures < 0) {
            throw new IllegalArgumentException("consecutiveFailures: " + consecutiveFailures + " (expected: >= 0)");
        }
        if (baseEjectionTime.isNegative() || baseEjectionTime.isZero()) {
            throw new IllegalArgumentException("baseEjectionTime: " + baseEjectionTime + " (expected: > 0)");
        }
        if (maxEjectionPercent < 0 || maxEjectionPercent > 100) {
            throw new IllegalArgumentException("maxEjectionPercent: " + maxEjectionPercent + " (expected: 0..100)");
        }
    }

    /** Whether backends are ejected at all. */
    public boolean enabled() {
        return consecutiveFailures > 0 && maxEjectionPercent > 0;
    }
}
