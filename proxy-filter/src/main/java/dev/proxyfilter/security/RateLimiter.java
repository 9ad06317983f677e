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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One rate limit: a Bucket4j token bucket per key (client IP or a header value) in a bounded Caffeine
 * table, or, in a cluster that shares its rate limits, one bucket per key for the whole cluster.
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
 *
 * <h2>Shared buckets</h2>
 * With {@link SharedBuckets} (a cluster), a token comes from the cluster's bucket for the key, so that the limit
 * holds across instances. Three rules keep that from costing a request more than it must:
 * <ul>
 *   <li><b>Bounded wait.</b> A request waits for the cluster at most {@link SharedBuckets#timeout()}. When the
 *       cluster is late or fails, this instance's own bucket for the key decides (the table above, as without
 *       a cluster), and so it does for the next {@value #LOCAL_AFTER_FAILURE_MILLIS} ms, so that an outage
 *       costs one wait per second rather than one per request; then the cluster is asked again. Meanwhile
 *       each instance limits on its own: a cluster of N admits up to N times the limit, never an unlimited
 *       flood, and never a hung request.</li>
 *   <li><b>Known-empty keys stay local.</b> When the cluster says a key's bucket is empty, that key is
 *       refused here without asking again until its next token is due: a client hammering past its limit
 *       costs the cluster about one call per refill per instance. (Only a refund could add a token sooner;
 *       missing one costs a client a few milliseconds at most.)</li>
 *   <li><b>Refunds go where the token came from.</b></li>
 * </ul>
 */
public final class RateLimiter {
    private static final Logger LOG = LoggerFactory.getLogger(RateLimiter.class);

    static final int MAX_KEY_CHARS = 128;
    /** How long this instance decides alone after the cluster failed to answer. */
    static final long LOCAL_AFTER_FAILURE_MILLIS = 1_000;

    private final String name;
    private final RateLimitConfig config;
    private final int maxKeys;
    private final Cache<String, Bucket> buckets;
    private final TimeMeter meter;
    private final Bandwidth bandwidth;
    private final String policy;
    private final ProxyClock clock;

    /** The cluster's buckets of this limit, or null: this instance's only. */
    private final SharedBuckets.Limit shared;

    private final SharedBuckets sharedSource;
    private final long sharedTimeoutNanos;
    /** Keys whose shared bucket was found empty, to when its next token is due ({@link ProxyClock#nanoTime}). */
    private final Cache<String, Long> emptyUntil;
    /** Until when ({@link ProxyClock#nanoTime}) this instance decides alone after a failure; 0 when it does not. */
    private volatile long localUntil;

    private final AtomicBoolean failing = new AtomicBoolean();
    private final LongAdder sharedFailures = new LongAdder();

    /**
     * @param name  the policy name in {@code RateLimit} headers, e.g. {@code global} or the route's name
     * @param clock whose {@link ProxyClock#nanoTime() ticker} refills the buckets and expires idle ones
     */
    public RateLimiter(String name, RateLimitConfig config, int maxKeys, ProxyClock clock) {
        this(name, config, maxKeys, clock, null);
    }

    /**
     * @param name   the policy name in {@code RateLimit} headers, e.g. {@code global} or the route's name
     * @param clock  whose {@link ProxyClock#nanoTime() ticker} refills the local buckets and expires idle ones
     * @param shared the cluster's buckets, asked first; {@code null} for this instance's buckets only
     */
    public RateLimiter(String name, RateLimitConfig config, int maxKeys, ProxyClock clock, SharedBuckets shared) {
        this.name = name;
        this.clock = clock;
        this.sharedSource = shared;
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
        this.bandwidth = bandwidth(config);
        Duration idle = config.fullRefill().plusSeconds(1);
        this.buckets = Caffeine.newBuilder()
                .maximumSize(maxKeys)
                .expireAfterAccess(idle)
                .ticker(clock::nanoTime)
                .executor(Runnable::run)
                .build();
        long windowSeconds = Math.max(1, (config.fullRefill().toMillis() + 999) / 1000);
        this.policy = "\"" + name + "\";q=" + config.burst() + ";w=" + windowSeconds;
        if (shared == null) {
            this.shared = null;
            this.sharedTimeoutNanos = 0;
            this.emptyUntil = null;
        } else {
            this.shared = shared.limit(name, config);
            this.sharedTimeoutNanos = shared.timeout().toNanos();
            this.emptyUntil = Caffeine.newBuilder()
                    .maximumSize(maxKeys)
                    .expireAfterWrite(idle)
                    .ticker(clock::nanoTime)
                    .executor(Runnable::run)
                    .build();
        }
    }

    /**
     * The token bucket of {@code config}: {@code burst} tokens, full at first, refilled greedily at the rate;
     * the same on one instance and in a cluster.
     */
    public static Bandwidth bandwidth(RateLimitConfig config) {
        return Bandwidth.builder()
                .capacity(config.burst())
                .refillGreedy(config.tokens(), config.period())
                .initialTokens(config.burst())
                .build();
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
    boolean enforces(String name, RateLimitConfig config, int maxKeys, SharedBuckets shared) {
        return this.name.equals(name)
                && this.config.equals(config)
                && this.maxKeys == maxKeys
                && this.sharedSource == shared;
    }

    /**
     * The outcome of one try.
     *
     * @param shared whether the cluster's bucket decided, rather than this instance's
     */
    public record Outcome(boolean allowed, long remaining, long retryAfterSeconds, boolean shared) {
        /** An outcome of this instance's bucket. */
        public Outcome(boolean allowed, long remaining, long retryAfterSeconds) {
            this(allowed, remaining, retryAfterSeconds, false);
        }
    }

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

    /**
     * Takes a token from {@code key}'s bucket: the cluster's when it is shared and answers in time, else this
     * instance's. Blocks for at most {@link SharedBuckets#timeout()}.
     */
    public Outcome tryAcquire(String key) {
        if (shared != null) {
            Outcome outcome = tryShared(key);
            if (outcome != null) {
                return outcome;
            }
        }
        Bucket bucket = buckets.get(
                key,
                k -> Bucket.builder()
                        .addLimit(bandwidth)
                        .withCustomTimePrecision(meter)
                        .build());
        return outcome(bucket.tryConsumeAndReturnRemaining(1), false);
    }

    /** The cluster's verdict, or null when this instance must decide: the cluster failed, now or lately. */
    private Outcome tryShared(String key) {
        long now = clock.nanoTime();
        long until = localUntil;
        if (until != 0 && now - until < 0) {
            return null;
        }
        Long empty = emptyUntil.getIfPresent(key);
        if (empty != null && empty - now > 0) {
            return refused(empty - now, true);
        }
        ConsumptionProbe probe;
        try {
            probe = shared.tryConsume(key).toCompletableFuture().get(sharedTimeoutNanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (TimeoutException e) {
            failed(now, "did not answer within " + TimeUnit.NANOSECONDS.toMillis(sharedTimeoutNanos) + " ms");
            return null;
        } catch (ExecutionException e) {
            failed(now, "failed: " + e.getCause());
            return null;
        } catch (RuntimeException e) {
            failed(now, "failed: " + e);
            return null;
        }
        if (failing.compareAndSet(true, false)) {
            localUntil = 0;
            LOG.info("rate limit {}: the cluster answers again; its buckets decide", name);
        }
        if (!probe.isConsumed()) {
            emptyUntil.put(key, now + Math.max(1, probe.getNanosToWaitForRefill()));
        }
        return outcome(probe, true);
    }

    private void failed(long now, String how) {
        sharedFailures.increment();
        localUntil = now + TimeUnit.MILLISECONDS.toNanos(LOCAL_AFTER_FAILURE_MILLIS);
        if (failing.compareAndSet(false, true)) {
            LOG.warn(
                    "rate limit {}: the cluster's bucket {}; this instance's own buckets decide until it answers"
                            + " (asked again every {} ms)",
                    name,
                    how,
                    LOCAL_AFTER_FAILURE_MILLIS);
        }
    }

    private static Outcome outcome(ConsumptionProbe probe, boolean shared) {
        if (probe.isConsumed()) {
            return new Outcome(true, probe.getRemainingTokens(), 0, shared);
        }
        return refused(probe.getNanosToWaitForRefill(), shared);
    }

    private static Outcome refused(long nanosToWait, boolean shared) {
        long seconds = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(nanosToWait + 999_999_999L));
        return new Outcome(false, 0, seconds, shared);
    }

    /** Gives back a token taken from this instance's bucket, for a request another limit refused. */
    public void refund(String key) {
        Bucket bucket = buckets.getIfPresent(key);
        if (bucket != null) {
            bucket.addTokens(1);
        }
    }

    /** Gives back the token {@code taken} took, to the bucket it came from: the cluster's or this instance's. */
    public void refund(String key, Outcome taken) {
        if (taken.shared() && shared != null) {
            shared.refund(key);
        } else {
            refund(key);
        }
    }

    /** Whether the cluster's buckets are asked first. */
    public boolean isShared() {
        return shared != null;
    }

    /** How often the cluster's bucket was late or failed, so that this instance decided. */
    public long sharedFailures() {
        return sharedFailures.sum();
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
