package dev.proxyfilter.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.codahale.metrics.Timer;
import dev.proxyfilter.testing.FakeClock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The request timers' rates run on the clock the metrics are built with, so a test moves them at will. */
class ProxyMetricsClockTest {
    private final FakeClock clock = new FakeClock();

    @Test
    void theRatesOfRouteAndBackendTimersFollowTheClock() {
        try (ProxyMetrics metrics = new ProxyMetrics(clock)) {
            Timer route = metrics.route("main").requests();
            Timer backend = metrics.backend("web", "a").requests();
            for (int i = 0; i < 10; i++) {
                metrics.route("main").onExchange(200, TimeUnit.MILLISECONDS.toNanos(5));
                backend.update(5, TimeUnit.MILLISECONDS);
            }

            clock.advance(Duration.ofSeconds(20));

            assertThat(route.getMeanRate()).as("10 in 20 s on the fake clock").isCloseTo(0.5, within(1e-9));
            assertThat(backend.getMeanRate()).isCloseTo(0.5, within(1e-9));
            assertThat(route.getOneMinuteRate()).as("ticked on the fake clock").isGreaterThan(0);
        }
    }

    @Test
    void withoutAClockTheSystemOneCounts() {
        try (ProxyMetrics metrics = new ProxyMetrics()) {
            metrics.route("main").onExchange(200, 1);
            assertThat(metrics.route("main").requests().getCount()).isEqualTo(1);
            assertThat(metrics.route("main").requests().getMeanRate()).isPositive();
        }
    }
}
