package dev.proxyfilter.balance;

import dev.proxyfilter.config.HashKey;
import dev.proxyfilter.config.PoolConfig;
import dev.proxyfilter.config.StrategyName;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How a pool picks a backend for a new request, in the manner of Armeria's
 * {@code EndpointSelectionStrategy}: a strategy is a stateless factory, and the
 * {@link BackendSelector} it makes for one pool holds that pool's selection state.
 *
 * <p>Every strategy follows the same rules: a backend is eligible while its pool's {@link PoolMode} allows
 * it (normally: while it is {@linkplain BackendState#UP UP}) and its {@linkplain Backend#weight() weight}
 * is above zero, both read at each pick, with the weight ramping up after a return when the pool has slow
 * start; the {@code exclude} argument of {@link BackendSelector#select(RequestView, Backend)}
 * is avoided while another backend is eligible and returned when it is the only one; and {@code null}
 * means no backend is eligible.
 *
 * <p>Which one to choose: {@link #weightedRoundRobin()} for predictable shares over alike requests;
 * {@link #leastRequest()} when requests vary in cost or backends in capacity, since it follows the
 * load each backend actually has; {@link #responseTime()} when backends differ in speed and latency
 * matters more than an even spread; {@link #consistentHash(HashKey)} when requests for the same key
 * (user, path) should land on the same backend, e.g. for its local cache. Session affinity by cookie is
 * not a strategy but a pool option on top of any of them ({@link BackendPool}).
 *
 * <p>The implementations are hidden, and the interface is sealed, so that the selection contract can grow
 * without breaking anyone. Pick one with the static factories.
 */
public sealed interface Strategy permits BuiltInStrategy {

    /**
     * Smooth weighted round-robin, as nginx's {@code ngx_http_upstream_get_peer}: weights 5, 1, 1 give
     * {@code a a b a c a a}, then the same again. Exact over each cycle; a pick takes a short lock per pool.
     * A change of weight or availability restarts the cycle over the backends now eligible.
     */
    static Strategy weightedRoundRobin() {
        return BuiltInStrategy.WEIGHTED_ROUND_ROBIN;
    }

    /** Each eligible backend in turn, ignoring weights other than 0. Lock-free. */
    static Strategy roundRobin() {
        return BuiltInStrategy.ROUND_ROBIN;
    }

    /** A random backend, each with a probability proportional to its weight. */
    static Strategy random() {
        return BuiltInStrategy.RANDOM;
    }

    /**
     * Weighted least outstanding requests by the power of two choices, as Envoy: of two distinct eligible
     * backends drawn at random, the one with the lower {@code inFlight / weight}; a tie goes to either with
     * a probability proportional to its weight, so that an idle pool still follows the weights. Reads
     * {@link Backend#inFlight()}. Lock-free.
     */
    static Strategy leastRequest() {
        return BuiltInStrategy.LEAST_REQUEST;
    }

    /**
     * Weighted random with each weight divided by the backend's latency, a moving average of about its
     * last ten response times ({@link Backend#latencyNanos()}), and by {@code inFlight + 1}: a backend
     * twice as slow gets about half the traffic. Backends without a measurement yet count as average.
     * Lock-free.
     */
    static Strategy responseTime() {
        return BuiltInStrategy.RESPONSE_TIME;
    }

    /**
     * A consistent-hash ring over {@code key}, 160 points per unit of weight: the same key reaches the same
     * backend while it is eligible, and a backend that leaves moves only its own keys, to the next backend
     * on the ring. A request without the key is hashed by its client IP. Lock-free, except to rebuild the
     * ring after a weight change.
     */
    static Strategy consistentHash(HashKey key) {
        Objects.requireNonNull(key, "key");
        return new BuiltInStrategy(
                StrategyName.CONSISTENT_HASH,
                backends -> new ConsistentHashSelector(backends, key, ThreadLocalRandom::current));
    }

    /** The strategy a pool is configured with ({@code pool.NAME.strategy} and {@code pool.NAME.hash-key}). */
    static Strategy of(PoolConfig pool) {
        return switch (pool.strategy()) {
            case WEIGHTED_ROUND_ROBIN -> weightedRoundRobin();
            case ROUND_ROBIN -> roundRobin();
            case RANDOM -> random();
            case LEAST_REQUEST -> leastRequest();
            case RESPONSE_TIME -> responseTime();
            case CONSISTENT_HASH -> consistentHash(pool.hashKey());
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
