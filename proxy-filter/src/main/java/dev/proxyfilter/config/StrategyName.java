package dev.proxyfilter.config;

import java.util.Arrays;
import java.util.Optional;

/** The selection strategies a pool can be configured with ({@code pool.NAME.strategy}). */
public enum StrategyName {
    /** Smooth weighted round-robin, as nginx does it: weights 5,1,1 give a a b a c a a. */
    WEIGHTED_ROUND_ROBIN("weighted-round-robin"),
    /** Each backend in turn, ignoring weights (weight 0 still takes no traffic). */
    ROUND_ROBIN("round-robin"),
    /** Uniformly random, weighted. */
    RANDOM("random"),
    /** Weighted least outstanding requests over two random choices, as Envoy's {@code LEAST_REQUEST}. */
    LEAST_REQUEST("least-request"),
    /** Weighted random with each weight divided by a decaying average of the backend's latency. */
    RESPONSE_TIME("response-time"),
    /** A hash ring keyed by {@link PoolConfig#hashKey()}: the same key reaches the same backend. */
    CONSISTENT_HASH("consistent-hash");

    private final String configName;

    StrategyName(String configName) {
        this.configName = configName;
    }

    /** The name used in configuration files. */
    public String configName() {
        return configName;
    }

    /** Looks a strategy up by its configuration name. */
    public static Optional<StrategyName> fromConfigName(String name) {
        return Arrays.stream(values()).filter(s -> s.configName.equals(name)).findFirst();
    }

    /**
     * The accepted names, for error messages:
     * {@code weighted-round-robin|round-robin|random|least-request|response-time|consistent-hash}.
     */
    public static String configNames() {
        return String.join(
                "|", Arrays.stream(values()).map(StrategyName::configName).toList());
    }
}
