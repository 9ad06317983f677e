package dev.proxyfilter.balance;

import static dev.proxyfilter.balance.HealthPools.primaries;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.ActiveCheckConfig;
import dev.proxyfilter.config.BackendConfig;
import dev.proxyfilter.config.HealthConfig;
import dev.proxyfilter.config.OutlierConfig;
import dev.proxyfilter.config.PoolConfig;
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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A reload carries a pool's backends into a new pool while request threads, checks and an operator change
 * their health: no change is lost or reported twice, the ejection cap holds across generations, and the
 * last pool counts exactly the backends that are ejected.
 */
@Timeout(60)
class CarryOverRaceTest {
    private static final int THREADS = 3;
    private static final int GENERATIONS = 200;
    private static final int MAX_ROUNDS = 200_000;
    private static final Pattern EVENT = Pattern.compile("([a-z]): ([A-Z]+) -> ([A-Z]+) .*");

    private final ExecutorService threads = Executors.newFixedThreadPool(THREADS);

    @AfterEach
    void stop() throws InterruptedException {
        threads.shutdownNow();
        assertThat(threads.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void healthChangesDuringCarryOversAreNeitherLostNorDoubled() throws Exception {
        RecordingListener events = new RecordingListener();
        HealthConfig health = HealthConfig.DEFAULT
                .withCheck(ActiveCheckConfig.of("/health"))
                .withOutlier(new OutlierConfig(3, Duration.ofSeconds(30), 30));
        List<BackendConfig> configs = primaries(1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        BackendPool first = HealthPools.pool(new FakeClock(), events, health, StrategyName.LEAST_REQUEST, configs);
        List<Backend> backends = first.backends();
        BackendPool[] pool = {first};
        AtomicBoolean running = new AtomicBoolean(true);
        CyclicBarrier start = new CyclicBarrier(THREADS + 1);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            long seed = t;
            done.add(threads.submit(() -> {
                SplittableRandom random = new SplittableRandom(seed);
                start.await();
                for (int i = 0; i < MAX_ROUNDS && running.get(); i++) {
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
                        default -> backend.health().onResponseStatus(503);
                    }
                }
                return null;
            }));
        }
        start.await();
        for (int g = 1; g <= GENERATIONS; g++) {
            // Same backends, weights 1 or 2: every generation carries all ten over.
            List<BackendConfig> next = new ArrayList<>();
            for (BackendConfig c : configs) {
                next.add(new BackendConfig(c.name(), c.url(), 1 + g % 2));
            }
            pool[0] = new BackendPool(
                    new PoolConfig("web", StrategyName.LEAST_REQUEST, next, null, null, health), events, pool[0]);
        }
        running.set(false);
        for (Future<?> future : done) {
            future.get(30, TimeUnit.SECONDS);
        }

        BackendPool last = pool[0];
        for (int i = 0; i < backends.size(); i++) {
            assertThat(last.backends().get(i)).isSameAs(backends.get(i));
            assertThat(backends.get(i).health().poolHealth())
                    .isSameAs(last.backends().get(0).health().poolHealth());
        }
        long ejected = backends.stream().filter(b -> b.health().ejected()).count();
        assertThat(ejected).as("30% of 10").isLessThanOrEqualTo(3);
        assertThat(last.backends().get(0).health().poolHealth().ejectedCount()).isEqualTo((int) ejected);

        Map<String, BackendState> chain = new HashMap<>();
        for (String event : events.take()) {
            Matcher matcher = EVENT.matcher(event);
            if (!matcher.matches()) {
                continue;
            }
            BackendState from = BackendState.valueOf(matcher.group(2));
            BackendState to = BackendState.valueOf(matcher.group(3));
            assertThat(from)
                    .as("chain of %s", matcher.group(1))
                    .isEqualTo(chain.getOrDefault(matcher.group(1), BackendState.UP));
            chain.put(matcher.group(1), to);
        }
        for (Backend backend : backends) {
            assertThat(backend.state())
                    .as(backend.name())
                    .isEqualTo(chain.getOrDefault(backend.name(), BackendState.UP));
        }
        assertThat(chain).as("the race did change states").isNotEmpty();
    }
}
