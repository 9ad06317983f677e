package dev.proxyfilter.balance;

import dev.proxyfilter.config.HealthConfig;
import dev.proxyfilter.config.OutlierConfig;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The health of one backend: what active checks, request outcomes and the operator have made of it, as
 * one {@link BackendState}, and the slow-start ramp that follows its return.
 *
 * <h2>Inputs</h2>
 * <ul>
 * <li><b>Active checks</b> ({@link #onProbeResult}): HAProxy's rise and fall. The backend starts UP; while
 *     UP, {@code fall} failed checks in a row take it DOWN, and a passed check starts the count again;
 *     while DOWN, {@code rise} passed checks in a row bring it back. Coming back also ends an ejection:
 *     the failures that caused it predate the outage.</li>
 * <li><b>Request outcomes</b> ({@link #onSuccess}, {@link #onFailure}): outlier ejection. Only a backend
 *     that is UP counts failures, so that requests a DOWN backend gets in panic, or that were in flight
 *     when it left, do not pile up. {@code consecutive-failures} in a row eject it for
 *     {@code base-ejection-time} times its number of recent ejections, at most
 *     10 times; that number drops by one for each base time it
 *     spends readmitted, so that a backend that failed once long ago starts again from one. When the
 *     pool's cap is reached the backend stays in, and its next failure tries again. Readmission is lazy:
 *     the next pick, {@link #state()} or health check after the time is over.</li>
 * <li><b>The operator</b> ({@link Backend#drain()}, {@link Backend#disable()}, {@link Backend#enable()}).</li>
 * </ul>
 * The three are independent flags; {@link #state()} shows the one that matters most, in the order
 * DISABLED, DRAINING, DOWN, EJECTED, UP. Each change of that state is reported once to the pool's
 * {@link HealthListener}, with its reason.
 *
 * <h2>Slow start</h2>
 * When the pool has {@code slow-start}, a backend that becomes UP again (after DOWN, an ejection, a drain
 * or a disable; not at start-up, when all start together) ramps its selection weight linearly from 10% to
 * 100% of its weight over that time, in {@value HealthConfig#SLOW_START_STEPS} steps. Steps rather than
 * a smooth curve keep the weight stable between them, so that weighted round-robin, which restarts its
 * cycle whenever a weight changes, restarts ten times per ramp instead of at every pick.
 *
 * <p>Thread-safe. Every change takes the pool's health lock; reads take none.
 */
public final class BackendHealth {
    static final int DOWN = 1;
    static final int EJECTED = 2;
    static final int DRAINING = 4;
    static final int DISABLED = 8;
    private static final long NOT_RAMPING = Long.MIN_VALUE;

    private final Backend backend;
    /** The health of the pool this backend is in; changes only when a reload carries the backend over. */
    private volatile PoolHealth pool;
    /** DOWN, EJECTED, DRAINING and DISABLED bits; written under the pool's lock. */
    private volatile int flags;

    // Active checks, guarded by the pool's lock.
    private int passedChecks;
    private int failedChecks;
    private volatile long lastCheckAt;
    private volatile String lastCheck;

    // Outlier ejection. The counter is read without the lock so that a success after a success is free.
    private volatile int consecutiveFailures;
    private volatile long ejectedAt;
    private volatile long ejectionNanos;
    private int ejections;
    private long readmittedAt;
    private boolean readmitted;

    private volatile String reason = "assumed healthy at start";
    private volatile long changedAt;
    private final AtomicLong rampStart = new AtomicLong(NOT_RAMPING);

    BackendHealth(Backend backend, PoolHealth pool) {
        this.backend = backend;
        this.pool = pool;
        this.changedAt = pool.now();
    }

    PoolHealth poolHealth() {
        return pool;
    }

    /**
     * Moves this health into the next generation of its pool, keeping every flag, count and ramp. The two
     * generations share one lock (see {@link PoolHealth#lock}), taken here, so that no change of health
     * interleaves with the move. Slow start that the new pool does not have ends at once.
     */
    void moveTo(PoolHealth next) {
        synchronized (next.lock) {
            pool = next;
            if (next.slowStartNanos() <= 0) {
                rampStart.set(NOT_RAMPING);
            }
        }
    }

    /**
     * Starts the slow-start ramp of a backend that a reload added to a running pool, as if it had come
     * back: it joins the others gradually instead of taking its full share at once. No effect without
     * slow start.
     */
    void startRamp() {
        if (pool.slowStartNanos() > 0) {
            rampStart.set(pool.now());
        }
    }

    /** Drains a backend that a reload removed from its pool, with that reason. */
    void retire() {
        synchronized (pool.lock) {
            change(flags | DRAINING, "on removal from the configuration", pool.now());
        }
    }

    // ---- State, for selection and for operators ----

    /** The backend's state now; readmits it first if its ejection is over. */
    public BackendState state() {
        if ((flags & EJECTED) != 0) {
            readmitIfDue(pool.now());
        }
        return stateOf(flags);
    }

    /** Why the state last changed, e.g. {@code after 3 failed checks (last: connect refused)}. */
    public String reason() {
        return reason;
    }

    /** Time since the state last changed (or since the pool was built). */
    public Duration sinceChange() {
        return Duration.ofNanos(Math.max(0, pool.now() - changedAt));
    }

    /** Time since the last active check finished; empty before the first one or without checks. */
    public Optional<Duration> sinceLastCheck() {
        String check = lastCheck;
        return check == null ? Optional.empty() : Optional.of(Duration.ofNanos(Math.max(0, pool.now() - lastCheckAt)));
    }

    /** The outcome of the last active check, e.g. {@code passed: status 200} or {@code failed: connect refused}. */
    public Optional<String> lastCheck() {
        return Optional.ofNullable(lastCheck);
    }

    /** Failed requests in a row counted towards ejection. */
    public int consecutiveFailures() {
        return consecutiveFailures;
    }

    /** The share of its weight the backend gets now, 10 to 100: below 100 while it ramps up after coming back. */
    public int weightPercent() {
        return pool.weightScale() == 1 ? 100 : rampSteps() * 100 / HealthConfig.SLOW_START_STEPS;
    }

    static BackendState stateOf(int flags) {
        if ((flags & DISABLED) != 0) {
            return BackendState.DISABLED;
        }
        if ((flags & DRAINING) != 0) {
            return BackendState.DRAINING;
        }
        if ((flags & DOWN) != 0) {
            return BackendState.DOWN;
        }
        if ((flags & EJECTED) != 0) {
            return BackendState.EJECTED;
        }
        return BackendState.UP;
    }

    /** Neither draining nor disabled. */
    boolean inService() {
        return (flags & (DRAINING | DISABLED)) == 0;
    }

    /** Ejected, whatever else it is: the ejection cap counts these. */
    boolean ejected() {
        return (flags & EJECTED) != 0;
    }

    /** Neither DOWN nor ejected. */
    boolean healthy() {
        return (flags & (DOWN | EJECTED)) == 0;
    }

    /**
     * The weight a strategy uses for a backend of configured weight {@code weight} under the pool's mode:
     * 0 when it may not be picked now, else the weight scaled for slow start.
     */
    int selectionWeight(int weight, boolean backup) {
        int f = flags;
        if (weight == 0 || (f & (DRAINING | DISABLED)) != 0) {
            return 0;
        }
        boolean healthy = (f & (DOWN | EJECTED)) == 0;
        boolean eligible = switch (pool.mode()) {
            case NORMAL -> healthy && !backup;
            case BACKUP -> healthy;
            case PANIC -> !backup;
        };
        if (!eligible) {
            return 0;
        }
        int scale = pool.weightScale();
        return scale == 1 ? weight : weight * rampSteps();
    }

    /** 1 to {@link HealthConfig#SLOW_START_STEPS}: how far the slow-start ramp is; all of them when none runs. */
    private int rampSteps() {
        long start = rampStart.get();
        if (start == NOT_RAMPING) {
            return HealthConfig.SLOW_START_STEPS;
        }
        long elapsed = pool.now() - start;
        long duration = pool.slowStartNanos();
        if (elapsed >= duration) {
            // Only this ramp: a new one may have started since the read.
            rampStart.compareAndSet(start, NOT_RAMPING);
            return HealthConfig.SLOW_START_STEPS;
        }
        return 1 + (int) ((HealthConfig.SLOW_START_STEPS - 1) * (double) Math.max(0, elapsed) / duration);
    }

    // ---- Active checks ----

    /**
     * Reports one active check: {@code ok} if it passed. Clock-free rise and fall (see the class comment);
     * the time is only recorded for {@link #sinceLastCheck()}.
     *
     * @param result what the check saw, e.g. {@code status 200} or {@code connect refused}
     */
    public void onProbeResult(boolean ok, String result) {
        synchronized (pool.lock) {
            long now = pool.now();
            lastCheckAt = now;
            lastCheck = (ok ? "passed: " : "failed: ") + result;
            if (ok) {
                failedChecks = 0;
                if ((flags & DOWN) != 0 && ++passedChecks >= pool.rise()) {
                    passedChecks = 0;
                    consecutiveFailures = 0;
                    int next = flags & ~(DOWN | EJECTED);
                    if ((flags & EJECTED) != 0) {
                        readmittedAt = now;
                        readmitted = true;
                    }
                    change(next, "after " + count(pool.rise(), "passed check") + " (last: " + result + ")", now);
                }
            } else {
                passedChecks = 0;
                if ((flags & DOWN) == 0 && ++failedChecks >= pool.fall()) {
                    failedChecks = 0;
                    change(
                            flags | DOWN,
                            "after " + count(pool.fall(), "failed check") + " (last: " + result + ")",
                            now);
                }
            }
        }
    }

    // ---- Request outcomes ----

    /** Reports a response that is not a failure: the run of failures, if any, is over. */
    public void onSuccess() {
        if (consecutiveFailures == 0) {
            return;
        }
        synchronized (pool.lock) {
            consecutiveFailures = 0;
        }
    }

    /**
     * Reports a failed request; after {@code consecutive-failures} in a row the backend is ejected, if the
     * pool's cap allows.
     *
     * @param detail what happened, for the log, e.g. {@code Connection refused} or {@code status 503}
     */
    public void onFailure(FailureKind kind, String detail) {
        OutlierConfig outlier = pool.outlier();
        if (!outlier.enabled()) {
            return;
        }
        synchronized (pool.lock) {
            if (flags != 0) {
                return;
            }
            int failures = ++consecutiveFailures;
            if (failures < outlier.consecutiveFailures() || !pool.mayEject()) {
                return;
            }
            long now = pool.now();
            long base = pool.baseEjectionNanos();
            if (readmitted && ejections > 0) {
                ejections = (int) Math.max(0, ejections - (now - readmittedAt) / base);
            }
            ejections = Math.min(ejections + 1, PoolHealth.MAX_EJECTION_MULTIPLIER);
            long duration = base > Long.MAX_VALUE / ejections ? Long.MAX_VALUE : base * ejections;
            ejectionNanos = duration;
            ejectedAt = now;
            consecutiveFailures = 0;
            change(
                    flags | EJECTED,
                    "after " + failures + " consecutive failures (last: " + describe(kind, detail) + "); ejected for "
                            + PoolHealth.format(duration),
                    now);
        }
    }

    /** {@link #onFailure} for 502, 503 and 504, else {@link #onSuccess}. */
    public void onResponseStatus(int status) {
        if (FailureKind.isGatewayError(status)) {
            onFailure(FailureKind.GATEWAY_ERROR, "status " + status);
        } else {
            onSuccess();
        }
    }

    private static String describe(FailureKind kind, String detail) {
        String what = switch (kind) {
            case CONNECT -> "connect failed";
            case RESET -> "connection failed";
            case TIMEOUT -> "timeout";
            case GATEWAY_ERROR -> "gateway error";
        };
        return detail == null || detail.isEmpty() ? what : what + ": " + detail;
    }

    /** Readmits the backend if its ejection is over at {@code now}. */
    void readmitIfDue(long now) {
        if (!ejectionOver(now)) {
            return;
        }
        synchronized (pool.lock) {
            if (!ejectionOver(now)) {
                return;
            }
            // When the ejection ended, not when someone noticed: the decay of the count runs from there.
            readmittedAt = ejectedAt + ejectionNanos;
            readmitted = true;
            change(flags & ~EJECTED, "after its ejection of " + PoolHealth.format(ejectionNanos), now);
        }
    }

    private boolean ejectionOver(long now) {
        return (flags & EJECTED) != 0 && now - ejectedAt >= ejectionNanos;
    }

    // ---- The operator ----

    void drain() {
        admin(DRAINING, DISABLED);
    }

    void disable() {
        admin(DISABLED, DRAINING);
    }

    void enable() {
        admin(0, DRAINING | DISABLED);
    }

    private void admin(int set, int clear) {
        synchronized (pool.lock) {
            change((flags & ~clear) | set, "on operator request", pool.now());
        }
    }

    /** Weight 0 takes a backend out of the pool's counts, so the mode may change. */
    void weightChanged(int from, int to) {
        if ((from == 0) != (to == 0)) {
            synchronized (pool.lock) {
                pool.recompute();
            }
        }
    }

    // ---- Changes ----

    /** Sets the flags, reports a change of state once, starts slow start on a return, updates the mode. */
    private void change(int next, String why, long now) {
        int previous = flags;
        if (next == previous) {
            return;
        }
        flags = next;
        if ((previous & EJECTED) != (next & EJECTED)) {
            pool.ejectedChanged((next & EJECTED) != 0 ? 1 : -1);
        }
        BackendState from = stateOf(previous);
        BackendState to = stateOf(next);
        if (from != to) {
            reason = why;
            changedAt = now;
            if (to == BackendState.UP && pool.slowStartNanos() > 0) {
                rampStart.set(now);
            }
            pool.backendChanged(backend, from, to, why);
        }
        pool.recompute();
    }

    private static String count(int n, String what) {
        return n + " " + what + (n == 1 ? "" : "s");
    }

    @Override
    public String toString() {
        return backend.pool() + "/" + backend.name() + " " + stateOf(flags) + " (" + reason + ")";
    }
}
