package dev.proxyfilter.security;

import dev.proxyfilter.config.RateLimitConfig;
import io.github.bucket4j.ConsumptionProbe;
import java.time.Duration;
import java.util.concurrent.CompletionStage;

/**
 * Token buckets kept outside this instance and shared by every instance of a cluster, so that a rate limit
 * holds across all of them rather than on each. The engine hands one to {@link Security#start} when the
 * cluster shares its rate limits ({@code cluster.rate-limits=cluster}); the implementation, on Hazelcast, lives
 * in the cluster packages, so that this package never names a cluster type.
 *
 * <p>{@link RateLimiter} asks it first and never waits for it longer than {@link #timeout()}: when it is late or
 * fails, the instance's own bucket for the key decides (see {@link RateLimiter} for how long).
 */
public interface SharedBuckets extends AutoCloseable {

    /**
     * The buckets of one rate limit. Instances that ask with the same name and the same rate, period and burst
     * share them; a limit whose settings change (a reload) starts with full buckets, as it does on one instance.
     *
     * @param name   the limit's policy name, {@code global} or {@code route-NAME}
     * @param config its rate, period and burst
     */
    Limit limit(String name, RateLimitConfig config);

    /** How long a request waits for a shared bucket before its own instance decides. */
    Duration timeout();

    /** Stops what the buckets run on; the shared state stays with the cluster. */
    @Override
    default void close() {}

    /** The shared buckets of one rate limit, by key. */
    interface Limit {
        /**
         * Takes a token from {@code key}'s bucket, created full when it does not exist. Completes with Bucket4j's
         * probe (taken or not, tokens left, nanoseconds until the next one), or exceptionally when the store
         * cannot answer. Must not block.
         */
        CompletionStage<ConsumptionProbe> tryConsume(String key);

        /** Gives a token back to {@code key}'s bucket, without waiting for it; best effort. */
        void refund(String key);
    }
}
