package dev.proxyfilter.balance;

import static dev.proxyfilter.balance.StrategyTest.backends;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.HashKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link Strategy#consistentHash(HashKey)}: a ring of 160 points per unit of weight. */
class ConsistentHashStrategyTest {
    private static final int KEYS = 10_000;
    private static final HashKey USER = HashKey.header("X-User");

    private static BackendSelector ring(List<Backend> backends, HashKey key) {
        return Strategy.consistentHash(key).newSelector(backends);
    }

    private static RequestView user(int i) {
        return TestRequest.withHeader("10.0.0.1", "X-User", "user-" + i);
    }

    /** The backend each of {@link #KEYS} users lands on. */
    private static Map<Integer, Backend> placement(BackendSelector selector) {
        Map<Integer, Backend> placement = new HashMap<>();
        for (int i = 0; i < KEYS; i++) {
            placement.put(i, selector.select(user(i), null));
        }
        return placement;
    }

    private static int[] keysPerBackend(Map<Integer, Backend> placement, List<Backend> backends) {
        int[] counts = new int[backends.size()];
        placement.values().forEach(b -> counts[backends.indexOf(b)]++);
        return counts;
    }

    @Test
    void theSameKeyAlwaysReachesTheSameBackendAndKeysSpread() {
        List<Backend> backends = backends(1, 1, 1, 1, 1);
        BackendSelector selector = ring(backends, USER);
        Map<Integer, Backend> first = placement(selector);

        assertThat(placement(selector)).isEqualTo(first);
        assertThat(placement(ring(backends, USER)))
                .as("a new ring over the same backends")
                .isEqualTo(first);
        // Even spread is 2,000 each; 160 points per backend keep each within about 20% of it.
        assertThat(java.util.Arrays.stream(keysPerBackend(first, backends))
                        .boxed()
                        .toList())
                .allSatisfy(count -> assertThat(count).isBetween(1_600, 2_400));
    }

    @Test
    void removingOneOfFiveBackendsMovesOnlyItsOwnKeys() {
        List<Backend> five = backends(1, 1, 1, 1, 1);
        Backend removed = five.get(2);
        Map<Integer, Backend> before = placement(ring(five, USER));
        List<Backend> four = new ArrayList<>(five);
        four.remove(removed);

        Map<Integer, Backend> after = placement(ring(four, USER));

        int moved = 0;
        for (int i = 0; i < KEYS; i++) {
            if (after.get(i) != before.get(i)) {
                moved++;
                assertThat(before.get(i))
                        .as("key %d moved, so it was on the removed backend", i)
                        .isSameAs(removed);
            }
        }
        assertThat(moved / (double) KEYS).isBetween(0.15, 0.25);
    }

    @Test
    void anUnavailableBackendIsSkippedExactlyAsIfItWereRemovedAndGetsItsKeysBack() {
        List<Backend> five = backends(1, 1, 1, 1, 1);
        BackendSelector selector = ring(five, USER);
        Map<Integer, Backend> before = placement(selector);
        List<Backend> four = new ArrayList<>(five);
        four.remove(five.get(2));

        five.get(2).available(false);
        assertThat(placement(selector)).isEqualTo(placement(ring(four, USER)));

        five.get(2).available(true);
        assertThat(placement(selector)).isEqualTo(before);
    }

    @Test
    void weightZeroRebuildsTheRingWithoutTheBackendAndBackAgain() {
        List<Backend> five = backends(1, 1, 1, 1, 1);
        BackendSelector selector = ring(five, USER);
        Map<Integer, Backend> before = placement(selector);
        List<Backend> four = new ArrayList<>(five);
        four.remove(five.get(0));

        five.get(0).weight(0);
        assertThat(placement(selector)).isEqualTo(placement(ring(four, USER)));
        assertThat(((ConsistentHashSelector) selector).pointCounts()).containsExactly(0, 160, 160, 160, 160);

        five.get(0).weight(1);
        assertThat(placement(selector)).isEqualTo(before);
    }

    @Test
    void aBackendOfWeightTwoGetsAboutTwiceTheKeys() {
        List<Backend> backends = backends(2, 1, 1, 1, 1);
        BackendSelector selector = ring(backends, USER);

        int[] counts = keysPerBackend(placement(selector), backends);

        assertThat(((ConsistentHashSelector) selector).pointCounts()).containsExactly(320, 160, 160, 160, 160);
        double othersMean = (counts[1] + counts[2] + counts[3] + counts[4]) / 4.0;
        assertThat(counts[0] / othersMean).isBetween(1.6, 2.4);
    }

