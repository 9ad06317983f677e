package dev.proxyfilter.balance;

import static dev.proxyfilter.balance.StrategyTest.counts;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.BackendConfig;
import dev.proxyfilter.testing.FakeClock;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link Strategy#responseTime()}: weighted random over weight / (latency * (in-flight + 1)), on a fake clock. */
class ResponseTimeStrategyTest {
    private static final int PICKS = 40_000;

    private final FakeClock clock = new FakeClock();

    private List<Backend> backends(int... weights) {
        List<Backend> backends = new ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            String name = String.valueOf((char) ('a' + i));
            backends.add(new Backend(
                    "p", new BackendConfig(name, URI.create("http://" + name + ".internal"), weights[i]), clock));
        }
        return List.copyOf(backends);
    }

    private static BackendSelector seeded(List<Backend> backends, long seed) {
        Random random = new Random(seed);
        return new ResponseTimeSelector(backends, () -> random);
    }

    private static void latency(Backend backend, long millis) {
        backend.onResponse(Duration.ofMillis(millis).toNanos());
    }

    private static double share(int[] counts, int index) {
        return counts[index] / (double) PICKS;
    }

    @Test
    void withoutMeasurementsTheSharesAreTheWeights() {
        List<Backend> backends = backends(3, 1);

        assertThat(share(counts(seeded(backends, 1), backends, PICKS), 0)).isBetween(0.73, 0.77);
    }

    @Test
    void aBackendTwiceAsSlowGetsHalfTheTraffic() {
        List<Backend> backends = backends(1, 1);
        latency(backends.get(0), 10);
        latency(backends.get(1), 20);

        int[] counts = counts(seeded(backends, 2), backends, PICKS);

        assertThat(share(counts, 0)).isBetween(0.65, 0.69);
        assertThat(counts[1] / (double) counts[0]).isBetween(0.45, 0.55);
    }

    @Test
    void weightsScaleTheShares() {
        List<Backend> backends = backends(2, 1);
        latency(backends.get(0), 20);
        latency(backends.get(1), 10);

        assertThat(share(counts(seeded(backends, 3), backends, PICKS), 0)).isBetween(0.48, 0.52);
    }

    @Test
    void aBackendWithoutMeasurementCountsAsTheAverageSpeed() {
        List<Backend> backends = backends(1, 1, 1);
        latency(backends.get(0), 10);
        latency(backends.get(1), 30);

        int[] counts = counts(seeded(backends, 4), backends, PICKS);

        // Speeds 1/10 and 1/30 average to 1/15: shares 1/10 : 1/30 : 1/15 = 1/2 : 1/6 : 1/3.
        assertThat(share(counts, 0)).isBetween(0.48, 0.52);
        assertThat(share(counts, 1)).isBetween(0.15, 0.18);
        assertThat(share(counts, 2)).isBetween(0.31, 0.35);
    }

    @Test
    void oneVerySlowBackendDoesNotMakeANewOneLookSlow() {
        List<Backend> backends = backends(1, 1, 1, 1);
        latency(backends.get(0), 1);
        latency(backends.get(1), 1);
        latency(backends.get(2), 5_000);

        int[] counts = counts(seeded(backends, 5), backends, PICKS);

        // Speeds 1, 1 and 1/5000 average to about 2/3: d gets a quarter, as if it were a bit slower than a and b.
        assertThat(share(counts, 3)).as("the new backend d").isBetween(0.23, 0.27);
        assertThat(share(counts, 2)).as("the slow backend c").isLessThan(0.01);
    }

    @Test
    void requestsInFlightCountAgainstTheirBackend() {
        List<Backend> backends = backends(1, 1);
        latency(backends.get(0), 10);
        latency(backends.get(1), 10);
        backends.get(0).onRequestStart();
        backends.get(0).onRequestStart();

        // Shares 1/3 : 1.
        assertThat(share(counts(seeded(backends, 6), backends, PICKS), 0)).isBetween(0.23, 0.27);
    }

    @Test
    void aSlowBackendThatGoesQuietIsTriedAgainAsItsAverageDecays() {
        List<Backend> backends = backends(1, 1);
        latency(backends.get(0), 10);
        latency(backends.get(1), 1_000);
        BackendSelector selector = seeded(backends, 7);
        assertThat(share(counts(selector, backends, PICKS), 1)).isLessThan(0.02);

        // a keeps reporting 10 ms; b, which got almost nothing, is not heard from for a minute.
        for (int i = 0; i < 60; i++) {
            clock.advance(Duration.ofSeconds(1));
            latency(backends.get(0), 10);
        }

        assertThat(share(counts(selector, backends, PICKS), 1)).isBetween(0.35, 0.65);
    }

    @Test
    void followsALatencyChangeWithinAFewResponses() {
        List<Backend> backends = backends(1, 1);
        latency(backends.get(0), 10);
        latency(backends.get(1), 10);
        BackendSelector selector = seeded(backends, 8);
        assertThat(share(counts(selector, backends, PICKS), 0)).isBetween(0.48, 0.52);

        clock.advance(Duration.ofMillis(100));
        for (int i = 0; i < 5; i++) {
            latency(backends.get(0), 90);
        }

        // a averages (10 + 5 * 90) / 6 = 76.7 ms, b 10 ms decayed over 0.1 s to 9.93 ms: a gets 11.5%.
        assertThat(share(counts(selector, backends, PICKS), 0)).isBetween(0.10, 0.13);
    }
}
