package dev.proxyfilter.balance;

import static dev.proxyfilter.balance.HealthPools.failChecks;
import static dev.proxyfilter.balance.HealthPools.failRequests;
import static dev.proxyfilter.balance.HealthPools.picks;
import static dev.proxyfilter.balance.HealthPools.primaries;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.HealthConfig;
import dev.proxyfilter.config.OutlierConfig;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.testing.FakeClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Passive checks: ejection after failures in a row, its growing length, its cap; time from a fake clock. */
class OutlierEjectionTest {
    private static final Duration BASE = Duration.ofSeconds(30);
    private static final Duration NANO = Duration.ofNanos(1);

    private final FakeClock clock = new FakeClock();
    private final RecordingListener events = new RecordingListener();

    /** Ejection after 3 failures, base 30 s, at most {@code maxPercent}; no panic. */
    private BackendPool pool(int maxPercent, int backends) {
        return HealthPools.pool(
                clock,
                events,
                HealthConfig.DEFAULT
                        .withOutlier(new OutlierConfig(3, BASE, maxPercent))
                        .withPanicThreshold(0),
                StrategyName.ROUND_ROBIN,
                primaries(java.util.Collections.nCopies(backends, 1).stream()
                        .mapToInt(Integer::intValue)
                        .toArray()));
    }

    @Test
    void failuresInARowEjectAndASuccessStartsTheCountAgain() {
        BackendPool pool = pool(50, 2);
        Backend a = pool.backends().get(0);

        failRequests(a, 2);
        a.health().onResponseStatus(200);
        failRequests(a, 2);
        assertThat(a.state()).isEqualTo(BackendState.UP);
        assertThat(a.health().consecutiveFailures()).isEqualTo(2);

        a.health().onFailure(FailureKind.CONNECT, "Connection refused");

        assertThat(a.state()).isEqualTo(BackendState.EJECTED);
        assertThat(a.health().consecutiveFailures()).isZero();
        assertThat(events.take())
                .containsExactly("a: UP -> EJECTED after 3 consecutive failures"
                        + " (last: connect failed: Connection refused); ejected for 30s");
        assertThat(picks(pool, 3)).isEqualTo("bbb");
    }

    @Test
    void onlyGatewayErrorsCountAmongResponses() {
        Backend a = pool(50, 2).backends().get(0);

        for (int status : new int[] {500, 501, 404, 200, 429, 505}) {
            a.health().onResponseStatus(status);
            a.health().onResponseStatus(502);
            a.health().onResponseStatus(504);
        }
        assertThat(a.state())
                .as("each run of two is broken by a non-gateway status")
                .isEqualTo(BackendState.UP);

        a.health().onFailure(FailureKind.TIMEOUT, null);
        assertThat(a.state()).isEqualTo(BackendState.EJECTED);
        assertThat(a.health().reason()).isEqualTo("after 3 consecutive failures (last: timeout); ejected for 30s");
    }

    @Test
    void anEjectedBackendIsReadmittedWhenItsTimeIsOverNotBefore() {
        BackendPool pool = pool(50, 2);
        Backend a = pool.backends().get(0);
        failRequests(a, 3);
        events.take();

        clock.advance(BASE.minus(NANO));
        assertThat(picks(pool, 2)).isEqualTo("bb");
        assertThat(a.state()).isEqualTo(BackendState.EJECTED);

        clock.advance(NANO);
        assertThat(picks(pool, 2)).as("readmitted by the next pick").isEqualTo("ab");
        assertThat(a.state()).isEqualTo(BackendState.UP);
        assertThat(events.take()).containsExactly("a: EJECTED -> UP after its ejection of 30s");
        assertThat(picks(pool, 2)).isEqualTo("ab");
        assertThat(events.take()).as("readmitted once").isEmpty();
    }

    @Test
    void readmissionIsAlsoSeenByStateWithoutAPick() {
        Backend a = pool(50, 2).backends().get(0);
        failRequests(a, 3);

        clock.advance(BASE);

        assertThat(a.state()).isEqualTo(BackendState.UP);
        assertThat(a.health().reason()).isEqualTo("after its ejection of 30s");
    }

    @Test
    void eachEjectionInARowLastsOneBaseLongerUpToTenTimes() {
        Backend a = pool(50, 2).backends().get(0);
        for (int n = 1; n <= 12; n++) {
            failRequests(a, 3);
            Duration expected = BASE.multipliedBy(Math.min(n, 10));
            assertThat(a.health().reason())
                    .as("ejection %d", n)
                    .endsWith("ejected for " + PoolHealth.format(expected.toNanos()));
            clock.advance(expected.minus(NANO));
            assertThat(a.state()).as("ejection %d", n).isEqualTo(BackendState.EJECTED);
            clock.advance(NANO);
            assertThat(a.state()).as("ejection %d", n).isEqualTo(BackendState.UP);
        }
        assertThat(PoolHealth.format(BASE.multipliedBy(10).toNanos())).isEqualTo("5m");
    }

