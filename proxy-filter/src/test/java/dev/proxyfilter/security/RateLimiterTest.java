package dev.proxyfilter.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.HashKey;
import dev.proxyfilter.config.RateLimitConfig;
import dev.proxyfilter.testing.FakeClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RateLimiterTest {
    private final FakeClock clock = new FakeClock();

    private RateLimiter limiter(long tokens, Duration period, long burst, int maxKeys) {
        return new RateLimiter(
                "global", new RateLimitConfig(tokens, period, burst, HashKey.clientIp()), maxKeys, clock);
    }

    @Test
    void aFullBucketLetsTheBurstThroughThenRefillsEvenly() {
        RateLimiter limiter = limiter(5, Duration.ofSeconds(1), 5, 100);
        for (int i = 0; i < 5; i++) {
            RateLimiter.Outcome outcome = limiter.tryAcquire("ip:a");
            assertThat(outcome.allowed()).isTrue();
            assertThat(outcome.remaining()).isEqualTo(4 - i);
        }
        RateLimiter.Outcome refused = limiter.tryAcquire("ip:a");
        assertThat(refused.allowed()).isFalse();
        assertThat(refused.retryAfterSeconds())
                .as("a token every 200 ms, rounded up to a second")
                .isEqualTo(1);

        clock.advance(Duration.ofMillis(199));
        assertThat(limiter.tryAcquire("ip:a").allowed()).isFalse();
        clock.advance(Duration.ofMillis(1));
        assertThat(limiter.tryAcquire("ip:a").allowed())
                .as("one token after 200 ms")
                .isTrue();
        assertThat(limiter.tryAcquire("ip:a").allowed()).isFalse();

        clock.advance(Duration.ofSeconds(10));
        int passed = 0;
        while (limiter.tryAcquire("ip:a").allowed()) {
            passed++;
        }
        assertThat(passed)
                .as("never more than the burst, however long the pause")
                .isEqualTo(5);
        assertThat(limiter.tryAcquire("ip:b").allowed())
                .as("keys have their own buckets")
                .isTrue();
    }

    @Test
    void aBurstAboveTheRateAndRetryAfterForASlowRate() {
        RateLimiter limiter = limiter(1, Duration.ofMinutes(1), 3, 100);
        for (int i = 0; i < 3; i++) {
            assertThat(limiter.tryAcquire("k").allowed()).isTrue();
        }
        RateLimiter.Outcome refused = limiter.tryAcquire("k");
        assertThat(refused.allowed()).isFalse();
        assertThat(refused.retryAfterSeconds()).isEqualTo(60);
        clock.advance(Duration.ofSeconds(45));
        assertThat(limiter.tryAcquire("k").retryAfterSeconds()).isEqualTo(15);
        assertThat(limiter.policy()).isEqualTo("\"global\";q=3;w=180");
    }

    @Test
    void aRefundGivesTheTokenBack() {
        RateLimiter limiter = limiter(1, Duration.ofHours(1), 1, 100);
        assertThat(limiter.tryAcquire("k").allowed()).isTrue();
        assertThat(limiter.tryAcquire("k").allowed()).isFalse();
        limiter.refund("k");
        assertThat(limiter.tryAcquire("k").allowed()).isTrue();
    }

    @Test
    void theTableStaysWithinItsBoundUnderManyDistinctKeys() {
        RateLimiter limiter = limiter(10, Duration.ofSeconds(1), 10, 1_000);
        for (int i = 0; i < 100_000; i++) {
            limiter.tryAcquire("ip:" + i);
            if (i % 10_000 == 0) {
                assertThat(limiter.size()).isLessThanOrEqualTo(1_000);
            }
        }
        assertThat(limiter.size()).isLessThanOrEqualTo(1_000).isGreaterThan(0);
    }

    @Test
    void anIdleBucketExpiresOnceItWouldBeFullAnyway() {
        RateLimiter limiter = limiter(1, Duration.ofSeconds(1), 2, 100);
        limiter.tryAcquire("k");
        limiter.tryAcquire("k");
        assertThat(limiter.size()).isEqualTo(1);
        clock.advance(Duration.ofSeconds(4));
        assertThat(limiter.size()).isZero();
        assertThat(limiter.tryAcquire("k").remaining()).as("a new, full bucket").isEqualTo(1);
    }

    @Test
    void keysByHeaderFallBackToTheClientIpAndStaySmall() {
        RateLimiter byHeader = new RateLimiter(
                "r", new RateLimitConfig(1, Duration.ofSeconds(1), 1, HashKey.header("X-Api-Key")), 10, clock);
        assertThat(byHeader.key(TestRequest.from("1.2.3.4").header("x-api-key", "alpha"), "1.2.3.4"))
                .isEqualTo("h:alpha");
        assertThat(byHeader.key(TestRequest.from("1.2.3.4"), "1.2.3.4")).isEqualTo("ip:1.2.3.4");
        String huge = "k".repeat(10_000);
        String key = byHeader.key(TestRequest.from("1.2.3.4").header("X-Api-Key", huge), "1.2.3.4");
        assertThat(key).startsWith("h:#").hasSizeLessThan(60);
        assertThat(byHeader.key(TestRequest.from("1.2.3.4").header("X-Api-Key", huge + "x"), "1.2.3.4"))
                .isNotEqualTo(key);

        RateLimiter byIp = limiter(1, Duration.ofSeconds(1), 1, 10);
        assertThat(byIp.key(TestRequest.from("1.2.3.4").header("X-Api-Key", "alpha"), "5.6.7.8"))
                .isEqualTo("ip:5.6.7.8");
    }
}
