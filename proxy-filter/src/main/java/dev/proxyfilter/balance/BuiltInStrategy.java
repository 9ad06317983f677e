package dev.proxyfilter.balance;

import dev.proxyfilter.config.StrategyName;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;

/** The hidden {@link Strategy}: a name, the one used in configuration, and a selector constructor. */
final class BuiltInStrategy implements Strategy {
    static final Strategy WEIGHTED_ROUND_ROBIN =
            new BuiltInStrategy(StrategyName.WEIGHTED_ROUND_ROBIN, WeightedRoundRobinSelector::new);
    static final Strategy ROUND_ROBIN = new BuiltInStrategy(StrategyName.ROUND_ROBIN, RoundRobinSelector::new);
    static final Strategy RANDOM = new BuiltInStrategy(
            StrategyName.RANDOM, backends -> new RandomSelector(backends, ThreadLocalRandom::current));
    static final Strategy LEAST_REQUEST = new BuiltInStrategy(
            StrategyName.LEAST_REQUEST, backends -> new LeastRequestSelector(backends, ThreadLocalRandom::current));
    static final Strategy RESPONSE_TIME = new BuiltInStrategy(
            StrategyName.RESPONSE_TIME, backends -> new ResponseTimeSelector(backends, ThreadLocalRandom::current));

    private final String name;
    private final Function<List<Backend>, BackendSelector> factory;

    BuiltInStrategy(StrategyName strategy, Function<List<Backend>, BackendSelector> factory) {
        this.name = strategy.configName();
        this.factory = factory;
    }

    @Override
    public BackendSelector newSelector(List<Backend> backends) {
        return factory.apply(backends);
    }

    /** The configuration name, e.g. {@code weighted-round-robin}. */
    @Override
    public String toString() {
        return name;
    }
}
