package dev.proxyfilter.balance;

import dev.proxyfilter.config.PoolConfig;
import java.util.List;

/**
 * A named set of backends and the strategy that picks among them.
 *
 * <p>The set is fixed when the pool is built; what changes at run time is each {@link Backend}'s weight
 * and availability, which the next {@link #select(Backend)} takes into account.
 */
public final class BackendPool {
    private final String name;
    private final List<Backend> backends;
    private final Strategy strategy;
    private final BackendSelector selector;

    /** A pool with the configured backends, all available, picked by the configured strategy. */
    public BackendPool(PoolConfig config) {
        this.name = config.name();
        this.backends = config.backends().stream().map(b -> new Backend(config.name(), b)).toList();
        this.strategy = Strategy.of(config.strategy());
        this.selector = strategy.newSelector(backends);
    }

    /** The pool's name. */
    public String name() {
        return name;
    }

    /** The backends, in configuration order; unmodifiable. */
    public List<Backend> backends() {
        return backends;
    }

    /**
     * Picks a backend for a new request, or {@code null} when none can take it; the rules are those of
     * {@link BackendSelector#select(Backend)}.
     *
     * @param exclude a backend already tried for this request, avoided while another can take the
     *                request and returned when it is the only one; may be null
     */
    public Backend select(Backend exclude) {
        return selector.select(exclude);
    }

    @Override
    public String toString() {
        return "BackendPool[" + name + ", " + strategy + ", " + backends.size() + " backends]";
    }
}
