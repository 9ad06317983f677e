package dev.proxyfilter.balance;

import java.time.Duration;
import java.util.function.LongSupplier;

/** A nanosecond clock that moves only when told, after Caffeine's {@code FakeTicker}. */
final class FakeClock implements LongSupplier {
    private long nanos = 1_000_000_000L;

    @Override
    public long getAsLong() {
        return nanos;
    }

    FakeClock advance(Duration duration) {
        nanos += duration.toNanos();
        return this;
    }
}
