package dev.proxyfilter.balance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.proxyfilter.config.BackendConfig;
import dev.proxyfilter.config.HashKey;
import dev.proxyfilter.config.PoolConfig;
import dev.proxyfilter.config.StrategyName;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class StrategyTest {

    /** Backends named a, b, c, ... with the given weights. */
    static List<Backend> backends(int... weights) {
        List<Backend> backends = new ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            String name = String.valueOf((char) ('a' + i));
            backends.add(
                    new Backend("p", new BackendConfig(name, URI.create("http://" + name + ".internal"), weights[i])));
        }
        return List.copyOf(backends);
    }

    /** The names of {@code n} picks in a row, e.g. "aabacaa". */
    static String picks(BackendSelector selector, int n) {
        StringBuilder names = new StringBuilder();
        for (int i = 0; i < n; i++) {
            Backend backend = selector.select(null);
            names.append(backend == null ? "-" : backend.name());
        }
        return names.toString();
    }

    /** How often each backend is picked in {@code n} picks, in the order of {@code backends}. */
    static int[] counts(BackendSelector selector, List<Backend> backends, int n) {
        int[] counts = new int[backends.size()];
        for (int i = 0; i < n; i++) {
            counts[backends.indexOf(selector.select(null))]++;
        }
        return counts;
    }

    static Stream<Strategy> strategies() {
        return Stream.of(
                Strategy.weightedRoundRobin(),
                Strategy.roundRobin(),
                Strategy.random(),
                Strategy.leastRequest(),
                Strategy.responseTime(),
                Strategy.consistentHash(HashKey.clientIp()));
    }

    // Weighted round-robin

    @Test
    void weightedRoundRobinIsSmoothAsNginx() {
        BackendSelector wrr = Strategy.weightedRoundRobin().newSelector(backends(5, 1, 1));

        assertThat(picks(wrr, 21)).isEqualTo("aabacaa".repeat(3));
    }

    @Test
    void weightedRoundRobinIsExactOverWholeCycles() {
        List<Backend> backends = backends(3, 1);
        BackendSelector wrr = Strategy.weightedRoundRobin().newSelector(backends);

        assertThat(counts(wrr, backends, 1000)).containsExactly(750, 250);
    }

    @Test
    void weightedRoundRobinFollowsWeightChanges() {
        List<Backend> backends = backends(5, 1, 1);
        BackendSelector wrr = Strategy.weightedRoundRobin().newSelector(backends);
        assertThat(picks(wrr, 3)).isEqualTo("aab");

        backends.get(0).weight(1);
        assertThat(picks(wrr, 9)).isEqualTo("abcabcabc");

        backends.get(2).weight(3);
        assertThat(picks(wrr, 10)).isEqualTo("cacbc".repeat(2));
    }

    @Test
    void weightedRoundRobinStaysSmoothOverTheBackendsLeft() {
        List<Backend> backends = backends(5, 1, 1);
        BackendSelector wrr = Strategy.weightedRoundRobin().newSelector(backends);
        assertThat(picks(wrr, 4)).isEqualTo("aaba");

        // Smooth 5,1 from a clean start, not a burst of a to pay back c's credit.
        backends.get(2).available(false);
        assertThat(picks(wrr, 12)).isEqualTo("aaabaa".repeat(2));

        backends.get(2).available(true);
        assertThat(picks(wrr, 14)).isEqualTo("aabacaa".repeat(2));

        backends.get(1).weight(0);
        assertThat(picks(wrr, 12)).isEqualTo("aaacaa".repeat(2));
    }

    @Test
    void weightedRoundRobinRetrySkipsTheTriedBackendForThatPickOnly() {
        List<Backend> backends = backends(1, 1, 1);
        BackendSelector wrr = Strategy.weightedRoundRobin().newSelector(backends);

        assertThat(wrr.select(backends.get(0))).isSameAs(backends.get(1));
        // The cycle goes on from where the retry left it, still one of each per three picks.
        assertThat(picks(wrr, 6)).isEqualTo("cabcab");
    }

    @Test
    void weightedRoundRobinHandlesHugeWeights() {
        List<Backend> backends = backends(Integer.MAX_VALUE, Integer.MAX_VALUE, 1);
        BackendSelector wrr = Strategy.weightedRoundRobin().newSelector(backends);

        assertThat(picks(wrr, 4)).isEqualTo("abab");
    }

    // Round-robin

    @Test
    void roundRobinCyclesEvenlyIgnoringWeights() {
        List<Backend> backends = backends(5, 1, 2);
        BackendSelector rr = Strategy.roundRobin().newSelector(backends);

        assertThat(picks(rr, 9)).isEqualTo("abcabcabc");
        assertThat(counts(rr, backends, 300)).containsExactly(100, 100, 100);
    }

    @Test
    void roundRobinStaysEvenWhenSkipping() {
        List<Backend> backends = backends(1, 1, 1, 1);
        BackendSelector rr = Strategy.roundRobin().newSelector(backends);

        backends.get(1).available(false);
        assertThat(picks(rr, 9)).isEqualTo("acdacdacd");

        backends.get(2).weight(0);
        assertThat(picks(rr, 6)).isEqualTo("adadad");

        backends.get(0).available(false);
        assertThat(picks(rr, 3)).isEqualTo("ddd");
    }

    // Random

    @Test
    void randomIsProportionalToWeights() {
        List<Backend> backends = backends(3, 1, 0);
        BackendSelector seeded = new RandomSelector(backends, seeded(42));
        BackendSelector threadLocal = Strategy.random().newSelector(backends);

        int[] seededCounts = counts(seeded, backends, 10_000);
        int[] threadLocalCounts = counts(threadLocal, backends, 10_000);

        // The standard deviation of the count of a is 43; 500 is over 11 of them.
        assertThat(seededCounts[0]).isBetween(7_000, 8_000);
        assertThat(seededCounts[2]).isZero();
        assertThat(threadLocalCounts[0]).isBetween(7_000, 8_000);
        assertThat(threadLocalCounts[2]).isZero();
    }

    @Test
    void randomWithASeedIsReproducible() {
        List<Backend> backends = backends(2, 1, 1);

        String first = picks(new RandomSelector(backends, seeded(7)), 50);
        String second = picks(new RandomSelector(backends, seeded(7)), 50);

        assertThat(first).isEqualTo(second).contains("a", "b", "c");
    }

    private static Supplier<Random> seeded(long seed) {
        Random random = new Random(seed);
        return () -> random;
    }

    // Rules shared by every strategy

    @ParameterizedTest
    @MethodSource("strategies")
    void weightZeroIsNeverPicked(Strategy strategy) {
        List<Backend> backends = backends(0, 2, 0, 1);
        BackendSelector selector = strategy.newSelector(backends);

        int[] counts = counts(selector, backends, 1000);

        assertThat(counts[0]).isZero();
        assertThat(counts[2]).isZero();
        assertThat(counts[1] + counts[3]).isEqualTo(1000);
    }

    @ParameterizedTest
    @MethodSource("strategies")
    void unavailableIsSkipped(Strategy strategy) {
        List<Backend> backends = backends(3, 1, 1);
        backends.get(0).available(false);
        BackendSelector selector = strategy.newSelector(backends);

        int[] counts = counts(selector, backends, 1000);

        assertThat(counts[0]).isZero();
        assertThat(counts[1]).isPositive();
        assertThat(counts[2]).isPositive();
    }

    @ParameterizedTest
    @MethodSource("strategies")
    void excludeIsAvoidedWhileAnotherIsEligible(Strategy strategy) {
        List<Backend> backends = backends(5, 1, 1);
        Backend a = backends.get(0);
        BackendSelector selector = strategy.newSelector(backends);

        for (int i = 0; i < 1000; i++) {
            assertThat(selector.select(a)).isNotSameAs(a).isNotNull();
        }
    }

    @ParameterizedTest
    @MethodSource("strategies")
    void excludeIsReturnedWhenItIsTheOnlyEligible(Strategy strategy) {
        List<Backend> backends = backends(1, 0, 1);
        backends.get(2).available(false);
        Backend a = backends.get(0);
        BackendSelector selector = strategy.newSelector(backends);

        assertThat(selector.select(a)).isSameAs(a);
        assertThat(selector.select(null)).isSameAs(a);
    }

    @ParameterizedTest
    @MethodSource("strategies")
    void excludeThatIsNotEligibleIsNotReturned(Strategy strategy) {
        List<Backend> backends = backends(1, 1);
        backends.get(0).available(false);
        backends.get(1).weight(0);
        BackendSelector selector = strategy.newSelector(backends);

        assertThat(selector.select(backends.get(0))).isNull();
    }

    @ParameterizedTest
    @MethodSource("strategies")
    void nullWhenNoneIsEligible(Strategy strategy) {
        List<Backend> backends = backends(0, 1, 1);
        backends.get(1).available(false);
        backends.get(2).available(false);
        BackendSelector selector = strategy.newSelector(backends);

        assertThat(selector.select(null)).isNull();
        assertThat(strategy.newSelector(List.of()).select(null)).isNull();

        backends.get(2).available(true);
        assertThat(selector.select(null)).isSameAs(backends.get(2));
    }

    @ParameterizedTest
    @MethodSource("strategies")
    void excludeFromAnotherPoolChangesNothing(Strategy strategy) {
        List<Backend> backends = backends(1);
        Backend stranger = backends(1).get(0);

        assertThat(strategy.newSelector(backends).select(stranger)).isSameAs(backends.get(0));
    }

    @ParameterizedTest
    @MethodSource("strategies")
    void aPickAllocatesNothing(Strategy strategy) {
        com.sun.management.ThreadMXBean threads = threadBean();
        List<Backend> backends = backends(5, 1, 0, 2);
        backends.get(3).available(false);
        BackendSelector selector = strategy.newSelector(backends);
        Backend exclude = backends.get(1);
        int calls = 200_000;
        int sink = 0;
        for (int i = 0; i < calls; i++) {
            sink += selector.select((i & 1) == 0 ? null : exclude).weight();
        }

        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < calls; i++) {
            sink += selector.select((i & 1) == 0 ? null : exclude).weight();
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;

        assertThat(sink).isPositive();
        assertThat(allocated).isLessThan(calls);
    }

    static com.sun.management.ThreadMXBean threadBean() {
        assumeTrue(
                ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean,
                "needs com.sun.management.ThreadMXBean");
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(
                threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled(),
                "needs thread allocation accounting");
        return threads;
    }

    @ParameterizedTest
    @EnumSource(StrategyName.class)
    void ofMapsEveryConfiguredStrategy(StrategyName configured) {
        HashKey key = configured == StrategyName.CONSISTENT_HASH ? HashKey.header("X-User") : null;
        Strategy strategy = Strategy.of(new PoolConfig(
                "p", configured, List.of(new BackendConfig("a", URI.create("http://a.internal"), 1)), key, null));

        assertThat(strategy).hasToString(configured.configName());
        switch (configured) {
            case WEIGHTED_ROUND_ROBIN -> assertThat(strategy).isSameAs(Strategy.weightedRoundRobin());
            case ROUND_ROBIN -> assertThat(strategy).isSameAs(Strategy.roundRobin());
            case RANDOM -> assertThat(strategy).isSameAs(Strategy.random());
            case LEAST_REQUEST -> assertThat(strategy).isSameAs(Strategy.leastRequest());
            case RESPONSE_TIME -> assertThat(strategy).isSameAs(Strategy.responseTime());
            case CONSISTENT_HASH ->
                assertThat(strategy.newSelector(backends(1, 1))).isInstanceOf(ConsistentHashSelector.class);
        }
    }

    @Test
    void selectorsHaveTheirOwnState() {
        List<Backend> backends = backends(1, 1);
        BackendSelector first = Strategy.roundRobin().newSelector(backends);
        BackendSelector second = Strategy.roundRobin().newSelector(backends);

        assertThat(picks(first, 3)).isEqualTo("aba");
        assertThat(picks(second, 1)).isEqualTo("a");
    }
}
