package dev.proxyfilter.balance;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A backend's latency as a peak-sensitive exponentially weighted moving average with time-based decay,
 * after Finagle's {@code PeakEwma}.
 *
 * <p>A report above the average replaces it at once, so that a backend that slows down loses traffic
 * with its next response. A report below it is blended in as if its latency had lasted since the
 * previous report: with weight {@code 1 - exp(-dt / tau)}, {@code dt} being the time since that report and
 * the half-life {@code tau * ln 2} being {@value #HALF_LIFE_SECONDS} s. The average thus forgets by time,
 * not by number of reports, and means the same at 10 and at 10,000 requests a second: ten reports of the
 * same latency a second apart move it exactly as far as one report ten seconds after the last.
 *
 * <p>Read at time {@code t}, the average assumes the opposite about the time since the last report: that
 * its latency was 0. So it decays toward 0 while no report comes, and a backend that was slow once and
 * then got little traffic looks better and better until it is tried again, rather than starving on one
 * bad sample forever. The next report replaces that optimism with its own latency over the same time,
 * which may raise the average back above the decayed reading.
 *
 * <p>Reports are serialised by a lock; reads take none. A writer sets the time before the value and a
 * reader reads the value before the time, so a read racing a report sees either the new pair or the old
 * value with a newer time, that is, the previous average decayed a little less than it should be.
 */
final class LatencyEwma {
    static final int HALF_LIFE_SECONDS = 10;
    private static final double TAU_NANOS = TimeUnit.SECONDS.toNanos(HALF_LIFE_SECONDS) / Math.log(2);

    private final LongSupplier clock;
    private final Object lock = new Object();
    /** Nanoseconds; NaN until the first report. */
    private volatile double value = Double.NaN;
    /** Clock reading of the last report. */
    private volatile long stamp;

    LatencyEwma(LongSupplier clock) {
        this.clock = clock;
    }

    long now() {
        return clock.getAsLong();
    }

    void observe(long latencyNanos) {
        double sample = Math.max(0, latencyNanos);
        synchronized (lock) {
            long now = clock.getAsLong();
            double current = value;
            double next;
            if (Double.isNaN(current) || sample >= current) {
                next = sample;
            } else {
                double w = decay(now - stamp);
                next = current * w + sample * (1 - w);
            }
            stamp = now;
            value = next;
        }
    }

    /** The average as of {@code now}, or NaN before the first report. */
    double valueAt(long now) {
        double current = value;
        if (Double.isNaN(current)) {
            return current;
        }
        return current * decay(now - stamp);
    }

    /** The weight the past keeps after {@code elapsedNanos}: 1 at 0, 1/2 after a half-life. */
    private static double decay(long elapsedNanos) {
        return elapsedNanos <= 0 ? 1 : Math.exp(-elapsedNanos / TAU_NANOS);
    }
}