    @Test
    void theCountOfEjectionsDropsByOneForEachBaseTimeSpentReadmitted() {
        Backend a = pool(50, 2).backends().get(0);
        for (int n = 1; n <= 3; n++) {
            failRequests(a, 3);
            clock.advance(BASE.multipliedBy(n));
            a.state();
        }
        // Three ejections so far; two base times of good behaviour take two off: the next lasts 2 x 30 s.
        clock.advance(BASE.multipliedBy(2).plus(Duration.ofSeconds(29)));
        failRequests(a, 3);
        assertThat(a.health().reason()).endsWith("ejected for 1m");

        // Long after, a failure starts from one again.
        clock.advance(Duration.ofHours(1));
        a.state();
        failRequests(a, 3);
        assertThat(a.health().reason()).endsWith("ejected for 30s");
    }

    @Test
    void atMostMaxEjectionPercentOfThePoolIsEjectedRoundedDown() {
        BackendPool pool = pool(50, 5);
        for (Backend backend : pool.backends()) {
            failRequests(backend, 3);
        }

        assertThat(pool.backends())
                .extracting(Backend::state)
                .containsExactly(
                        BackendState.EJECTED, BackendState.EJECTED, BackendState.UP, BackendState.UP, BackendState.UP);
        Backend c = pool.backends().get(2);
        assertThat(c.health().consecutiveFailures())
                .as("kept, so that the next failure tries again")
                .isEqualTo(3);

        clock.advance(BASE);
        assertThat(pool.backends().get(0).state()).isEqualTo(BackendState.UP);
        c.health().onResponseStatus(503);
        assertThat(c.state()).as("room again after a readmission").isEqualTo(BackendState.EJECTED);
    }

    @Test
    void oneBackendMayAlwaysBeEjectedFromAPoolOfTwoOrMore() {
        BackendPool two = pool(10, 2);
        failRequests(two.backends().get(0), 3);
        failRequests(two.backends().get(1), 3);

        assertThat(two.backends()).extracting(Backend::state).containsExactly(BackendState.EJECTED, BackendState.UP);
    }

    @Test
    void aLoneBackendIsNeverEjected() {
        Backend only = pool(100, 1).backends().get(0);

        failRequests(only, 30);

        assertThat(only.state()).isEqualTo(BackendState.UP);
    }

    @Test
    void zeroFailuresOrZeroPercentTurnEjectionOff() {
        Backend off = HealthPools.pool(
                        clock,
                        events,
                        HealthConfig.DEFAULT.withOutlier(OutlierConfig.OFF),
                        StrategyName.ROUND_ROBIN,
                        primaries(1, 1))
                .backends()
                .get(0);
        Backend capped = pool(0, 4).backends().get(0);

        failRequests(off, 100);
        failRequests(capped, 100);

        assertThat(off.state()).isEqualTo(BackendState.UP);
        assertThat(capped.state()).isEqualTo(BackendState.UP);
        assertThat(off.health().consecutiveFailures()).as("not even counted").isZero();
    }

    @Test
    void onlyAnUpBackendCountsFailures() {
        BackendPool pool = pool(50, 4);
        Backend a = pool.backends().get(0);
        Backend b = pool.backends().get(1);
        failChecks(a, 3);
        b.drain();

        failRequests(a, 10);
        failRequests(b, 10);

        assertThat(a.health().consecutiveFailures()).isZero();
        assertThat(b.health().consecutiveFailures()).isZero();
        assertThat(pool.backends())
                .extracting(Backend::state)
                .containsExactly(BackendState.DOWN, BackendState.DRAINING, BackendState.UP, BackendState.UP);
    }

    @Test
    void theDefaultsEjectAfterFiveFailuresForThirtySeconds() {
        BackendPool pool =
                HealthPools.pool(clock, events, HealthConfig.DEFAULT, StrategyName.ROUND_ROBIN, primaries(1, 1));
        Backend a = pool.backends().get(0);

        failRequests(a, 4);
        assertThat(a.state()).isEqualTo(BackendState.UP);
        failRequests(a, 1);
        assertThat(a.state()).isEqualTo(BackendState.EJECTED);
        clock.advance(Duration.ofSeconds(30));
        assertThat(a.state()).isEqualTo(BackendState.UP);
    }
}
