package dev.proxyfilter.cluster.hazelcast;

import static io.github.bucket4j.distributed.serialization.InternalSerializationHelper.deserializeResult;
import static io.github.bucket4j.distributed.serialization.InternalSerializationHelper.serializeRequest;

import com.hazelcast.map.IMap;
import dev.proxyfilter.cluster.Cluster;
import dev.proxyfilter.config.ClusterConfig;
import dev.proxyfilter.config.RateLimitConfig;
import dev.proxyfilter.security.RateLimiter;
import dev.proxyfilter.security.SharedBuckets;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.distributed.proxy.AbstractProxyManager;
import io.github.bucket4j.distributed.proxy.ClientSideConfig;
import io.github.bucket4j.distributed.proxy.generic.compare_and_swap.AbstractCompareAndSwapBasedProxyManager;
import io.github.bucket4j.distributed.proxy.generic.compare_and_swap.AsyncCompareAndSwapOperation;
import io.github.bucket4j.distributed.proxy.generic.compare_and_swap.CompareAndSwapOperation;
import io.github.bucket4j.distributed.remote.CommandResult;
import io.github.bucket4j.distributed.remote.RemoteBucketState;
import io.github.bucket4j.distributed.remote.Request;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The token buckets of cluster-wide rate limits ({@code cluster.rate-limits=cluster}) on Hazelcast: the
 * {@link SharedBuckets} the engine loads by name ({@link #open}) and hands to the security layer.
 *
 * <h2>How</h2>
 * Bucket4j's distributed core ({@link AbstractProxyManager}, in {@code bucket4j_jdk17-core}, which the
 * local buckets use already) over one map, {@value #MAP}, of bucket states (Bucket4j's bytes) by
 * {@code limit|burst|rate|key}:
 * <ul>
 *   <li><b>Embedded member</b>: each command is one {@link BucketProcessor} run by the member that owns the key:
 *       one round trip, atomic, no lock and no retry however many instances hit one bucket. States expire once
 *       their bucket would be full again (plus {@value #KEEP_AFTER_REFILL_SECONDS} s), and each has one
 *       asynchronous backup: a member that dies loses at most the last changes of its buckets, which start
 *       full again on its backup's member.</li>
 *   <li><b>Client</b>: the members belong to someone else and run no code of ours, so the state is read and
 *       then replaced if unchanged (compare-and-swap, which Bucket4j retries on a conflict). Hazelcast's map
 *       has no asynchronous conditional replace, so this runs on a small executor of this class, whose full
 *       queue fails the call (the instance then decides alone). Entries do not expire by themselves here:
 *       the members' configuration should give {@value #MAP} a {@code max-idle-seconds} and a size.</li>
 * </ul>
 * Bucket4j's own Hazelcast module ({@code bucket4j_jdk17-hazelcast}) does the same and is not used: it is not
 * published for the core version this project uses, and its processors and serializers would have to match
 * that version's wire format anyway. This class depends on the core's public distributed API only.
 *
 * <p>Time: the member that runs a command reads its own wall clock (Bucket4j's default), so that instances
 * whose clocks differ never see a bucket refill backwards.
 */
public final class HazelcastBuckets implements SharedBuckets {
    private static final Logger LOG = LoggerFactory.getLogger(HazelcastBuckets.class);

    /** The map of bucket states. */
    public static final String MAP = "proxy-filter.rate-limits";

    /** How long an untouched bucket stays after it is full again (full, it is the same as a new one). */
    static final int KEEP_AFTER_REFILL_SECONDS = 1;

    /** How long the start-up waits for the first call to the cluster ({@link #warmUp}). */
    static final int WARM_UP_SECONDS = 2;

    private final Duration timeout;
    /** Starts one command on one key's bucket. */
    private final Function<String, BucketCall> calls;

    private final ThreadPoolExecutor executor;
    private final String nodeId;
    private final AtomicBoolean warm = new AtomicBoolean();

    private HazelcastBuckets(HazelcastCluster cluster, Duration timeout, String nodeId) {
        this.timeout = timeout;
        this.nodeId = nodeId;
        IMap<String, byte[]> map = cluster.map(MAP);
        if (cluster.client()) {
            this.executor = executor();
            var proxies =
                    new CompareAndSwapProxies(map, ClientSideConfig.getDefault().withMaxRetries(64));
            this.calls = key -> new BucketCall() {
                @Override
                public CompletionStage<ConsumptionProbe> tryConsume(BucketConfiguration configuration) {
                    return CompletableFuture.supplyAsync(
                            () -> proxies.builder().build(key, configuration).tryConsumeAndReturnRemaining(1),
                            executor);
                }

                @Override
                public void addToken(BucketConfiguration configuration) {
                    executor.execute(
                            () -> proxies.builder().build(key, configuration).addTokens(1));
                }
            };
        } else {
            this.executor = null;
            var proxies = new ProcessorProxies(
                            map,
                            ClientSideConfig.getDefault()
                                    .withExpirationAfterWriteStrategy(
                                            ExpirationAfterWriteStrategy.basedOnTimeForRefillingBucketUpToMax(
                                                    Duration.ofSeconds(KEEP_AFTER_REFILL_SECONDS))))
                    .asAsync();
            this.calls = key -> new BucketCall() {
                @Override
                public CompletionStage<ConsumptionProbe> tryConsume(BucketConfiguration configuration) {
                    return proxies.builder().build(key, configuration).tryConsumeAndReturnRemaining(1);
                }

                @Override
                public void addToken(BucketConfiguration configuration) {
                    proxies.builder().build(key, configuration).addTokens(1);
                }
            };
        }
    }

    /**
     * The shared buckets of {@code cluster}; what the engine calls by name when the cluster shares its rate
     * limits.
     *
     * @param cluster a started {@link HazelcastCluster}
     * @param config  its configuration: {@code rate-limit-timeout}
     */
    public static HazelcastBuckets open(Cluster cluster, ClusterConfig config) {
        if (!(cluster instanceof HazelcastCluster hazelcast)) {
            throw new IllegalArgumentException("shared rate limits need a HazelcastCluster, not " + cluster);
        }
        return new HazelcastBuckets(hazelcast, config.rateLimitTimeout(), hazelcast.nodeId());
    }

    /**
     * Takes a token from a bucket of this node's own before the first request does, once, when the first limit
     * is built (before the configuration that has it serves): the first command loads Bucket4j's and Hazelcast's
     * classes for it on this node and on the owner, which can take longer than the timeout, and a first request
     * that times out would send this instance's limits local for a second. Without a rate limit, nothing.
     */
    private void warmUp() {
        if (!warm.compareAndSet(false, true)) {
            return;
        }
        String key = "warm-up|" + nodeId;
        BucketConfiguration configuration = BucketConfiguration.builder()
                .addLimit(limit -> limit.capacity(1).refillGreedy(1, Duration.ofSeconds(1)))
                .build();
        try {
            calls.apply(key).tryConsume(configuration).toCompletableFuture().get(WARM_UP_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.warn("cluster-wide rate limits: a first call to the cluster failed; requests will fall back", e);
        }
    }

    private static ThreadPoolExecutor executor() {
        AtomicInteger count = new AtomicInteger();
        ThreadPoolExecutor executor = new ThreadPoolExecutor(
                4,
                4,
                30,
                TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(1024),
                task -> {
                    Thread thread = new Thread(task, "proxy-filter-rate-limit-" + count.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                },
                new ThreadPoolExecutor.AbortPolicy());
        executor.allowCoreThreadTimeOut(true);
        return executor;
    }

    @Override
    public Limit limit(String name, RateLimitConfig config) {
        warmUp();
        BucketConfiguration configuration = BucketConfiguration.builder()
                .addLimit(RateLimiter.bandwidth(config))
                .build();
        String prefix = key(name, config, "");
        return new Limit() {
            @Override
            public CompletionStage<ConsumptionProbe> tryConsume(String key) {
                try {
                    return calls.apply(prefix + key).tryConsume(configuration);
                } catch (RuntimeException e) { // a stopped instance, a full executor
                    return CompletableFuture.failedFuture(e);
                }
            }

            @Override
            public void refund(String key) {
                try {
                    calls.apply(prefix + key).addToken(configuration);
                } catch (RuntimeException e) {
                    LOG.debug("rate limit {}: a refund to the cluster failed", name, e);
                }
            }
        };
    }

    /**
     * The map key of {@code key}'s bucket of limit {@code name}. The settings are part of it: a changed limit
     * starts with full buckets, as on one instance, and instances that disagree (a reload that has not reached
     * every instance yet) never read each other's states.
     */
    public static String key(String name, RateLimitConfig config, String key) {
        return name + '|' + config.burst() + '|' + config.tokens() + '/'
                + config.period().toMillis() + "ms|" + key;
    }

    @Override
    public Duration timeout() {
        return timeout;
    }

    @Override
    public void close() {
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    /** One key's bucket, whichever way it is reached. */
    private interface BucketCall {
        CompletionStage<ConsumptionProbe> tryConsume(BucketConfiguration configuration);

        void addToken(BucketConfiguration configuration);
    }

    /** Bucket4j's commands as {@link BucketProcessor}s on the owner of the key. */
    private static final class ProcessorProxies extends AbstractProxyManager<String> {
        private final IMap<String, byte[]> map;

        ProcessorProxies(IMap<String, byte[]> map, ClientSideConfig config) {
            super(config);
            this.map = map;
        }

        @Override
        protected <T> CommandResult<T> execute(String key, Request<T> request) {
            byte[] answer = map.executeOnKey(key, new BucketProcessor(serializeRequest(request)));
            return deserializeResult(answer, request.getBackwardCompatibilityVersion());
        }

        @Override
        protected <T> CompletableFuture<CommandResult<T>> executeAsync(String key, Request<T> request) {
            return map.submitToKey(key, new BucketProcessor(serializeRequest(request)))
                    .toCompletableFuture()
                    .thenApply(answer -> deserializeResult(answer, request.getBackwardCompatibilityVersion()));
        }

        @Override
        protected CompletableFuture<Void> removeAsync(String key) {
            return map.removeAsync(key).toCompletableFuture().thenApply(removed -> null);
        }

        @Override
        public void removeProxy(String key) {
            map.remove(key);
        }

        @Override
        public boolean isAsyncModeSupported() {
            return true;
        }

        @Override
        public boolean isExpireAfterWriteSupported() {
            return true;
        }
    }

    /** Bucket4j's commands as read, then replace if unchanged: nothing of ours runs on the members. */
    private static final class CompareAndSwapProxies extends AbstractCompareAndSwapBasedProxyManager<String> {
        private final IMap<String, byte[]> map;

        CompareAndSwapProxies(IMap<String, byte[]> map, ClientSideConfig config) {
            super(config);
            this.map = map;
        }

        @Override
        protected CompareAndSwapOperation beginCompareAndSwapOperation(String key) {
            return new CompareAndSwapOperation() {
                @Override
                public Optional<byte[]> getStateData(Optional<Long> timeoutNanos) {
                    return Optional.ofNullable(map.get(key));
                }

                @Override
                public boolean compareAndSwap(
                        byte[] original, byte[] next, RemoteBucketState state, Optional<Long> timeoutNanos) {
                    return original == null ? map.putIfAbsent(key, next) == null : map.replace(key, original, next);
                }
            };
        }

        @Override
        protected AsyncCompareAndSwapOperation beginAsyncCompareAndSwapOperation(String key) {
            throw new UnsupportedOperationException("Hazelcast's map has no asynchronous conditional replace");
        }

        @Override
        protected CompletableFuture<Void> removeAsync(String key) {
            return map.removeAsync(key).toCompletableFuture().thenApply(removed -> null);
        }

        @Override
        public void removeProxy(String key) {
            map.remove(key);
        }

        @Override
        public boolean isAsyncModeSupported() {
            return false;
        }
    }
}
