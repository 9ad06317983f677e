package dev.proxyfilter.balance;

import static dev.proxyfilter.balance.HealthPools.counts;
import static dev.proxyfilter.balance.HealthPools.failChecks;
import static dev.proxyfilter.balance.HealthPools.failRequests;
import static dev.proxyfilter.balance.HealthPools.passChecks;
import static dev.proxyfilter.balance.HealthPools.primaries;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.proxyfilter.config.HealthConfig;
import dev.proxyfilter.config.OutlierConfig;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.testing.FakeClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Slow start: a backend that comes back ramps from 10% to all of its weight, in ten steps, on a fake clock. */
class SlowStartTest {
    /** Nine seconds: one step per second after the first. */
    private static final Duration RAMP = Duration.ofSeconds(9);

    private final FakeClock clock = new FakeClock();
    private final RecordingListener events = new RecordingListener();

    private BackendPool pool(StrategyName strategy, int... weights) {
        return HealthPools.pool(
                clock,
                events,
                HealthConfig.DEFAULT
                        .withSlowStart(RAMP)
                        .withPanicThreshold(0)
                        .withOutlier(new OutlierConfig(1, Duration.ofSeconds(5), 50)),
                strategy,
                primaries(weights));
    }

    @Test
    void aBackendThatComesBackRampsLinearlyFromTenPercentInTenSteps() {
        BackendPool pool = pool(StrategyName.WEIGHTED_ROUND_ROBIN, 1, 3);
        Backend a = pool.backends().get(0);
        Backend b = pool.backends().get(1);
        assertThat(b.effectiveWeight())
                .as("no ramp at start: weights scaled by the 10 steps")
                .isEqualTo(30);
        assertThat(b.health().weightPercent()).isEqualTo(100);

        failChecks(a, 3);
        failChecks(b, 3);
        passChecks(a, 2);
        passChecks(b, 2);

        int[] weightsOfA = new int[11];
        int[] weightsOfB = new int[11];
        int[] percents = new int[11];
        for (int second = 0; second <= 10; second++) {
            weightsOfA[second] = a.effectiveWeight();
            weightsOfB[second] = b.effectiveWeight();
            percents[second] = b.health().weightPercent();
            clock.advance(Duration.ofSeconds(1));
        }
        assertThat(weightsOfA).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10);
        assertThat(weightsOfB).containsExactly(3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 30);
        assertThat(percents).containsExactly(10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 100);
        assertThat(b.weight()).as("the configured weight does not move").isEqualTo(3);
    }

    @Test
    void stepsChangeExactlyAtTheirTime() {
        Backend a = pool(StrategyName.ROUND_ROBIN, 1, 1).backends().get(0);
        a.disable();
        a.enable();

        clock.advance(Duration.ofSeconds(1).minusNanos(1));
        assertThat(a.effectiveWeight()).isEqualTo(1);
        clock.advance(Duration.ofNanos(1));
        assertThat(a.effectiveWeight()).isEqualTo(2);
        clock.advance(Duration.ofSeconds(8).minusNanos(1));
        assertThat(a.effectiveWeight()).isEqualTo(9);
        clock.advance(Duration.ofNanos(1));
        assertThat(a.effectiveWeight()).isEqualTo(10);
    }

    @Test
    void weightedRoundRobinFollowsTheRampWithoutStarvingTheNewcomer() {
        BackendPool pool = pool(StrategyName.WEIGHTED_ROUND_ROBIN, 1, 1);
        Backend b = pool.backends().get(1);
        b.disable();
        b.enable();

        // 10 : 1 at first, a whole cycle of 11 picks between two steps.
        assertThat(counts(pool, 11)).containsExactly(10, 1);
        clock.advance(Duration.ofMillis(4500));
        // Step 5: 10 : 5.
        assertThat(counts(pool, 15)).containsExactly(10, 5);
        clock.advance(RAMP);
        assertThat(counts(pool, 20)).containsExactly(10, 10);
    }

    @Test
    void rampsFollowReadmissionAndEnablingButNotAnUnchangedState() {
        BackendPool pool = pool(StrategyName.ROUND_ROBIN, 1, 1);
        Backend a = pool.backends().get(0);

        failRequests(a, 1);
        clock.advance(Duration.ofSeconds(5));
        assertThat(a.state()).isEqualTo(BackendState.UP);
        assertThat(a.health().weightPercent()).as("readmitted").isEqualTo(10);
        clock.advance(RAMP);
        assertThat(a.health().weightPercent()).isEqualTo(100);

        a.drain();
        a.enable();
        assertThat(a.health().weightPercent()).as("enabled again").isEqualTo(10);
        clock.advance(RAMP);

        passChecks(a, 5);
        a.enable();
        assertThat(a.health().weightPercent()).as("nothing came back").isEqualTo(100);
    }

    @Test
    void withoutSlowStartWeightsAreUnscaled() {
        BackendPool pool =
                HealthPools.pool(clock, events, HealthConfig.DEFAULT, StrategyName.ROUND_ROBIN, primaries(3));
        Backend a = pool.backends().get(0);
        a.disable();
        a.enable();

        assertThat(a.effectiveWeight()).isEqualTo(3);
        assertThat(a.health().weightPercent()).isEqualTo(100);
        a.weight(Integer.MAX_VALUE);
        assertThat(a.effectiveWeight()).isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void withSlowStartAWeightThatCannotBeScaledIsRejected() {
        Backend a = pool(StrategyName.ROUND_ROBIN, 1).backends().get(0);

        a.weight(HealthConfig.MAX_WEIGHT_WITH_SLOW_START);
        assertThat(a.effectiveWeight()).isEqualTo(HealthConfig.MAX_WEIGHT_WITH_SLOW_START * 10);
        assertThatThrownBy(() -> a.weight(HealthConfig.MAX_WEIGHT_WITH_SLOW_START + 1))
                .hasMessage("weight: 214748365 (expected: 0..214748364 with slow start)");
    }
}
