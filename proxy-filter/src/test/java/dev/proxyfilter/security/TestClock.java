package dev.proxyfilter.security;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.function.LongSupplier;

/** A wall clock and a nanosecond clock that move together, only when told (Caffeine's FakeTicker). */
final class TestClock extends Clock implements LongSupplier {
    private Instant now = Instant.parse("2030-01-01T00:00:00Z");
    private long nanos = 1_000_000_000L;

    TestClock advance(Duration duration) {
        now = now.plus(duration);
        nanos += duration.toNanos();
        return this;
    }

    @Override
    public long getAsLong() {
        return nanos;
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }

    @Override
    public Instant instant() {
        return now;
    }
}
