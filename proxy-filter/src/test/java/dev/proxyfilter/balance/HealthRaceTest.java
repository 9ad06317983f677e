package dev.proxyfilter.balance;

import static dev.proxyfilter.balance.HealthPools.primaries;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.ActiveCheckConfig;
import dev.proxyfilter.config.HealthConfig;
import dev.proxyfilter.config.OutlierConfig;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.testing.FakeClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Request threads, checks and an operator change health at once: the ejection cap holds, and each
 * backend's events form one unbroken chain of changes that ends in its state, so none is lost or
 * reported twice.
 */
@Timeout(60)
class HealthRaceTest {
    private static final int THREADS = 4;
    private static final int ROUNDS = 20_000;
    private static final Pattern EVENT = Pattern.compile("([a-z]): ([A-Z]+) -> ([A-Z]+) .*");

    private final ExecutorService threads = Executors.newFixedThreadPool(THREADS);

    @AfterEach
    void stop() throws InterruptedException {
        threads.shutdownNow();
        assertThat(threads.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void concurrentReportsKeepTheCapAndReportEveryChangeOnce() throws Exception {
        RecordingListener events = new RecordingListener();
        // A clock that never moves: nothing is readmitted, so the cap must hold to the end.
        BackendPool pool = HealthPools.pool(
                new FakeClock(),
                events,
                HealthConfig.DEFAULT
                        .withCheck(ActiveCheckConfig.of("/health"))
                        .withOutlier(new OutlierConfig(3, Duration.ofSeconds(30), 30)),
                StrategyName.LEAST_REQUEST,
                primaries(1, 1, 1, 1, 1, 1, 1, 1, 1, 1));
        List<Backend> backends = pool.backends();
        CyclicBarrier start = new CyclicBarrier(THREADS);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            long seed = t;
            done.add(threads.submit(() -> {
                SplittableRandom random = new SplittableRandom(seed);
                start.await();
                for (int i = 0; i < ROUNDS; i++) {
                    Backend backend = backends.get(random.nextInt(backends.size()));
                    switch (random.nextInt(8)) {
                        case 0 -> backend.health().onProbeResult(random.nextBoolean(), "race");
                        case 1 -> backend.health().onSuccess();
                        case 2 -> {
                            if (random.nextBoolean()) {
                                backend.drain();
                            } else {
                                backend.enable();
                            }
                        }
                        case 3 -> pool.select(null);
                        default -> backend.health().onResponseStatus(503);
                    }
                }
                return null;
            }));
        }
        for (Future<?> future : done) {
            future.get(30, TimeUnit.SECONDS);
        }

        long ejected = backends.stream().filter(b -> b.health().ejected()).count();
        assertThat(ejected).as("30% of 10").isLessThanOrEqualTo(3);

        Map<String, BackendState> last = new HashMap<>();
        for (String event : events.take()) {
            Matcher matcher = EVENT.matcher(event);
            if (!matcher.matches()) {
                assertThat(event).startsWith("pool web: ");
                continue;
            }
            BackendState from = BackendState.valueOf(matcher.group(2));
            BackendState to = BackendState.valueOf(matcher.group(3));
            assertThat(from).as(event).isNotEqualTo(to);
            assertThat(from)
                    .as("chain of %s", matcher.group(1))
                    .isEqualTo(last.getOrDefault(matcher.group(1), BackendState.UP));
            last.put(matcher.group(1), to);
        }
        for (Backend backend : backends) {
            assertThat(backend.state())
                    .as(backend.name())
                    .isEqualTo(last.getOrDefault(backend.name(), BackendState.UP));
        }
        assertThat(last).as("the race did change states").isNotEmpty();
    }
}
