package dev.proxyfilter.config;

import java.util.List;
import java.util.Objects;

/**
 * A named set of backends and the strategy that spreads requests over them.
 *
 * @param name     the pool name, the {@code NAME} of {@code pool.NAME.*}
 * @param strategy how a backend is picked
 * @param backends at least one backend, in the order their names sort
 * @param hashKey  what {@link BalanceStrategy#CONSISTENT_HASH} hashes: required by that strategy and
 *                 {@code null} for every other one
 * @param sticky   session affinity by cookie, with any strategy; {@code null} for none
 * @param health   health checks, outlier ejection, panic mode and slow start
 */
public record PoolConfig(String name, BalanceStrategy strategy, List<BackendConfig> backends, HashKey hashKey,
        StickyConfig sticky,
        HealthConfig health) {
    public PoolConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(strategy, "strategy");
        backends = List.copyOf(backends);
        if (backends.isEmpty()) {
            throw new IllegalArgumentException("pool " + name + " has no backend");
        }
        if (strategy == BalanceStrategy.CONSISTENT_HASH && hashKey == null) {
            throw new IllegalArgumentException("pool " + name + ": strategy consistent-hash needs a hash key");
        }
        if (strategy != BalanceStrategy.CONSISTENT_HASH && hashKey != null) {
            throw new IllegalArgumentException("pool " + name + ": hash key " + hashKey + " needs strategy consistent-hash, not "
                    + strategy.configName());
        }
        Objects.requireNonNull(health, "health");
        if (backends.stream().allMatch(BackendConfig::backup)) {
            throw new IllegalArgumentException("pool " + name + " has only backup backends");
        }
        if (!health.slowStart().isZero()) {
            for (BackendConfig backend : backends) {
                if (backend.weight() > HealthConfig.MAX_WEIGHT_WITH_SLOW_START) {
                    throw new IllegalArgumentException("pool " + name + ": weight " + backend.weight() + " of backend "
                            + backend.name() + " is above " + HealthConfig.MAX_WEIGHT_WITH_SLOW_START + " with slow start");
                }
            }
        }
    }

    /** A pool with the default {@link HealthConfig}. */
    public PoolConfig(String name, BalanceStrategy strategy, List<BackendConfig> backends, HashKey hashKey,
            StickyConfig sticky) {
        this(name, strategy, backends, hashKey, sticky, HealthConfig.DEFAULT);
    }

    /** A pool without hash key or session affinity, with the default {@link HealthConfig}. */
    public PoolConfig(String name, BalanceStrategy strategy, List<BackendConfig> backends) {
        this(name, strategy, backends, null, null);
    }
}
