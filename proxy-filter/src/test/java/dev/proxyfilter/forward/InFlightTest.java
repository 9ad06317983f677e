package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The engine's in-flight count: waiting for zero wakes on the last end, and gives up at the timeout. */
@Timeout(30)
class InFlightTest {
    private final InFlight inFlight = new InFlight();

    @Test
    void idleAtOnceWithNothingInFlight() throws Exception {
        assertThat(inFlight.awaitIdle(Duration.ZERO)).isTrue();
        inFlight.begin();
        inFlight.end();
        assertThat(inFlight.count()).isZero();
        assertThat(inFlight.awaitIdle(Duration.ZERO)).isTrue();
    }

    @Test
    void givesUpAtTheTimeout() throws Exception {
        inFlight.begin();
        long start = System.nanoTime();

        assertThat(inFlight.awaitIdle(Duration.ofMillis(100))).isFalse();

        assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(100));
        assertThat(inFlight.count()).isEqualTo(1);
    }

    @Test
    void theLastEndWakesTheWaiter() throws Exception {
        inFlight.begin();
        inFlight.begin();
        CountDownLatch waiting = new CountDownLatch(1);
        CompletableFuture<Boolean> idle = CompletableFuture.supplyAsync(() -> {
            waiting.countDown();
            try {
                return inFlight.awaitIdle(Duration.ofSeconds(20));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(waiting.await(5, TimeUnit.SECONDS)).isTrue();

        inFlight.end();
        assertThat(idle).isNotDone(); // one is left
        long start = System.nanoTime();
        inFlight.end();

        assertThat(idle.get(5, TimeUnit.SECONDS)).isTrue();
        assertThat(System.nanoTime() - start).as("woken, not timed out").isLessThan(TimeUnit.SECONDS.toNanos(5));
    }

    /** Many threads begin and end while one waits: it sees zero once they are all done, never a lost wake-up. */
    @Test
    void concurrentBeginsAndEndsEndAtZero() throws Exception {
        inFlight.begin(); // held until the workers are done, so that the waiter really waits
        CompletableFuture<Boolean> idle = CompletableFuture.supplyAsync(() -> {
            try {
                return inFlight.awaitIdle(Duration.ofSeconds(20));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread worker = new Thread(() -> {
                for (int i = 0; i < 20_000; i++) {
                    inFlight.begin();
                    inFlight.end();
                }
            });
            workers.add(worker);
            worker.start();
        }
        for (Thread worker : workers) {
            worker.join(10_000);
        }
        assertThat(idle).isNotDone();

        inFlight.end();

        assertThat(idle.get(5, TimeUnit.SECONDS)).isTrue();
        assertThat(inFlight.count()).isZero();
    }
}
