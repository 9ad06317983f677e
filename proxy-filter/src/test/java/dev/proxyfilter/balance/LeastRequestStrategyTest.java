package dev.proxyfilter.balance;

import static dev.proxyfilter.balance.StrategyTest.backends;
import static dev.proxyfilter.balance.StrategyTest.counts;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link Strategy#leastRequest()}: power of two choices over in-flight / weight, ties in proportion to weight. */
class LeastRequestStrategyTest {

    private static BackendSelector seeded(List<Backend> backends, long seed) {
        Random random = new Random(seed);
        return new LeastRequestSelector(backends, () -> random);
    }

    private static void inFlight(Backend backend, int requests) {
        for (int i = 0; i < requests; i++) {
            backend.onRequestStart();
        }
    }

    @Test
    void ofTwoBackendsTheLessLoadedOneAlwaysWins() {
        List<Backend> backends = backends(1, 1);
        inFlight(backends.get(0), 5);
        inFlight(backends.get(1), 4);

        assertThat(counts(seeded(backends, 1), backends, 1000)).containsExactly(0, 1000);
    }

    @Test
    void theMostLoadedBackendLosesEveryPairAndTheLeastLoadedWinsEveryPairItIsIn() {
        List<Backend> backends = backends(1, 1, 1);
        inFlight(backends.get(0), 5);
        inFlight(backends.get(2), 3);

        int[] counts = counts(seeded(backends, 2), backends, 30_000);

        // Pairs are uniform over {a,b}, {a,c}, {b,c}: b wins two of three, c one, a none.
        assertThat(counts[0]).isZero();
        assertThat(counts[1]).isBetween(19_400, 20_600);
        assertThat(counts[2]).isBetween(9_400, 10_600);
    }

    @Test
    void loadIsInFlightPerUnitOfWeight() {
        List<Backend> backends = backends(2, 1);
        Backend heavy = backends.get(0);
        Backend light = backends.get(1);
        BackendSelector selector = seeded(backends, 3);

        // 1/2 against 0.
        inFlight(heavy, 1);
        assertThat(selector.select(null)).isSameAs(light);
        // 1/2 against 1/1.
        inFlight(light, 1);
        assertThat(selector.select(null)).isSameAs(heavy);
        // 3/2 against 1/1.
        inFlight(heavy, 2);
        assertThat(selector.select(null)).isSameAs(light);
    }

    @Test
    void anIdlePoolFollowsTheWeightsBecauseTiesGoByWeight() {
        List<Backend> backends = backends(3, 1);

        int[] counts = counts(seeded(backends, 4), backends, 10_000);

        assertThat(counts[0]).isBetween(7_300, 7_700);
    }

    @Test
    void equalLoadPerWeightIsATieByWeight() {
        List<Backend> backends = backends(2, 1);
        inFlight(backends.get(0), 4);
        inFlight(backends.get(1), 2);

        int[] counts = counts(seeded(backends, 10), backends, 9_000);

        assertThat(counts[0]).isBetween(5_700, 6_300);
    }

    @Test
    void equalLoadAndWeightIsACoinToss() {
        List<Backend> backends = backends(1, 1);

        int[] counts = counts(seeded(backends, 4), backends, 10_000);

        assertThat(counts[0]).isBetween(4_700, 5_300);
    }

    /**
     * A closed loop: 40 requests always in flight, the oldest ending as each new one starts. The
     * in-flight counts settle in proportion to the weights, as weighted least request intends.
     */
    @Test
    void inFlightRequestsSettleInProportionToWeight() {
        List<Backend> backends = backends(3, 1, 0);
        BackendSelector selector = seeded(backends, 5);
        Deque<Backend> open = new ArrayDeque<>();

        for (int i = 0; i < 10_000; i++) {
            Backend picked = selector.select(null);
            picked.onRequestStart();
            open.addLast(picked);
            if (open.size() > 40) {
                open.removeFirst().onRequestEnd();
            }
        }

        assertThat(backends.get(0).inFlight()).isBetween(28, 32);
        assertThat(backends.get(1).inFlight()).isBetween(9, 12);
        assertThat(backends.get(2).inFlight()).isZero();
    }

    @Test
    void aSingleEligibleBackendIsPickedWithoutDrawing() {
        List<Backend> backends = backends(1, 1, 1);
        backends.get(0).available(false);
        BackendSelector selector = new LeastRequestSelector(backends, () -> {
            throw new AssertionError("no draw needed");
        });

        assertThat(selector.select(backends.get(1))).isSameAs(backends.get(2));
    }

    @Test
    void aSeededSelectorIsReproducible() {
        List<Backend> backends = backends(2, 1, 1);

        assertThat(StrategyTest.picks(seeded(backends, 9), 50))
                .isEqualTo(StrategyTest.picks(seeded(backends, 9), 50))
                .contains("a", "b", "c");
    }
}
