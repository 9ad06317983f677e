package dev.proxyfilter.config;

import java.time.Duration;
import java.util.Objects;

/**
 * A token bucket per key: {@code security.rate-limit=100/s} with {@code security.rate-limit-burst} and
 * {@code security.rate-limit-key}, or the same under {@code route.NAME.}. A key's bucket holds up to
 * {@code burst} tokens, starts full and gains {@code tokens} every {@code period}, evenly spread; a request
 * takes one or is refused with 429.
 *
 * @param tokens how many tokens a bucket gains per {@code period}, at least 1
 * @param period the refill period, positive
 * @param burst  the bucket's capacity: the most requests a key can send at once after a quiet spell
 * @param key    what a bucket belongs to: {@link HashKey#clientIp()} or {@link HashKey#header(String)};
 *               a request without that header is counted by its client IP
 */
public record RateLimitConfig(long tokens, Duration period, long burst, HashKey key) {
    public RateLimitConfig {
        Objects.requireNonNull(period, "period");
        Objects.requireNonNull(key, "key");
        if (tokens < 1 || burst < 1 || period.isNegative() || period.isZero()) {
            throw new IllegalArgumentException("rate limit: tokens >= 1, burst >= 1 and a positive period expected");
        }
        if (key.source() != HashKey.Source.CLIENT_IP && key.source() != HashKey.Source.HEADER) {
            throw new IllegalArgumentException("rate limit key: " + key + " (expected: client-ip or header:NAME)");
        }
    }

    /** {@code tokens} per {@code period}, a burst of as many, per client IP. */
    public static RateLimitConfig perClientIp(long tokens, Duration period) {
        return new RateLimitConfig(tokens, period, tokens, HashKey.clientIp());
    }

    /** How long an empty bucket takes to fill up again. */
    public Duration fullRefill() {
        // burst * period / tokens, rounded up to the millisecond
        long periodMillis = Math.max(1, period.toMillis());
        double millis = Math.ceil((double) burst * periodMillis / tokens);
        return Duration.ofMillis(millis >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) millis);
    }
}
