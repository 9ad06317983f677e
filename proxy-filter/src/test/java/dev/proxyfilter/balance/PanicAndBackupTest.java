package dev.proxyfilter.balance;

import static dev.proxyfilter.balance.HealthPools.backend;
import static dev.proxyfilter.balance.HealthPools.counts;
import static dev.proxyfilter.balance.HealthPools.failChecks;
import static dev.proxyfilter.balance.HealthPools.passChecks;
import static dev.proxyfilter.balance.HealthPools.picks;
import static dev.proxyfilter.balance.HealthPools.primaries;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.BackendConfig;
import dev.proxyfilter.config.HealthConfig;
import dev.proxyfilter.config.StickyConfig;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.testing.FakeClock;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Which backends a pool picks from as health changes: panic mode (Envoy) and backups (HAProxy). */
class PanicAndBackupTest {
    private final FakeClock clock = new FakeClock();
    private final RecordingListener events = new RecordingListener();

    private BackendPool pool(int panicThreshold, StrategyName strategy, List<BackendConfig> backends) {
        return HealthPools.pool(
                clock, events, HealthConfig.DEFAULT.withPanicThreshold(panicThreshold), strategy, backends);
    }

    // Panic

    @Test
    void belowTheThresholdThePoolPanicsAndSpreadsOverEveryPrimary() {
        BackendPool pool = pool(50, StrategyName.ROUND_ROBIN, primaries(1, 1, 1, 1));
        List<Backend> b = pool.backends();

        failChecks(b.get(0), 3);
        failChecks(b.get(1), 3);
        assertThat(pool.mode()).as("2 of 4 is not below 50%").isEqualTo(PoolMode.NORMAL);
        assertThat(picks(pool, 4)).isEqualTo("cdcd");

        failChecks(b.get(2), 3);
        assertThat(pool.mode()).isEqualTo(PoolMode.PANIC);
        assertThat(picks(pool, 8)).as("health ignored").isEqualTo("abcdabcd");
        assertThat(events.take())
                .containsExactly(
                        "a: UP -> DOWN after 3 failed checks (last: connect refused)",
                        "b: UP -> DOWN after 3 failed checks (last: connect refused)",
                        "c: UP -> DOWN after 3 failed checks (last: connect refused)",
                        "pool web: NORMAL -> PANIC (1 of 4 primary backends healthy, below the panic threshold of 50%,"
                                + " and no backup healthy: picking among all 4)");

        failChecks(b.get(3), 3);
        assertThat(picks(pool, 4)).as("still panicking with none healthy").isEqualTo("abcd");
        passChecks(b.get(3), 2);
        passChecks(b.get(2), 2);
        assertThat(pool.mode()).isEqualTo(PoolMode.NORMAL);
        assertThat(picks(pool, 4)).isEqualTo("cdcd");
        assertThat(events.take())
                .as("entered once, left once")
                .containsExactly(
                        "d: UP -> DOWN after 3 failed checks (last: connect refused)",
                        "d: DOWN -> UP after 2 passed checks (last: status 200)",
                        "c: DOWN -> UP after 2 passed checks (last: status 200)",
                        "pool web: PANIC -> NORMAL (2 of 4 primary backends healthy)");
    }

    @Test
    void ejectedBackendsCountAsUnhealthyToo() {
        BackendPool pool = HealthPools.pool(
                clock,
                events,
                HealthConfig.DEFAULT
                        .withPanicThreshold(100)
                        .withOutlier(new dev.proxyfilter.config.OutlierConfig(1, java.time.Duration.ofSeconds(1), 50)),
                StrategyName.ROUND_ROBIN,
                primaries(1, 1));

        HealthPools.failRequests(pool.backends().get(0), 1);

        assertThat(pool.mode()).isEqualTo(PoolMode.PANIC);
        assertThat(picks(pool, 2)).isEqualTo("ab");
    }

    @Test
    void withPanicOffAPoolWithNoHealthyBackendPicksNone() {
        BackendPool pool = pool(0, StrategyName.ROUND_ROBIN, primaries(1, 1));
        failChecks(pool.backends().get(0), 3);
        failChecks(pool.backends().get(1), 3);

        assertThat(pool.mode()).isEqualTo(PoolMode.NORMAL);
        assertThat(pool.select(null)).isNull();
    }

    @Test
    void drainingDisabledAndWeightZeroBackendsAreOutOfTheCountAndOfThePanic() {
        BackendPool pool = pool(50, StrategyName.ROUND_ROBIN, primaries(1, 1, 1, 1, 0));
        List<Backend> b = pool.backends();
        b.get(0).drain();
        b.get(1).disable();

        failChecks(b.get(2), 3);
        assertThat(pool.mode()).as("1 of the 2 in service is healthy: 50%").isEqualTo(PoolMode.NORMAL);
        assertThat(picks(pool, 3)).isEqualTo("ddd");

        failChecks(b.get(3), 3);
        assertThat(pool.mode()).isEqualTo(PoolMode.PANIC);
        assertThat(picks(pool, 4)).as("the operator's decisions hold in panic").isEqualTo("cdcd");

        b.get(0).enable();
        b.get(1).enable();
        assertThat(pool.mode()).as("2 of 4").isEqualTo(PoolMode.NORMAL);
        assertThat(picks(pool, 4)).isEqualTo("abab");
    }

