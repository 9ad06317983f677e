package dev.proxyfilter.testing;

import dev.proxyfilter.time.ProxyClock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link ProxyClock} that moves only when told, after Caffeine's {@code FakeTicker}: the wall clock and
 * the nanosecond ticker advance together, so that anything built on it (a pool's ejections and slow
 * start, the cache's freshness, token buckets, JWT expiry, metrics' rates) moves at once, without sleeping.
 *
 * <p>Thread-safe: the time is one atomic count of nanoseconds, so a reader on any thread sees the wall
 * clock and the ticker of the same moment, before or after a concurrent {@link #advance}.
 */
public final class FakeClock implements ProxyClock {
    /** Where the wall clock starts unless told otherwise: a fixed instant, far from any epoch edge. */
    public static final Instant START = Instant.parse("2030-01-01T00:00:00Z");

    /** The ticker's reading at {@link #START}: arbitrary, as {@link System#nanoTime()}'s origin is. */
    private static final long ORIGIN_NANOS = 1_000_000_000L;

    private final Instant start;
    private final AtomicLong elapsedNanos = new AtomicLong();

    /** A clock at {@link #START}. */
    public FakeClock() {
        this(START);
    }

    /** A clock whose wall clock reads {@code start} until it is advanced. */
    public FakeClock(Instant start) {
        this.start = start;
    }

    /**
     * Moves both clocks by {@code duration}. A negative duration moves them back, which a real ticker never
     * does; only tests of that robustness want it.
     */
    public FakeClock advance(Duration duration) {
        elapsedNanos.addAndGet(duration.toNanos());
        return this;
    }

    /** {@link #advance(Duration)} by that many milliseconds. */
    public FakeClock advanceMillis(long millis) {
        return advance(Duration.ofMillis(millis));
    }

    /** How far the clock has moved since it was made. */
    public Duration elapsed() {
        return Duration.ofNanos(elapsedNanos.get());
    }

    @Override
    public long nanoTime() {
        return ORIGIN_NANOS + elapsedNanos.get();
    }

    @Override
    public Instant instant() {
        return start.plusNanos(elapsedNanos.get());
    }

    @Override
    public String toString() {
        return "FakeClock[" + instant() + "]";
    }
}
