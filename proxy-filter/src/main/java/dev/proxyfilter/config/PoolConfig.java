package dev.proxyfilter.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A named set of backends and the strategy that spreads requests over them.
 *
 * @param name     the pool name, the {@code NAME} of {@code pool.NAME.*}
 * @param strategy how a backend is picked
 * @param backends at least one backend, in the order their names sort
 * @param hashKey  what {@link StrategyName#CONSISTENT_HASH} hashes: required by that strategy and
 *                 {@code null} for every other one
 * @param sticky   session affinity by cookie, with any strategy; {@code null} for none
 * @param maxPending   requests that may wait when every backend is at its {@code max-connections};
 *                     past it the proxy answers 503 at once
 * @param queueTimeout longest wait in that queue before 503
 * @param health   health checks, outlier ejection, panic mode and slow start
 * @param protocol HTTP/1.1 or HTTP/2 to the backends, and HTTP/2's connection and stream bounds
 */
public record PoolConfig(
        String name,
        StrategyName strategy,
        List<BackendConfig> backends,
        HashKey hashKey,
        StickyConfig sticky,
        int maxPending,
        Duration queueTimeout,
        HealthConfig health,
        UpstreamProtocol protocol) {
    /** Default {@code pool.NAME.max-pending}. */
    public static final int DEFAULT_MAX_PENDING = 0;
    /** Default {@code pool.NAME.queue-timeout}. */
    public static final Duration DEFAULT_QUEUE_TIMEOUT = Duration.ofSeconds(1);

    public PoolConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(strategy, "strategy");
        backends = List.copyOf(backends);
        if (backends.isEmpty()) {
            throw new IllegalArgumentException("pool " + name + " has no backend");
        }
        Objects.requireNonNull(queueTimeout, "queueTimeout");
        if (maxPending < 0 || queueTimeout.isNegative() || queueTimeout.isZero()) {
            throw new IllegalArgumentException("pool " + name + ": maxPending >= 0 and queueTimeout > 0 expected");
        }
        if (strategy == StrategyName.CONSISTENT_HASH && hashKey == null) {
            throw new IllegalArgumentException("pool " + name + ": strategy consistent-hash needs a hash key");
        }
        if (strategy != StrategyName.CONSISTENT_HASH && hashKey != null) {
            throw new IllegalArgumentException("pool " + name + ": hash key " + hashKey
                    + " needs strategy consistent-hash, not " + strategy.configName());
        }
        Objects.requireNonNull(health, "health");
        Objects.requireNonNull(protocol, "protocol");
        if (backends.stream().allMatch(BackendConfig::backup)) {
            throw new IllegalArgumentException("pool " + name + " has only backup backends");
        }
        if (!health.slowStart().isZero()) {
            for (BackendConfig backend : backends) {
                if (backend.weight() > HealthConfig.MAX_WEIGHT_WITH_SLOW_START) {
                    throw new IllegalArgumentException(
                            "pool " + name + ": weight " + backend.weight() + " of backend " + backend.name()
                                    + " is above " + HealthConfig.MAX_WEIGHT_WITH_SLOW_START + " with slow start");
                }
            }
        }
    }

    /** A pool spoken to over HTTP/1.1. */
    public PoolConfig(
            String name,
            StrategyName strategy,
            List<BackendConfig> backends,
            HashKey hashKey,
            StickyConfig sticky,
            int maxPending,
            Duration queueTimeout,
            HealthConfig health) {
        this(name, strategy, backends, hashKey, sticky, maxPending, queueTimeout, health, UpstreamProtocol.DEFAULT);
    }

    /** This pool spoken to with {@code protocol}. */
    public PoolConfig withProtocol(UpstreamProtocol protocol) {
        return new PoolConfig(name, strategy, backends, hashKey, sticky, maxPending, queueTimeout, health, protocol);
    }

    /** A pool without hash key, session affinity or pending queue, with the default {@link HealthConfig}. */
    public PoolConfig(String name, StrategyName strategy, List<BackendConfig> backends) {
        this(name, strategy, backends, null, null);
    }

    /** A pool without a pending queue, with the default {@link HealthConfig}. */
    public PoolConfig(
            String name, StrategyName strategy, List<BackendConfig> backends, HashKey hashKey, StickyConfig sticky) {
        this(name, strategy, backends, hashKey, sticky, HealthConfig.DEFAULT);
    }

    /** A pool without a pending queue. */
    public PoolConfig(
            String name,
            StrategyName strategy,
            List<BackendConfig> backends,
            HashKey hashKey,
            StickyConfig sticky,
            HealthConfig health) {
        this(name, strategy, backends, hashKey, sticky, DEFAULT_MAX_PENDING, DEFAULT_QUEUE_TIMEOUT, health);
    }

    /** A pool with the default {@link HealthConfig}. */
    public PoolConfig(
            String name,
            StrategyName strategy,
            List<BackendConfig> backends,
            HashKey hashKey,
            StickyConfig sticky,
            int maxPending,
            Duration queueTimeout) {
        this(name, strategy, backends, hashKey, sticky, maxPending, queueTimeout, HealthConfig.DEFAULT);
    }
}
