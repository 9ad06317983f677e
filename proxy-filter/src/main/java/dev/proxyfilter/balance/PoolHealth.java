package dev.proxyfilter.balance;

import dev.proxyfilter.config.ActiveCheckConfig;
import dev.proxyfilter.config.HealthConfig;
import dev.proxyfilter.config.OutlierConfig;
import dev.proxyfilter.time.ProxyClock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What the backends of one pool share for their health: the configuration, the clock, the listener, the
 * lock every change of health takes, and the pool's {@link PoolMode}, recomputed after each change.
 *
 * <p>One lock per pool rather than per backend because two decisions depend on the other backends: the
 * ejection cap (how many are ejected already) and the mode (how many are healthy). Changes are rare; the
 * hot path reads volatile fields and takes no lock: a pick reads the mode and each backend's flags, a
 * successful response takes the lock only when it resets a run of failures.
 */
final class PoolHealth {
    /** An ejection lasts at most this many times the base ejection time. */
    static final int MAX_EJECTION_MULTIPLIER = 10;

    private final String pool;
    private final HealthConfig config;
    private final ProxyClock clock;
    private final HealthListener listener;
    private final long baseEjectionNanos;
    private final long slowStartNanos;
    private final int weightScale;
    private final int rise;
    private final int fall;
    /**
     * Shared by every generation of the pool across configuration reloads, so that a backend carried over
     * into a new pool (see {@link BackendHealth#moveTo}) is never guarded by two locks at once.
     */
    final Object lock;
    /** Set once, right after the pool's backends are built. */
    private volatile List<Backend> backends = List.of();

    private volatile PoolMode mode = PoolMode.NORMAL;
    /** Backends ejected now; guarded by {@link #lock}, read without it so that a pick skips readmission. */
    private volatile int ejected;

    PoolHealth(String pool, HealthConfig config, ProxyClock clock, HealthListener listener) {
        this(pool, config, clock, listener, new Object());
    }

    /** A pool's health that takes over the lock of the previous generation of the same pool. */
    PoolHealth(String pool, HealthConfig config, ProxyClock clock, HealthListener listener, Object lock) {
        this.lock = lock;
        this.pool = pool;
        this.config = config;
        this.clock = Objects.requireNonNull(clock, "clock");
        this.listener = listener;
        this.baseEjectionNanos = nanos(config.outlier().baseEjectionTime());
        this.slowStartNanos = nanos(config.slowStart());
        this.weightScale = slowStartNanos > 0 ? HealthConfig.SLOW_START_STEPS : 1;
        ActiveCheckConfig check = config.check();
        this.rise = check == null ? ActiveCheckConfig.DEFAULT_RISE : check.rise();
        this.fall = check == null ? ActiveCheckConfig.DEFAULT_FALL : check.fall();
    }

    /**
     * For a backend built on its own, outside a pool: default health, but no panic (a pool of one
     * cannot spread anything), and nobody listening.
     */
    static PoolHealth standalone(String pool, ProxyClock clock) {
        return new PoolHealth(pool, HealthConfig.DEFAULT.withPanicThreshold(0), clock, HealthListener.NONE);
    }

    void attach(List<Backend> backends) {
        this.backends = List.copyOf(backends);
    }

    /**
     * Attaches backends some of which come from a previous generation of the pool with their health:
     * counts the ejected ones for the cap and decides the mode. Under {@link #lock}.
     */
    void adopt(List<Backend> backends) {
        this.backends = List.copyOf(backends);
        int count = 0;
        for (Backend backend : backends) {
            if (backend.health().ejected()) {
                count++;
            }
        }
        ejected = count;
        recompute();
    }

    /** The pool's clock, which its backends' latency averages read too. */
    ProxyClock clock() {
        return clock;
    }

    String pool() {
        return pool;
    }

    HealthConfig config() {
        return config;
    }

    OutlierConfig outlier() {
        return config.outlier();
    }

    /** {@link ProxyClock#nanoTime()}: every time of health (ejections, ramps, changes) is on this ticker. */
    long now() {
        return clock.nanoTime();
    }

    int rise() {
        return rise;
    }

    int fall() {
        return fall;
    }

    long baseEjectionNanos() {
        return baseEjectionNanos;
    }

    long slowStartNanos() {
        return slowStartNanos;
    }

    /** What selection weights are multiplied by: the slow-start steps when slow start is on, else 1. */
    int weightScale() {
        return weightScale;
    }

    PoolMode mode() {
        return mode;
    }

    /** Readmits the backends whose ejection is over; cheap when none is ejected. */
    void refresh() {
        if (ejected == 0) {
            return;
        }
        long now = clock.nanoTime();
        for (Backend backend : backends) {
            backend.health().readmitIfDue(now);
        }
    }

    /**
     * Whether one more backend may be ejected: fewer than {@code max-ejection-percent} of the pool,
     * rounded down, are ejected, where the cap is at least one in a pool of two or more. A lone backend
     * is never ejected: that would only turn its errors into the proxy's 503s. Under {@link #lock}.
     */
    boolean mayEject() {
        int size = backends.size();
        if (size < 2) {
            return false;
        }
        int allowed = Math.max(1, size * config.outlier().maxEjectionPercent() / 100);
        return ejected < allowed;
    }

    /** Backends the pool counts as ejected, for the cap. */
    int ejectedCount() {
        return ejected;
    }

    /** Under {@link #lock}. */
    void ejectedChanged(int delta) {
        ejected += delta;
    }

    /** Under {@link #lock}. */
    void backendChanged(Backend backend, BackendState from, BackendState to, String reason) {
        listener.backendChanged(backend, from, to, reason);
    }

    /**
     * Decides the mode from the backends' flags and weights, after a change of either; under {@link #lock}.
     * See {@link BackendPool} for the rules.
     */
    void recompute() {
        int inService = 0;
        int healthy = 0;
        boolean healthyBackup = false;
        for (Backend backend : backends) {
            if (backend.weight() == 0 || !backend.health().inService()) {
                continue;
            }
            boolean up = backend.health().healthy();
            if (backend.backup()) {
                healthyBackup |= up;
            } else {
                inService++;
                if (up) {
                    healthy++;
                }
            }
        }
        int threshold = config.panicThresholdPercent();
        boolean below = (long) healthy * 100 < (long) threshold * inService;
        PoolMode next = healthy > 0 && !below
                ? PoolMode.NORMAL
                : healthyBackup ? PoolMode.BACKUP : below ? PoolMode.PANIC : PoolMode.NORMAL;
        PoolMode previous = mode;
        if (next == previous) {
            return;
        }
        mode = next;
        String counts = healthy + " of " + inService + " primary backends healthy";
        String reason = switch (next) {
            case NORMAL -> counts;
            case BACKUP ->
                counts + (healthy > 0 ? ", below the panic threshold of " + threshold + "%" : "")
                        + "; healthy backups stand in";
            case PANIC ->
                counts + ", below the panic threshold of " + threshold + "%, and no backup healthy: picking among all "
                        + inService;
        };
        listener.poolModeChanged(pool, previous, next, reason);
    }

    /** {@code duration} in nanoseconds, saturating instead of overflowing past some 292 years. */
    static long nanos(Duration duration) {
        try {
            return duration.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /** A duration for messages: {@code 300ms}, {@code 30s}, {@code 5m}. */
    static String format(long nanos) {
        long millis = nanos / 1_000_000;
        if (millis % 60_000 == 0 && millis >= 60_000) {
            return millis / 60_000 + "m";
        }
        if (millis % 1000 == 0 && millis > 0) {
            return millis / 1000 + "s";
        }
        return millis + "ms";
    }
}
