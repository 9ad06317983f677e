package dev.proxyfilter.balance;

import dev.proxyfilter.time.ProxyClock;
import java.util.concurrent.TimeUnit;

/**
 * A backend's latency as an exponentially weighted moving average of its responses, which decays toward
 * 0 while no response comes.
 *
 * <h2>Reports</h2>
 * Each report moves the average a tenth of the way to it ({@code alpha =} {@value #ALPHA}), so the
 * average speaks for roughly the last ten responses: after a backend slows down, the average covers
 * half the way to its new latency within seven responses, and one outlier (a GC pause) is forgotten as
 * fast. The first ten
 * reports are averaged evenly instead ({@code alpha = 1/n}), so that the very first response, often slow
 * on a cold connection, does not weigh for more than its share.
 *
 * <p>Why per response and not per unit of time, as Finagle's {@code PeakEwma} (which also takes any
 * higher report at once) does: with a time constant the first report, or one outlier, decides the
 * average for that long whatever comes after it, and the backends of a proxy that just started would
 * be judged by their cold starts for tens of seconds. Per response, evidence counts as soon as it
 * arrives; what a time constant buys, an average that means the same at any request rate, matters less
 * here than recovering fast.
 *
 * <h2>Idle decay</h2>
 * Read at time {@code t}, the average is multiplied by {@code 2^(-(t - last report) / 10 s)}: it decays
 * toward 0 with a {@value #IDLE_HALF_LIFE_SECONDS} s half-life while no report comes. A backend that was
 * slow and then got little traffic thus looks better and better until it is tried again, instead of
 * starving on stale numbers forever. Under steady traffic reports come far more often than that and the
 * decay is negligible. A report is blended with the undecayed average: the decay was an incentive to
 * probe, not a measurement.
 *
 * <h2>Threads</h2>
 * Reports are serialised by a lock; reads take none. A writer sets the time before the value and a
 * reader reads the value before the time, so a read racing a report sees either the new pair or the old
 * value with a newer time, that is, the previous average decayed a little less than it should be.
 */
final class LatencyEwma {
    static final double ALPHA = 0.1;
    static final int IDLE_HALF_LIFE_SECONDS = 10;
    private static final double IDLE_TAU_NANOS = TimeUnit.SECONDS.toNanos(IDLE_HALF_LIFE_SECONDS) / Math.log(2);
    /** Reports after which {@code 1/n} falls to {@link #ALPHA}. */
    private static final int WARM_UP = (int) Math.round(1 / ALPHA);

    private final ProxyClock clock;
    private final Object lock = new Object();
    /** Reports so far, up to {@link #WARM_UP}; guarded by {@link #lock}. */
    private int reports;
    /** Nanoseconds; NaN until the first report. */
    private volatile double value = Double.NaN;
    /** Clock reading of the last report. */
    private volatile long stamp;

    LatencyEwma(ProxyClock clock) {
        this.clock = clock;
    }

    long now() {
        return clock.nanoTime();
    }

    void observe(long latencyNanos) {
        double sample = Math.max(0, latencyNanos);
        synchronized (lock) {
            if (reports < WARM_UP) {
                reports++;
            }
            double current = value;
            double next = Double.isNaN(current) ? sample : current + (sample - current) / Math.min(reports, WARM_UP);
            stamp = clock.nanoTime();
            value = next;
        }
    }

    /** The average as of {@code now}, or NaN before the first report. */
    double valueAt(long now) {
        double current = value;
        if (Double.isNaN(current)) {
            return current;
        }
        long idle = now - stamp;
        return idle <= 0 ? current : current * Math.exp(-idle / IDLE_TAU_NANOS);
    }
}
