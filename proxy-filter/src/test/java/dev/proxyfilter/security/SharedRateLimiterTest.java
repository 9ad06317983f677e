package dev.proxyfilter.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.HashKey;
import dev.proxyfilter.config.RateLimitConfig;
import dev.proxyfilter.testing.FakeClock;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A rate limit whose buckets the cluster keeps ({@link SharedBuckets}), against a fake cluster: one that answers
 * from a bucket of its own, one that never answers, one that fails at once. The limiter asks the cluster first,
 * never waits longer than the timeout, decides with its own bucket for a second after a failure, and does not
 * ask again about a key it knows is empty.
 */
@Timeout(10)
class SharedRateLimiterTest {
    private static final RateLimitConfig FIVE_PER_SECOND =
            new RateLimitConfig(5, Duration.ofSeconds(1), 5, HashKey.clientIp());

    private final FakeClock clock = new FakeClock();

    /** A cluster with one bucket for every key, on the fake clock; or stalled, or failing. */
    private final class FakeCluster implements SharedBuckets {
        final AtomicInteger calls = new AtomicInteger();
        final List<String> refunds = new CopyOnWriteArrayList<>();
        final Bucket bucket = Bucket.builder()
                .addLimit(RateLimiter.bandwidth(FIVE_PER_SECOND))
                .withCustomTimePrecision(new io.github.bucket4j.TimeMeter() {
                    @Override
                    public long currentTimeNanos() {
                        return clock.nanoTime();
                    }

                    @Override
                    public boolean isWallClockBased() {
                        return false;
                    }
                })
                .build();
        volatile String mode = "answer";

        @Override
        public Limit limit(String name, RateLimitConfig config) {
            return new Limit() {
                @Override
                public CompletionStage<ConsumptionProbe> tryConsume(String key) {
                    calls.incrementAndGet();
                    return switch (mode) {
                        case "answer" -> CompletableFuture.completedFuture(bucket.tryConsumeAndReturnRemaining(1));
                        case "stall" -> new CompletableFuture<>(); // never completes
                        default -> CompletableFuture.failedFuture(new IllegalStateException("cluster down"));
                    };
                }

                @Override
                public void refund(String key) {
                    refunds.add(key);
                }
            };
        }

        @Override
        public Duration timeout() {
            return Duration.ofMillis(50);
        }
    }

    private final FakeCluster cluster = new FakeCluster();
    private final RateLimiter limiter = new RateLimiter("global", FIVE_PER_SECOND, 100, clock, cluster);

    @Test
    void theClustersBucketDecidesAndAKeyKnownEmptyIsRefusedWithoutAskingAgain() {
        for (int i = 0; i < 5; i++) {
            RateLimiter.Outcome outcome = limiter.tryAcquire("ip:a");
            assertThat(outcome.allowed()).isTrue();
            assertThat(outcome.shared()).isTrue();
            assertThat(outcome.remaining()).isEqualTo(4 - i);
        }
        // Other instances took tokens too: one bucket for all.
        assertThat(limiter.tryAcquire("ip:b").allowed())
                .as("the fake cluster has one bucket")
                .isFalse();
        int asked = cluster.calls.get();

        for (int i = 0; i < 10; i++) {
            RateLimiter.Outcome refused = limiter.tryAcquire("ip:b");
            assertThat(refused.allowed()).isFalse();
            assertThat(refused.retryAfterSeconds()).isEqualTo(1);
        }
        assertThat(cluster.calls.get())
                .as("refused locally until the next token is due")
                .isEqualTo(asked);

        clock.advance(Duration.ofMillis(200)); // the next token
        assertThat(limiter.tryAcquire("ip:b").allowed()).isTrue();
        assertThat(cluster.calls.get()).isEqualTo(asked + 1);
        assertThat(limiter.sharedFailures()).isZero();
    }

    @Test
    void aStalledClusterCostsOneTimeoutThenTheInstanceDecidesAloneForASecond() {
        cluster.mode = "stall";

        long start = System.nanoTime();
        RateLimiter.Outcome first = limiter.tryAcquire("ip:a");
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(first.allowed()).isTrue();
        assertThat(first.shared()).as("this instance's bucket decided").isFalse();
        assertThat(waited)
                .as("waited for the 50 ms timeout, not for the cluster")
                .isBetween(45L, 2_000L);
        start = System.nanoTime();
        int allowed = 1;
        for (int i = 0; i < 9; i++) {
            allowed += limiter.tryAcquire("ip:a").allowed() ? 1 : 0;
        }
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
                .as("no more waits for a second")
                .isLessThan(45);
        assertThat(allowed).as("the local bucket: the burst of 5").isEqualTo(5);
        assertThat(cluster.calls.get()).isEqualTo(1);
        assertThat(limiter.sharedFailures()).isEqualTo(1);

        clock.advance(Duration.ofMillis(999));
        limiter.tryAcquire("ip:a");
        assertThat(cluster.calls.get()).as("still alone").isEqualTo(1);

        cluster.mode = "answer";
        clock.advance(Duration.ofMillis(1));
        RateLimiter.Outcome again = limiter.tryAcquire("ip:a");
        assertThat(again.shared())
                .as("after a second the cluster is asked again")
                .isTrue();
        assertThat(again.allowed()).isTrue();
        assertThat(cluster.calls.get()).isEqualTo(2);
    }

    @Test
    void aFailingClusterCostsNoWaitAtAll() {
        cluster.mode = "fail";

        long start = System.nanoTime();
        RateLimiter.Outcome outcome = limiter.tryAcquire("ip:a");

        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(45);
        assertThat(outcome.allowed()).isTrue();
        assertThat(outcome.shared()).isFalse();
        assertThat(limiter.sharedFailures()).isEqualTo(1);
    }

    @Test
    void aRefundGoesToTheBucketTheTokenCameFrom() {
        RateLimiter.Outcome fromCluster = limiter.tryAcquire("ip:a");
        limiter.refund("ip:a", fromCluster);
        assertThat(cluster.refunds).containsExactly("ip:a");

        cluster.mode = "fail";
        RateLimiter.Outcome local = limiter.tryAcquire("ip:c");
        limiter.refund("ip:c", local);
        assertThat(cluster.refunds).as("a local token goes back locally").containsExactly("ip:a");
    }

    @Test
    void aReloadKeepsALimiterOnlyWithTheSameBuckets() {
        assertThat(limiter.enforces("global", FIVE_PER_SECOND, 100, cluster)).isTrue();
        assertThat(limiter.enforces("global", FIVE_PER_SECOND, 100, null)).isFalse();
        assertThat(limiter.isShared()).isTrue();
        assertThat(new RateLimiter("global", FIVE_PER_SECOND, 100, clock).isShared())
                .isFalse();
    }
}
