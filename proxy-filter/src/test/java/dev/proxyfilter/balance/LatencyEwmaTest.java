package dev.proxyfilter.balance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.proxyfilter.config.BackendConfig;
import dev.proxyfilter.testing.FakeClock;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The latency average behind {@link Strategy#responseTime()}, on a fake clock. */
class LatencyEwmaTest {
    private static final double MS = 1_000_000;

    private final FakeClock clock = new FakeClock();
    private final Backend backend = new Backend("p", new BackendConfig("a", URI.create("http://a.internal"), 1), clock);

    private void report(double millis, int times) {
        for (int i = 0; i < times; i++) {
            backend.onResponse((long) (millis * MS));
        }
    }

    private double millis() {
        return backend.latencyNanos() / MS;
    }

    @Test
    void unknownUntilTheFirstReportWhichItTakesAsIs() {
        assertThat(backend.latencyNanos()).isNaN();

        report(40, 1);

        assertThat(millis()).isEqualTo(40);
    }

    @Test
    void theFirstTenReportsCountEvenlySoAColdStartDoesNotDominate() {
        report(500, 1);
        report(5, 9);

        assertThat(millis()).isCloseTo(54.5, within(1e-9));
    }

    @Test
    void thenEachReportMovesTheAverageATenthOfTheWay() {
        report(10, 10);

        report(110, 1);

        assertThat(millis()).isCloseTo(20, within(1e-9));
    }

    @Test
    void aSlowdownShowsWithinAFewResponses() {
        report(10, 10);

        report(100, 7);

        // 10 + 90 * (1 - 0.9^7)
        assertThat(millis()).isCloseTo(56.95, within(0.01));
    }

    @Test
    void anOutlierIsForgottenAsFast() {
        report(1, 10);
        report(1_000, 1);
        assertThat(millis()).isCloseTo(100.9, within(1e-9));

        report(1, 30);

        assertThat(millis()).isLessThan(6);
    }

    @Test
    void decaysTowardZeroWhileNoReportComesSoThatAnIdleBackendIsTriedAgain() {
        report(100, 10);

        clock.advance(Duration.ofSeconds(10));
        assertThat(millis()).isCloseTo(50, within(1e-6));
        clock.advance(Duration.ofSeconds(10));
        assertThat(millis()).isCloseTo(25, within(1e-6));

        // A report is blended with the undecayed average: the decay was no measurement.
        report(100, 1);
        assertThat(millis()).isCloseTo(100, within(1e-9));
    }

    @Test
    void negativeReportsCountAsZero() {
        report(10, 10);

        backend.onResponse(-5);

        assertThat(millis()).isCloseTo(9, within(1e-9));
    }

    @Test
    void aClockThatGoesBackDoesNotRaiseTheAverage() {
        report(100, 1);
        clock.advance(Duration.ofSeconds(-5));

        assertThat(millis()).isEqualTo(100);
    }
}
