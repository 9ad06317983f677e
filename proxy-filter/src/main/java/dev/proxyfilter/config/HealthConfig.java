package dev.proxyfilter.config;

import java.time.Duration;
import java.util.Objects;

/**
 * How a pool judges and protects its backends: active checks, outlier ejection, panic mode and slow
 * start. Backups ({@link BackendConfig#backup()}) are per backend.
 *
 * <p>Which backends a pool picks from, in order (see {@code dev.proxyfilter.balance.BackendPool}):
 * <ol>
 * <li>the healthy primary backends, while at least {@code panicThresholdPercent} of the primaries in
 *     service are healthy (and at least one is);</li>
 * <li>otherwise, while a backup is healthy: the healthy primaries and the healthy backups together;</li>
 * <li>otherwise, panic (unless the threshold is 0): every primary in service, healthy or not, as Envoy
 *     does, on the grounds that sending to all beats overloading the few left or answering 503.</li>
 * </ol>
 * "In service" means weight above 0, neither draining nor disabled; "healthy" means in service, not DOWN
 * by checks and not ejected.
 *
 * @param check                 active health checks, or {@code null} for none
 * @param outlier               outlier ejection
 * @param panicThresholdPercent below this share of healthy primaries, 0..100, the pool panics; 0 never
 * @param slowStart             a backend coming back (UP again after DOWN or ejection, or enabled again)
 *                              ramps from 10% to 100% of its weight over this long; {@link Duration#ZERO}
 *                              for no ramp
 */
public record HealthConfig(
        ActiveCheckConfig check, OutlierConfig outlier, int panicThresholdPercent, Duration slowStart) {
    public static final int DEFAULT_PANIC_THRESHOLD_PERCENT = 50;
    public static final Duration DEFAULT_SLOW_START = Duration.ZERO;
    /**
     * With slow start, weights are multiplied by this many steps internally so that even a backend of
     * weight 1 can ramp (HAProxy scales weights by 16 for the same reason): the largest weight a pool with
     * slow start accepts is {@link #MAX_WEIGHT_WITH_SLOW_START}.
     */
    public static final int SLOW_START_STEPS = 10;

    public static final int MAX_WEIGHT_WITH_SLOW_START = Integer.MAX_VALUE / SLOW_START_STEPS;
    /** No checks, default outlier ejection, panic below 50%, no slow start. */
    public static final HealthConfig DEFAULT =
            new HealthConfig(null, OutlierConfig.DEFAULT, DEFAULT_PANIC_THRESHOLD_PERCENT, DEFAULT_SLOW_START);

    public HealthConfig {
        Objects.requireNonNull(outlier, "outlier");
        Objects.requireNonNull(slowStart, "slowStart");
        if (panicThresholdPercent < 0 || panicThresholdPercent > 100) {
            throw new IllegalArgumentException(
                    "panicThresholdPercent: " + panicThresholdPercent + " (expected: 0..100)");
        }
        if (slowStart.isNegative()) {
            throw new IllegalArgumentException("slowStart: " + slowStart + " (expected: >= 0)");
        }
    }

    /** This configuration with active checks {@code check} (null for none). */
    public HealthConfig withCheck(ActiveCheckConfig check) {
        return new HealthConfig(check, outlier, panicThresholdPercent, slowStart);
    }

    /** This configuration with outlier ejection {@code outlier}. */
    public HealthConfig withOutlier(OutlierConfig outlier) {
        return new HealthConfig(check, outlier, panicThresholdPercent, slowStart);
    }

    /** This configuration with panic below {@code percent} healthy primaries (0 never). */
    public HealthConfig withPanicThreshold(int percent) {
        return new HealthConfig(check, outlier, percent, slowStart);
    }

    /** This configuration with slow start over {@code slowStart} (zero for none). */
    public HealthConfig withSlowStart(Duration slowStart) {
        return new HealthConfig(check, outlier, panicThresholdPercent, slowStart);
    }
}
