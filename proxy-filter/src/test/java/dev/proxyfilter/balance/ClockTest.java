package dev.proxyfilter.balance;

import static dev.proxyfilter.balance.HealthPools.failRequests;
import static dev.proxyfilter.balance.HealthPools.picks;
import static dev.proxyfilter.balance.HealthPools.primaries;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.proxyfilter.config.BackendConfig;
import dev.proxyfilter.config.HealthConfig;
import dev.proxyfilter.config.OutlierConfig;
import dev.proxyfilter.config.PoolConfig;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.testing.FakeClock;
import dev.proxyfilter.time.ProxyClock;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The public ways in take one {@link ProxyClock} and every time of the pool reads it: ejections, slow start,
 * the times health reports and latency averages, across a reload too. Nothing here sleeps.
 */
class ClockTest {
    private static final Duration EJECTION = Duration.ofSeconds(30);
    private static final Duration RAMP = Duration.ofSeconds(10);
    private static final HealthConfig HEALTH = HealthConfig.DEFAULT
            .withOutlier(new OutlierConfig(3, EJECTION, 50))
            .withSlowStart(RAMP)
            .withPanicThreshold(0);

    private final FakeClock clock = new FakeClock();

    private static PoolConfig config(List<BackendConfig> backends) {
        return new PoolConfig("web", StrategyName.ROUND_ROBIN, backends, null, null, HEALTH);
    }

    @Test
    void anEjectedBackendReturnsWhenTheClockHasMovedByTheEjectionTime() {
        BackendPool pool = new BackendPool(config(primaries(1, 1)), HealthListener.NONE, clock);
        Backend a = pool.backends().get(0);
        failRequests(a, 3);
        assertThat(a.state()).isEqualTo(BackendState.EJECTED);

        clock.advance(EJECTION.minusNanos(1));
        assertThat(picks(pool, 2)).isEqualTo("bb");

        clock.advance(Duration.ofNanos(1));
        assertThat(a.state()).isEqualTo(BackendState.UP);
        assertThat(a.health().sinceChange())
                .as("readmitted just now, on the fake clock")
                .isEqualTo(Duration.ZERO);
    }

    @Test
    void aBackendThatCameBackHasHalfItsWeightHalfwayUpTheRamp() {
        BackendPool pool = new BackendPool(config(primaries(1, 1)), HealthListener.NONE, clock);
        Backend a = pool.backends().get(0);
        a.disable();
        a.enable();
        assertThat(a.health().weightPercent()).isEqualTo(10);

        clock.advance(RAMP.dividedBy(2));
        assertThat(a.health().weightPercent()).isEqualTo(50);
        assertThat(a.health().sinceChange()).isEqualTo(RAMP.dividedBy(2));

        clock.advance(RAMP.dividedBy(2));
        assertThat(a.health().weightPercent()).isEqualTo(100);
    }

    @Test
    void aReloadRunsOnTheClockOfTheRunningPool() {
        BackendPool first = new BackendPool(config(primaries(1, 1)), HealthListener.NONE, clock);
        failRequests(first.backends().get(0), 3);

        BackendPool inherited = new BackendPool(config(primaries(1, 1, 1)), HealthListener.NONE, first);
        BackendPool given = new BackendPool(config(primaries(1, 1, 1)), HealthListener.NONE, inherited, clock);
        Backend a = given.backends().get(0);
        Backend c = given.backends().get(2);
        assertThat(a).as("carried over, ejected").isSameAs(first.backends().get(0));
        assertThat(a.state()).isEqualTo(BackendState.EJECTED);
        assertThat(c.health().weightPercent())
                .as("new in a running pool: ramps")
                .isEqualTo(10);

        clock.advance(EJECTION);
        assertThat(a.state()).isEqualTo(BackendState.UP);
        assertThat(c.health().weightPercent()).isEqualTo(100);
    }

    @Test
    void aReloadOnAnotherClockIsRefused() {
        BackendPool first = new BackendPool(config(primaries(1, 1)), HealthListener.NONE, clock);

        assertThatThrownBy(() -> new BackendPool(config(primaries(1, 1)), HealthListener.NONE, first, new FakeClock()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("pool web: a reload keeps the clock of the running pool");
        assertThatThrownBy(
                        () -> new BackendPool(config(primaries(1, 1)), HealthListener.NONE, first, ProxyClock.system()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aBackendOnItsOwnAveragesLatencyOnItsClock() {
        Backend backend = new Backend("p", new BackendConfig("a", URI.create("http://a.internal"), 1), clock);
        backend.onResponse(Duration.ofMillis(100).toNanos());

        clock.advance(Duration.ofSeconds(LatencyEwma.IDLE_HALF_LIFE_SECONDS));

        assertThat(backend.latencyNanos()).isCloseTo(Duration.ofMillis(50).toNanos(), within(1.0));
    }

    @Test
    void withoutAClockAPoolRunsOnTheSystemOne() {
        BackendPool pool = new BackendPool(config(primaries(1)));
        assertThat(pool.backends().get(0).health().poolHealth().clock()).isSameAs(ProxyClock.system());
        assertThat(new BackendPool(config(primaries(1)), HealthListener.NONE, pool)
                        .backends()
                        .get(0)
                        .health()
                        .poolHealth()
                        .clock())
                .isSameAs(ProxyClock.system());
    }
}
