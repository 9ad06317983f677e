package dev.proxyfilter.balance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.proxyfilter.config.BackendConfig;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The latency average behind {@link Strategy#responseTime()}, on a fake clock. */
class LatencyEwmaTest {
    private static final double MS = 1_000_000;

    private final FakeClock clock = new FakeClock();
    private final Backend backend = new Backend("p", new BackendConfig("a", URI.create("http://a.internal"), 1), clock);

    private void report(double millis) {
        backend.onResponse((long) (millis * MS));
    }

    private double millis() {
        return backend.latencyNanos() / MS;
    }

    @Test
    void unknownUntilTheFirstReportWhichItTakesAsIs() {
        assertThat(backend.latencyNanos()).isNaN();

        report(40);

        assertThat(millis()).isEqualTo(40);
    }

    @Test
    void aHigherReportReplacesTheAverageAtOnce() {
        report(10);
        clock.advance(Duration.ofMillis(1));

        report(300);

        assertThat(millis()).isEqualTo(300);
    }

    @Test
    void aLowerReportBlendsInByTheTimeSinceThePreviousOne() {
        report(100);
        report(10);
        assertThat(millis()).as("no time passed, no weight").isEqualTo(100);

        clock.advance(Duration.ofSeconds(10));
        report(10);

        assertThat(millis()).as("one half-life later, half way").isCloseTo(55, within(1e-6));
    }

    @Test
    void forgetsByTimeNotByNumberOfReports() {
        Backend other = new Backend("p", new BackendConfig("b", URI.create("http://b.internal"), 1), clock);
        report(100);
        other.onResponse((long) (100 * MS));

        for (int i = 0; i < 100; i++) {
            clock.advance(Duration.ofMillis(100));
            report(10);
        }
        other.onResponse((long) (10 * MS));

        assertThat(millis()).isCloseTo(55, within(1e-6));
        assertThat(other.latencyNanos() / MS).isCloseTo(55, within(1e-6));
    }

    @Test
    void decaysTowardZeroWhileNoReportComesSoThatAnIdleBackendIsTriedAgain() {
        report(100);

        clock.advance(Duration.ofSeconds(10));
        assertThat(millis()).isCloseTo(50, within(1e-6));
        clock.advance(Duration.ofSeconds(10));
        assertThat(millis()).isCloseTo(25, within(1e-6));

        // The next report covers the whole gap: it is blended with the undecayed average.
        report(100);
        assertThat(millis()).isEqualTo(100);
    }

    @Test
    void negativeReportsCountAsZero() {
        report(10);
        clock.advance(Duration.ofSeconds(10));

        backend.onResponse(-5);

        assertThat(millis()).isCloseTo(5, within(1e-6));
    }

    @Test
    void aClockThatGoesBackDoesNotDecay() {
        report(100);
        clock.advance(Duration.ofSeconds(-5));

        assertThat(millis()).isEqualTo(100);
        report(10);
        assertThat(millis()).isEqualTo(100);
    }
}
