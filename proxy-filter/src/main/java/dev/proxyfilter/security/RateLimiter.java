package dev.proxyfilter.security;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.proxyfilter.config.HashKey;
import dev.proxyfilter.config.RateLimitConfig;
import dev.proxyfilter.time.ProxyClock;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TimeMeter;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * One rate limit: a Bucket4j token bucket per key (client IP or a header value) in a bounded Caffeine
 * table.
 *
 * <p>The table holds at most {@code maxKeys} buckets; past that the least recently used go. A bucket
 * unused for as long as an empty one takes to fill up is full again, so it expires after that time:
 * forgetting it changes nothing. Eviction by size does reset a bucket, which only a flood of distinct
 * keys (more than {@code maxKeys} active at once) can cause; the bound is what keeps that flood from
 * growing the heap. Header values longer than {@value #MAX_KEY_CHARS} characters are keyed by their
 * SHA-256, so a key costs little memory whatever the client sends.
 *
 * <p>Maintenance runs on the calling thread ({@code executor(Runnable::run)}), never in the common
 * fork-join pool, where it could pin a webapp's class loader.
 */
public final class RateLimiter {
    static final int MAX_KEY_CHARS = 128;

    private final String name;
    private final RateLimitConfig config;
    private final int maxKeys;
    private final Cache<String, Bucket> buckets;
    private final TimeMeter meter;
    private final Bandwidth bandwidth;
    private final String policy;

    /**
     * @param name  the policy name in {@code RateLimit} headers, e.g. {@code global} or the route's name
     * @param clock whose {@link ProxyClock#nanoTime() ticker} refills the buckets and expires idle ones
     */
    public RateLimiter(String name, RateLimitConfig config, int maxKeys, ProxyClock clock) {
        this.name = name;
        this.config = config;
        this.maxKeys = maxKeys;
        this.meter = new TimeMeter() {
            @Override
            public long currentTimeNanos() {
                return clock.nanoTime();
            }

            @Override
            public boolean isWallClockBased() {
                return false;
            }
        };
        this.bandwidth = Bandwidth.builder()
                .capacity(config.burst())
                .refillGreedy(config.tokens(), config.period())
                .initialTokens(config.burst())
                .build();
        Duration idle = config.fullRefill().plusSeconds(1);
        this.buckets = Caffeine.newBuilder()
                .maximumSize(maxKeys)
                .expireAfterAccess(idle)
                .ticker(clock::nanoTime)
                .executor(Runnable::run)
                .build();
        long windowSeconds = Math.max(1, (config.fullRefill().toMillis() + 999) / 1000);
        this.policy = "\"" + name + "\";q=" + config.burst() + ";w=" + windowSeconds;
    }

    /**
     * As {@link #RateLimiter(String, RateLimitConfig, int, ProxyClock)} on a bare nanosecond clock.
     *
     * @deprecated pass the engine's {@link ProxyClock}, so that one clock moves everything
     */
    @Deprecated
    public RateLimiter(String name, RateLimitConfig config, int maxKeys, LongSupplier nanoTime) {
        this(name, config, maxKeys, ProxyClock.of(InstantSource.system(), nanoTime));
    }

    /** Whether this limiter enforces exactly that policy, so that a reload can keep it with its buckets. */
    boolean enforces(String name, RateLimitConfig config, int maxKeys) {
        return this.name.equals(name) && this.config.equals(config) && this.maxKeys == maxKeys;
    }

    /** The outcome of one try. */
    public record Outcome(boolean allowed, long remaining, long retryAfterSeconds) {}

    /** The bucket key of a request: its header value when keyed by a header and present, else the client IP. */
    public String key(ClientRequest request, String clientIp) {
        HashKey key = config.key();
        if (key.source() == HashKey.Source.HEADER) {
            String value = request.header(key.name());
            if (value != null) {
                return "h:" + (value.length() <= MAX_KEY_CHARS ? value : sha256(value));
            }
        }
        return "ip:" + clientIp;
    }

    /** Takes a token from {@code key}'s bucket. */
    public Outcome tryAcquire(String key) {
        Bucket bucket = buckets.get(
                key,
                k -> Bucket.builder()
                        .addLimit(bandwidth)
                        .withCustomTimePrecision(meter)
                        .build());
        ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(1);
        if (probe.isConsumed()) {
            return new Outcome(true, probe.getRemainingTokens(), 0);
        }
        long seconds = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(probe.getNanosToWaitForRefill() + 999_999_999L));
        return new Outcome(false, 0, seconds);
    }

    /** Gives back a token taken by {@link #tryAcquire}, for a request another limit refused. */
    public void refund(String key) {
        Bucket bucket = buckets.getIfPresent(key);
        if (bucket != null) {
            bucket.addTokens(1);
        }
    }

    /** {@code RateLimit-Policy} member: {@code "name";q=BURST;w=SECONDS-TO-REFILL}. */
    public String policy() {
        return policy;
    }

    /** The configuration. */
    public RateLimitConfig config() {
        return config;
    }

    /** How many buckets the table holds now, after pending maintenance. */
    public long size() {
        buckets.cleanUp();
        return buckets.estimatedSize();
    }

    private static String sha256(String value) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
            return "#" + Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java platform", e);
        }
    }
}
