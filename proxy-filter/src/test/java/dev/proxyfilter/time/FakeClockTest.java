package dev.proxyfilter.time;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.testing.FakeClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The tests' clock: both readings move together, only when told, from any thread. */
class FakeClockTest {
    @Test
    void standsStillUntilAdvancedThenMovesBothReadingsAlike() {
        FakeClock clock = new FakeClock();
        long nanos = clock.nanoTime();
        assertThat(clock.instant()).isEqualTo(FakeClock.START);
        assertThat(clock.nanoTime()).isEqualTo(nanos);

        clock.advance(Duration.ofMillis(1500)).advanceMillis(500);

        assertThat(clock.nanoTime() - nanos).isEqualTo(Duration.ofSeconds(2).toNanos());
        assertThat(clock.instant()).isEqualTo(FakeClock.START.plusSeconds(2));
        assertThat(clock.millis()).isEqualTo(FakeClock.START.toEpochMilli() + 2000);
        assertThat(clock.elapsed()).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void startsWhereItIsTold() {
        Instant start = Instant.parse("2025-01-01T00:00:00Z");
        assertThat(new FakeClock(start).advance(Duration.ofNanos(1)).instant()).isEqualTo(start.plusNanos(1));
    }

    @Test
    void advancesFromManyThreadsAddUp() throws Exception {
        FakeClock clock = new FakeClock();
        long start = clock.nanoTime();
        int threads = 4;
        int advances = 10_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < advances; i++) {
                        clock.advance(Duration.ofNanos(1));
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> future : done) {
                future.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(clock.nanoTime() - start).isEqualTo((long) threads * advances);
        assertThat(clock.instant()).isEqualTo(FakeClock.START.plusNanos((long) threads * advances));
    }
}
