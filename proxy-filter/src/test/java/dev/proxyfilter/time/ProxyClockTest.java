package dev.proxyfilter.time;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The system clock reads the JDK's two clocks; {@link ProxyClock#of} joins two sources given apart. */
class ProxyClockTest {
    @Test
    void theSystemClockReadsTheJdkClocks() {
        ProxyClock clock = ProxyClock.system();
        assertThat(ProxyClock.system()).isSameAs(clock);

        long nanosBefore = System.nanoTime();
        long millisBefore = System.currentTimeMillis();
        long nanos = clock.nanoTime();
        long millis = clock.millis();
        Instant instant = clock.instant();
        long nanosAfter = System.nanoTime();
        long millisAfter = System.currentTimeMillis();

        assertThat(nanos).isBetween(nanosBefore, nanosAfter);
        assertThat(millis).isBetween(millisBefore, millisAfter);
        assertThat(instant.toEpochMilli()).isBetween(millisBefore, millisAfter);
        assertThat(clock.nanoTime()).as("monotonic").isGreaterThanOrEqualTo(nanos);
    }

    @Test
    void ofReadsEachSourceForItsOwnReading() {
        Instant wall = Instant.parse("2030-06-01T12:00:00Z");
        AtomicLong ticker = new AtomicLong(42);
        ProxyClock clock = ProxyClock.of(Clock.fixed(wall, ZoneOffset.UTC), ticker::get);

        assertThat(clock.instant()).isEqualTo(wall);
        assertThat(clock.millis()).isEqualTo(wall.toEpochMilli());
        assertThat(clock.nanoTime()).isEqualTo(42);
        ticker.addAndGet(Duration.ofSeconds(1).toNanos());
        assertThat(clock.nanoTime()).isEqualTo(1_000_000_042L);
        assertThat(clock.instant()).as("the wall clock is its own").isEqualTo(wall);
    }

    @Test
    void aClockIsAnInstantSourceSoAJavaTimeClockCanBeMadeOfIt() {
        Clock utc = ProxyClock.system().withZone(ZoneOffset.UTC);
        assertThat(utc.getZone()).isEqualTo(ZoneOffset.UTC);
        assertThat(Duration.between(utc.instant(), Instant.now()).abs()).isLessThan(Duration.ofMinutes(1));
    }
}