    @ParameterizedTest
    @EnumSource(value = StrategyName.class, names = "CONSISTENT_HASH", mode = EnumSource.Mode.EXCLUDE)
    void everyStrategyPanicsAlike(StrategyName strategy) {
        BackendPool pool = HealthPools.pool(clock, events, HealthConfig.DEFAULT, strategy, primaries(1, 1, 1));
        failChecks(pool.backends().get(0), 3);
        failChecks(pool.backends().get(1), 3);

        int[] counts = counts(pool, 3000);

        assertThat(java.util.Arrays.stream(counts).min().orElseThrow())
                .as("%s: %s", strategy, java.util.Arrays.toString(counts))
                .isGreaterThan(600);
    }

    @Test
    void consistentHashPanicsAlike() {
        BackendPool pool = new BackendPool(
                new dev.proxyfilter.config.PoolConfig(
                        "web",
                        StrategyName.CONSISTENT_HASH,
                        primaries(1, 1, 1),
                        dev.proxyfilter.config.HashKey.path(),
                        null,
                        HealthConfig.DEFAULT),
                events,
                clock);
        failChecks(pool.backends().get(0), 3);
        failChecks(pool.backends().get(1), 3);

        java.util.Set<String> reached = new java.util.HashSet<>();
        for (int i = 0; i < 300; i++) {
            reached.add(pool.select(TestRequest.withPath("/p" + i), null).name());
        }
        assertThat(reached).containsExactlyInAnyOrder("a", "b", "c");
    }

    // Backups

    private BackendPool withBackups(int panicThreshold) {
        return pool(
                panicThreshold,
                StrategyName.ROUND_ROBIN,
                List.of(
                        backend(0, 1, false),
                        backend(1, 1, false),
                        backend(2, 1, false),
                        backend(3, 1, false),
                        backend(4, 1, true),
                        backend(5, 1, true)));
    }

    @Test
    void backupsTakeNothingWhileThePrimariesAreHealthy() {
        BackendPool pool = withBackups(50);
        failChecks(pool.backends().get(0), 3);

        assertThat(picks(pool, 6)).isEqualTo("bcdbcd");
        assertThat(pool.backends().get(4).backup()).isTrue();
        assertThat(pool.backends().get(4).state()).isEqualTo(BackendState.UP);
    }

    @Test
    void backupsTakeOverWhenNoPrimaryIsHealthy() {
        BackendPool pool = withBackups(0);
        for (int i = 0; i < 4; i++) {
            failChecks(pool.backends().get(i), 3);
        }

        assertThat(pool.mode()).isEqualTo(PoolMode.BACKUP);
        assertThat(picks(pool, 4)).isEqualTo("efef");
        assertThat(events.take())
                .last()
                .isEqualTo(
                        "pool web: NORMAL -> BACKUP (0 of 4 primary backends healthy;" + " healthy backups stand in)");

        passChecks(pool.backends().get(2), 2);
        assertThat(pool.mode()).as("panic off: one healthy primary is enough").isEqualTo(PoolMode.NORMAL);
        assertThat(picks(pool, 3)).isEqualTo("ccc");
    }

    @Test
    void belowThePanicThresholdHealthyBackupsJoinTheHealthyPrimariesInsteadOfPanic() {
        BackendPool pool = withBackups(50);
        List<Backend> b = pool.backends();
        for (int i = 0; i < 3; i++) {
            failChecks(b.get(i), 3);
        }

        assertThat(pool.mode()).isEqualTo(PoolMode.BACKUP);
        assertThat(picks(pool, 6)).isEqualTo("defdef");
        assertThat(events.take())
                .last()
                .isEqualTo("pool web: NORMAL -> BACKUP (1 of 4 primary backends healthy,"
                        + " below the panic threshold of 50%; healthy backups stand in)");

        failChecks(b.get(4), 3);
        failChecks(b.get(5), 3);
        assertThat(pool.mode())
                .as("no backup left: panic over the primaries only")
                .isEqualTo(PoolMode.PANIC);
        assertThat(picks(pool, 8)).isEqualTo("abcdabcd");
        assertThat(events.take())
                .last()
                .isEqualTo("pool web: BACKUP -> PANIC (1 of 4 primary backends healthy,"
                        + " below the panic threshold of 50%, and no backup healthy: picking among all 4)");
    }

    @Test
    void aStickyCookieNamingABackupHoldsOnlyWhileBackupsAreInUse() {
        BackendPool pool = HealthPools.pool(
                clock,
                events,
                HealthConfig.DEFAULT,
                StrategyName.ROUND_ROBIN,
                new StickyConfig("route"),
                List.of(backend(0, 1, false), backend(1, 1, true)));
        Backend a = pool.backends().get(0);
        Backend backup = pool.backends().get(1);
        RequestView onBackup = TestRequest.withCookie("10.0.0.1", "route", BackendPool.stickyId("web", "b"));

        assertThat(pool.select(onBackup, null)).isSameAs(a);
        failChecks(a, 3);
        assertThat(pool.select(onBackup, null)).isSameAs(backup);
        passChecks(a, 2);
        assertThat(pool.select(onBackup, null)).as("back to the primary").isSameAs(a);
    }
}
