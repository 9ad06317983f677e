package dev.proxyfilter.config;

import java.util.Arrays;
import java.util.Optional;

/** The selection strategies a pool can be configured with ({@code pool.NAME.strategy}). */
public enum BalanceStrategy {
    /** Smooth weighted round-robin, as nginx does it: weights 5,1,1 give a a b a c a a. */
    WEIGHTED_ROUND_ROBIN("weighted-round-robin"),
    /** Each backend in turn, ignoring weights (weight 0 still takes no traffic). */
    ROUND_ROBIN("round-robin"),
    /** Uniformly random, weighted. */
    RANDOM("random");

    private final String configName;

    BalanceStrategy(String configName) {
        this.configName = configName;
    }

    /** The name used in configuration files. */
    public String configName() {
        return configName;
    }

    /** Looks a strategy up by its configuration name. */
    public static Optional<BalanceStrategy> fromConfigName(String name) {
        return Arrays.stream(values()).filter(s -> s.configName.equals(name)).findFirst();
    }

    /** The accepted names, for error messages: {@code weighted-round-robin|round-robin|random}. */
    public static String configNames() {
        return String.join("|", Arrays.stream(values()).map(BalanceStrategy::configName).toList());
    }
}
