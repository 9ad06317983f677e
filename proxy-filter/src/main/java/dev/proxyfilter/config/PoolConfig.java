package dev.proxyfilter.config;

import java.util.List;
import java.util.Objects;

/**
 * A named set of backends and the strategy that spreads requests over them.
 *
 * @param name     the pool name, the {@code NAME} of {@code pool.NAME.*}
 * @param strategy how a backend is picked
 * @param backends at least one backend, in the order their names sort
 */
public record PoolConfig(String name, BalanceStrategy strategy, List<BackendConfig> backends) {
    public PoolConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(strategy, "strategy");
        backends = List.copyOf(backends);
        if (backends.isEmpty()) {
            throw new IllegalArgumentException("pool " + name + " has no backend");
        }
    }
}
