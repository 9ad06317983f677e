package dev.proxyfilter.balance;

import static dev.proxyfilter.balance.HealthPools.failChecks;
import static dev.proxyfilter.balance.HealthPools.picks;
import static dev.proxyfilter.balance.HealthPools.primaries;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.HealthConfig;
import dev.proxyfilter.config.StickyConfig;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.testing.FakeClock;
import org.junit.jupiter.api.Test;

/** The operator's side: drain, disable, enable, and how they combine with health and session affinity. */
class DrainTest {
    private final FakeClock clock = new FakeClock();
    private final RecordingListener events = new RecordingListener();

    private BackendPool stickyPool() {
        return HealthPools.pool(
                clock,
                events,
                HealthConfig.DEFAULT,
                StrategyName.ROUND_ROBIN,
                new StickyConfig("route"),
                primaries(1, 1, 1));
    }

    private static RequestView pinnedTo(String backend) {
        return TestRequest.withCookie("10.0.0.1", "route", BackendPool.stickyId("web", backend));
    }

    @Test
    void aDrainingBackendGetsNoNewRequestWhileItsRequestsInFlightFinish() {
        BackendPool pool = stickyPool();
        Backend a = pool.backend("a").orElseThrow();
        a.onRequestStart();

        a.drain();

        assertThat(a.state()).isEqualTo(BackendState.DRAINING);
        assertThat(a.health().reason()).isEqualTo("on operator request");
        assertThat(picks(pool, 6)).isEqualTo("bcbcbc");
        assertThat(a.inFlight()).isEqualTo(1);
        a.onRequestEnd();
        assertThat(a.inFlight()).as("drained").isZero();
        assertThat(events.take()).containsExactly("a: UP -> DRAINING on operator request");
    }

    @Test
    void aDrainingBackendKeepsNoStickySessionAndStartsNone() {
        BackendPool pool = stickyPool();
        Backend a = pool.backend("a").orElseThrow();
        Backend b = pool.backend("b").orElseThrow();
        String setCookieB = "route=" + BackendPool.stickyId("web", "b") + "; Path=/; HttpOnly";
        assertThat(pool.select(pinnedTo("a"), null)).isSameAs(a);

        a.drain();

        for (int i = 0; i < 6; i++) {
            Backend picked = pool.select(pinnedTo("a"), null);
            assertThat(picked).isNotSameAs(a);
            assertThat(pool.stickyCookie(pinnedTo("a"), picked))
                    .as("the session moves")
                    .isNotNull();
        }
        // The response to a request a took before the drain names no backend.
        assertThat(pool.stickyCookie(RequestView.NONE, a)).isNull();
        assertThat(pool.stickyCookie(RequestView.NONE, b)).isEqualTo(setCookieB);

        a.enable();
        assertThat(pool.select(pinnedTo("a"), null)).isSameAs(a);
        assertThat(pool.stickyCookie(RequestView.NONE, a)).isNotNull();
    }

    @Test
    void disableAndDrainReplaceEachOtherAndEnableEndsEither() {
        BackendPool pool = stickyPool();
        Backend c = pool.backend("c").orElseThrow();

        c.disable();
        assertThat(c.state()).isEqualTo(BackendState.DISABLED);
        c.drain();
        assertThat(c.state()).isEqualTo(BackendState.DRAINING);
        c.drain();
        c.enable();
        assertThat(c.state()).isEqualTo(BackendState.UP);
        c.enable();

        assertThat(events.take())
                .containsExactly(
                        "c: UP -> DISABLED on operator request",
                        "c: DISABLED -> DRAINING on operator request",
                        "c: DRAINING -> UP on operator request");
    }

    @Test
    void theOperatorsStateShowsOverHealthAndHealthShowsWhenEnabled() {
        BackendPool pool = HealthPools.pool(
                clock, events, HealthConfig.DEFAULT.withPanicThreshold(0), StrategyName.ROUND_ROBIN, primaries(1, 1));
        Backend a = pool.backends().get(0);

        a.disable();
        failChecks(a, 3);
        assertThat(a.state()).isEqualTo(BackendState.DISABLED);
        a.enable();
        assertThat(a.state()).isEqualTo(BackendState.DOWN);
        assertThat(picks(pool, 2)).isEqualTo("bb");
        assertThat(events.take())
                .containsExactly("a: UP -> DISABLED on operator request", "a: DISABLED -> DOWN on operator request");
    }

    @Test
    void availableIsDisableAndEnableUnderAnOldName() {
        BackendPool pool = stickyPool();
        Backend b = pool.backend("b").orElseThrow();

        b.available(false);
        assertThat(b.state()).isEqualTo(BackendState.DISABLED);
        assertThat(b.available()).isFalse();
        b.available(true);
        assertThat(b.state()).isEqualTo(BackendState.UP);
        assertThat(b.available()).isTrue();
    }

    @Test
    void backendsAreFoundByName() {
        BackendPool pool = stickyPool();

        assertThat(pool.backend("b")).containsSame(pool.backends().get(1));
        assertThat(pool.backend("z")).isEmpty();
    }
}