    @Test
    void raisingAWeightOnlyMovesKeysToThatBackend() {
        List<Backend> backends = backends(1, 1, 1, 1, 1);
        BackendSelector selector = ring(backends, USER);
        Map<Integer, Backend> before = placement(selector);

        backends.get(1).weight(2);
        Map<Integer, Backend> after = placement(selector);

        int moved = 0;
        for (int i = 0; i < KEYS; i++) {
            if (after.get(i) != before.get(i)) {
                moved++;
                assertThat(after.get(i)).isSameAs(backends.get(1));
            }
        }
        assertThat(moved).isBetween(KEYS / 10, KEYS / 4);
    }

    @Test
    void hugeWeightsAreScaledToABoundedRing() {
        List<Backend> backends = backends(Integer.MAX_VALUE, Integer.MAX_VALUE / 2, 1);
        ConsistentHashSelector selector = (ConsistentHashSelector) ring(backends, USER);

        int[] points = selector.pointCounts();

        assertThat(points[0] + points[1] + points[2]).isLessThanOrEqualTo(ConsistentHashSelector.MAX_POINTS);
        assertThat(points[0] / (double) points[1]).isBetween(1.99, 2.01);
        assertThat(points[2]).isEqualTo(1);
        assertThat(selector.select(user(1), null)).isNotNull();
    }

    @Test
    void aRetryWalksOnToTheNextBackendOnTheRing() {
        List<Backend> backends = backends(1, 1, 1, 1, 1);
        BackendSelector selector = ring(backends, USER);

        for (int i = 0; i < 200; i++) {
            Backend first = selector.select(user(i), null);
            Backend retry = selector.select(user(i), first);
            first.available(false);
            Backend withoutFirst = selector.select(user(i), null);
            first.available(true);

            assertThat(retry).isNotSameAs(first).isSameAs(withoutFirst);
        }
    }

    @Test
    void eachKeySourceIsRead() {
        List<Backend> backends = backends(1, 1, 1, 1, 1);
        BackendSelector byIp = ring(backends, HashKey.clientIp());
        BackendSelector byCookie = ring(backends, HashKey.cookie("uid"));
        BackendSelector byPath = ring(backends, HashKey.path());
        BackendSelector byHeader = ring(backends, USER);

        for (int i = 0; i < 100; i++) {
            String value = "key-" + i;
            Backend expected = byIp.select(TestRequest.fromIp(value), null);
            assertThat(byCookie.select(TestRequest.withCookie("10.9.9.9", "uid", value), null))
                    .isSameAs(expected);
            assertThat(byPath.select(TestRequest.withPath(value), null)).isSameAs(expected);
            assertThat(byHeader.select(TestRequest.withHeader("10.9.9.9", "x-user", value), null))
                    .isSameAs(expected);
        }
    }

    @Test
    void aRequestWithoutTheKeyIsHashedByItsClientIp() {
        List<Backend> backends = backends(1, 1, 1, 1, 1);
        BackendSelector byHeader = ring(backends, USER);
        BackendSelector byCookie = ring(backends, HashKey.cookie("uid"));
        BackendSelector byIp = ring(backends, HashKey.clientIp());

        for (int i = 0; i < 100; i++) {
            String ip = "192.0.2." + i;
            Backend expected = byIp.select(TestRequest.fromIp(ip), null);
            assertThat(byHeader.select(TestRequest.fromIp(ip), null)).isSameAs(expected);
            assertThat(byHeader.select(TestRequest.withHeader(ip, "X-User", ""), null))
                    .as("empty value")
                    .isSameAs(expected);
            assertThat(byCookie.select(TestRequest.withCookie(ip, "other", "x"), null))
                    .isSameAs(expected);
        }
    }

    @Test
    void aCallerWithoutARequestGetsAWeightedRandomPick() {
        List<Backend> backends = backends(3, 1);
        Random random = new Random(11);
        BackendSelector selector = new ConsistentHashSelector(backends, USER, () -> random);

        int[] counts = StrategyTest.counts(selector, backends, 10_000);

        assertThat(counts[0]).isBetween(7_000, 8_000);
    }

    @Test
    void aPickWithAKeyAllocatesNothing() {
        com.sun.management.ThreadMXBean threads = StrategyTest.threadBean();
        List<Backend> backends = backends(1, 1, 1, 1, 1);
        BackendSelector selector = ring(backends, USER);
        // A view that answers without allocating, as the engine's does; TestRequest's lookup would allocate.
        RequestView request = new RequestView() {
            @Override
            public String clientIp() {
                return "10.0.0.1";
            }

            @Override
            public String header(String name) {
                return "user-42";
            }

            @Override
            public String cookie(String name) {
                return null;
            }

            @Override
            public String path() {
                return "/";
            }
        };
        Backend exclude = selector.select(request, null);
        int calls = 100_000;
        int sink = 0;
        for (int i = 0; i < calls; i++) {
            sink += selector.select(request, (i & 1) == 0 ? null : exclude).weight();
        }

        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < calls; i++) {
            sink += selector.select(request, (i & 1) == 0 ? null : exclude).weight();
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;

        assertThat(sink).isPositive();
        assertThat(allocated).isLessThan(calls);
    }
}
