package dev.proxyfilter.time;

import java.time.Instant;
import java.time.InstantSource;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * The one source of time of an engine: a wall clock ({@link InstantSource}) and a monotonic nanosecond
 * ticker ({@link #nanoTime()}), read by everything that depends on time.
 *
 * <p>Two readings because they answer two questions. The wall clock says what time it is, for what is
 * compared with times from outside: HTTP dates in the cache ({@code Date}, {@code Expires}, {@code Age}),
 * JWT {@code exp} and {@code nbf}. The ticker measures how long something took or has lasted, for
 * ejection times, slow-start ramps, latency averages, token buckets and timeouts; it never jumps when the
 * wall clock is stepped. Only differences of two {@link #nanoTime()} readings mean anything, as with
 * {@link System#nanoTime()}.
 *
 * <p>An engine gets one instance and hands it to every part that reads time, as Caffeine takes a
 * {@code Ticker} and Ehcache a {@code TimeSource}, so that a test moves all of them at once with a fake
 * clock and never sleeps. Production code uses {@link #system()}. Implementations are thread-safe.
 */
public interface ProxyClock extends InstantSource {
    /**
     * The monotonic time in nanoseconds, as {@link System#nanoTime()}: from an arbitrary origin, so that
     * only the difference of two readings of the same clock means anything.
     */
    long nanoTime();

    /** The system clocks: {@link Instant#now()} and {@link System#nanoTime()}. */
    static ProxyClock system() {
        return SystemClock.INSTANCE;
    }

    /**
     * A clock of two sources the caller keeps in step: for adapting code that still injects a
     * {@link java.time.Clock} and a nanosecond supplier separately.
     */
    static ProxyClock of(InstantSource wall, LongSupplier nanoTime) {
        Objects.requireNonNull(wall, "wall");
        Objects.requireNonNull(nanoTime, "nanoTime");
        return new ProxyClock() {
            @Override
            public long nanoTime() {
                return nanoTime.getAsLong();
            }

            @Override
            public Instant instant() {
                return wall.instant();
            }

            @Override
            public long millis() {
                return wall.millis();
            }

            @Override
            public String toString() {
                return "ProxyClock[" + wall + ", " + nanoTime + "]";
            }
        };
    }
}
