package dev.proxyfilter.balance;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Selectors and backend counters under concurrent request threads; every total is exact. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class StrategyRaceTest {
    private static final int THREADS = 2;
    private static final int PICKS = 100_000;

    private final AtomicInteger threadIds = new AtomicInteger();
    private final ExecutorService pickers = Executors.newFixedThreadPool(THREADS + 1,
            r -> new Thread(r, "race-picker-" + threadIds.incrementAndGet()));

    @AfterEach
    void stopPickers() throws InterruptedException {
        pickers.shutdownNow();
        assertThat(pickers.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }

    /** Runs {@code THREADS} x {@code PICKS} picks started together; counts per backend index, plus nulls last. */
    private long[] race(BackendSelector selector, List<Backend> backends) throws Exception {
        CyclicBarrier start = new CyclicBarrier(THREADS);
        List<Future<long[]>> results = new java.util.ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            results.add(pickers.submit(() -> {
                long[] counts = new long[backends.size() + 1];
                start.await();
                for (int i = 0; i < PICKS; i++) {
                    Backend picked = selector.select(null);
                    counts[picked == null ? backends.size() : backends.indexOf(picked)]++;
                }
                return counts;
            }));
        }
        long[] totals = new long[backends.size() + 1];
        for (Future<long[]> result : results) {
            long[] counts = result.get(20, TimeUnit.SECONDS);
            for (int i = 0; i < totals.length; i++) {
                totals[i] += counts[i];
            }
        }
        return totals;
    }

    @Test
    void weightedRoundRobinIsExactUnderContention() throws Exception {
        List<Backend> backends = StrategyTest.backends(3, 1);

        long[] totals = race(Strategy.weightedRoundRobin().newSelector(backends), backends);

        assertThat(totals).containsExactly(150_000, 50_000, 0);
    }

    @Test
    void roundRobinIsExactUnderContention() throws Exception {
        List<Backend> backends = StrategyTest.backends(3, 1);

        long[] totals = race(Strategy.roundRobin().newSelector(backends), backends);

        assertThat(totals).containsExactly(100_000, 100_000, 0);
    }

    @Test
    void picksStayValidWhileHealthFlips() throws Exception {
        List<Backend> backends = StrategyTest.backends(3, 1, 2);
        Backend flapping = backends.get(2);
        AtomicBoolean done = new AtomicBoolean();
        Future<?> flipper = pickers.submit(() -> {
            while (!done.get()) {
                flapping.available(!flapping.available());
                flapping.weight(flapping.weight() == 2 ? 5 : 2);
                Thread.yield();
            }
        });

        try {
            for (Strategy strategy : List.of(Strategy.weightedRoundRobin(), Strategy.roundRobin(),
                    Strategy.random())) {
                long[] totals = race(strategy.newSelector(backends), backends);

                assertThat(totals[0] + totals[1] + totals[2]).as("%s picks", strategy).isEqualTo(THREADS * PICKS);
                assertThat(totals[3]).as("%s nulls", strategy).isZero();
                assertThat(totals[0]).as("%s picks of a", strategy).isPositive();
                assertThat(totals[1]).as("%s picks of b", strategy).isPositive();
            }
        } finally {
            done.set(true);
        }
        flipper.get(10, TimeUnit.SECONDS);
    }

    @Test
    void inFlightCountsEveryStartAndEnd() throws Exception {
        Backend backend = StrategyTest.backends(1).get(0);
        CyclicBarrier start = new CyclicBarrier(THREADS);
        List<Future<?>> results = new java.util.ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            results.add(pickers.submit(() -> {
                start.await();
                for (int i = 0; i < PICKS; i++) {
                    backend.onRequestStart();
                    backend.onRequestStart();
                    backend.onRequestEnd();
                }
                return null;
            }));
        }
        for (Future<?> result : results) {
            result.get(20, TimeUnit.SECONDS);
        }

        assertThat(backend.inFlight()).isEqualTo(THREADS * PICKS);
    }
}
