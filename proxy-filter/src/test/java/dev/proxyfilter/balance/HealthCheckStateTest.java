package dev.proxyfilter.balance;

import static dev.proxyfilter.balance.HealthPools.failChecks;
import static dev.proxyfilter.balance.HealthPools.passChecks;
import static dev.proxyfilter.balance.HealthPools.picks;
import static dev.proxyfilter.balance.HealthPools.primaries;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.ActiveCheckConfig;
import dev.proxyfilter.config.HealthConfig;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.testing.FakeClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Active checks: HAProxy's rise and fall, with no clock involved but for the time of the last check. */
class HealthCheckStateTest {
    private final FakeClock clock = new FakeClock();
    private final RecordingListener events = new RecordingListener();

    /** Checks with rise 2 and fall 3, no panic, so that a DOWN backend is simply out. */
    private BackendPool pool(int... weights) {
        return HealthPools.pool(
                clock,
                events,
                HealthConfig.DEFAULT.withCheck(ActiveCheckConfig.of("/health")).withPanicThreshold(0),
                StrategyName.ROUND_ROBIN,
                primaries(weights));
    }

    @Test
    void aBackendStartsUpAndGoesDownAfterFallFailedChecksInARow() {
        BackendPool pool = pool(1, 1);
        Backend a = pool.backends().get(0);
        assertThat(a.state()).isEqualTo(BackendState.UP);
        assertThat(a.health().reason()).isEqualTo("assumed healthy at start");

        failChecks(a, 2);
        passChecks(a, 1);
        failChecks(a, 2);
        assertThat(a.state()).as("a passed check starts the count again").isEqualTo(BackendState.UP);
        assertThat(events.take()).isEmpty();

        a.health().onProbeResult(false, "status 500");
        assertThat(a.state()).isEqualTo(BackendState.DOWN);
        assertThat(a.available()).isFalse();
        assertThat(a.health().reason()).isEqualTo("after 3 failed checks (last: status 500)");
        assertThat(events.take()).containsExactly("a: UP -> DOWN after 3 failed checks (last: status 500)");
        assertThat(picks(pool, 4)).isEqualTo("bbbb");

        failChecks(a, 10);
        assertThat(events.take()).as("down is down: no more events").isEmpty();
    }

    @Test
    void aDownBackendComesBackAfterRisePassedChecksInARow() {
        BackendPool pool = pool(1, 1);
        Backend a = pool.backends().get(0);
        failChecks(a, 3);
        events.take();

        passChecks(a, 1);
        failChecks(a, 1);
        passChecks(a, 1);
        assertThat(a.state()).as("a failed check starts the count again").isEqualTo(BackendState.DOWN);

        a.health().onProbeResult(true, "status 204");
        assertThat(a.state()).isEqualTo(BackendState.UP);
        assertThat(events.take()).containsExactly("a: DOWN -> UP after 2 passed checks (last: status 204)");
        assertThat(picks(pool, 4)).isEqualTo("abab");
    }

    @Test
    void riseAndFallOfOneFlipAtEachCheck() {
        BackendPool pool = HealthPools.pool(
                clock,
                events,
                HealthConfig.DEFAULT.withCheck(new ActiveCheckConfig(
                        "/h",
                        Duration.ofSeconds(1),
                        Duration.ofSeconds(1),
                        ActiveCheckConfig.DEFAULT_EXPECTED_STATUS,
                        1,
                        1)),
                StrategyName.ROUND_ROBIN,
                primaries(1, 1));
        Backend b = pool.backends().get(1);

        failChecks(b, 1);
        passChecks(b, 1);
        failChecks(b, 1);

        assertThat(events.take())
                .containsExactly(
                        "b: UP -> DOWN after 1 failed check (last: connect refused)",
                        "b: DOWN -> UP after 1 passed check (last: status 200)",
                        "b: UP -> DOWN after 1 failed check (last: connect refused)");
    }

    @Test
    void theLastCheckIsKeptWithItsTime() {
        Backend a = pool(1).backends().get(0);
        assertThat(a.health().lastCheck()).isEmpty();
        assertThat(a.health().sinceLastCheck()).isEmpty();

        a.health().onProbeResult(true, "status 200");
        clock.advance(Duration.ofMillis(1500));

        assertThat(a.health().lastCheck()).hasValue("passed: status 200");
        assertThat(a.health().sinceLastCheck()).hasValue(Duration.ofMillis(1500));
        assertThat(a.health().sinceChange()).isEqualTo(Duration.ofMillis(1500));
    }

    @Test
    void comingBackUpEndsAnEjectionToo() {
        BackendPool pool = pool(1, 1);
        Backend a = pool.backends().get(0);
        HealthPools.failRequests(a, 5);
        assertThat(a.state()).isEqualTo(BackendState.EJECTED);
        failChecks(a, 3);
        assertThat(a.state()).as("DOWN shows over EJECTED").isEqualTo(BackendState.DOWN);

        passChecks(a, 2);

        assertThat(a.state()).isEqualTo(BackendState.UP);
        assertThat(events.take())
                .containsExactly(
                        "a: UP -> EJECTED after 5 consecutive failures (last: gateway error: status 503); ejected for 30s",
                        "a: EJECTED -> DOWN after 3 failed checks (last: connect refused)",
                        "a: DOWN -> UP after 2 passed checks (last: status 200)");
    }

    @Test
    void aPoolWithoutCheckConfigStillTakesProbeResultsWithTheDefaultRiseAndFall() {
        Backend a = HealthPools.pool(clock, events, HealthConfig.DEFAULT, StrategyName.ROUND_ROBIN, primaries(1, 1))
                .backends()
                .get(0);

        failChecks(a, ActiveCheckConfig.DEFAULT_FALL);
        assertThat(a.state()).isEqualTo(BackendState.DOWN);
        passChecks(a, ActiveCheckConfig.DEFAULT_RISE);
        assertThat(a.state()).isEqualTo(BackendState.UP);
    }
}
