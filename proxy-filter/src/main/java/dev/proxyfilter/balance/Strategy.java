package dev.proxyfilter.balance;

import dev.proxyfilter.config.BalanceStrategy;
import java.util.List;

/**
 * How a pool picks a backend for a new request, in the manner of Armeria's
 * {@code EndpointSelectionStrategy}: a strategy is a stateless factory, and the
 * {@link BackendSelector} it makes for one pool holds that pool's selection state.
 *
 * <p>Every strategy follows the same rules: a backend is eligible while it is
 * {@linkplain Backend#available() available} and its {@linkplain Backend#weight() weight} is above zero,
 * both read at each pick; the {@code exclude} argument of {@link BackendSelector#select(Backend)} is
 * avoided while another backend is eligible and returned when it is the only one; and {@code null} means
 * no backend is eligible.
 *
 * <p>The implementations are hidden, and the interface is sealed, so that the selection contract can grow
 * without breaking anyone. Pick one with the static factories.
 */
public sealed interface Strategy permits NamedStrategy {

    /**
     * Smooth weighted round-robin, as nginx's {@code ngx_http_upstream_get_peer}: weights 5, 1, 1 give
     * {@code a a b a c a a}, then the same again. Exact over each cycle; a pick takes a short lock per pool.
     * A change of weight or availability restarts the cycle over the backends now eligible.
     */
    static Strategy weightedRoundRobin() {
        return NamedStrategy.WEIGHTED_ROUND_ROBIN;
    }

    /** Each eligible backend in turn, ignoring weights other than 0. Lock-free. */
    static Strategy roundRobin() {
        return NamedStrategy.ROUND_ROBIN;
    }

    /** A random backend, each with a probability proportional to its weight. */
    static Strategy random() {
        return NamedStrategy.RANDOM;
    }

    /** The strategy a pool is configured with ({@code pool.NAME.strategy}). */
    static Strategy of(BalanceStrategy strategy) {
        return switch (strategy) {
            case WEIGHTED_ROUND_ROBIN -> weightedRoundRobin();
            case ROUND_ROBIN -> roundRobin();
            case RANDOM -> random();
        };
    }

    /**
     * A new selector over {@code backends}, with its own state. The selector is thread-safe, and a pick
     * allocates nothing.
     *
     * @param backends the pool's backends, in a fixed order (ties go to the earlier one)
     */
    BackendSelector newSelector(List<Backend> backends);
}
