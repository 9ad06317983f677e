package dev.proxyfilter.balance;

import java.util.Arrays;
import java.util.List;

/**
 * Smooth weighted round-robin, after nginx's {@code ngx_http_upstream_get_peer}.
 *
 * <p>Each pick adds every eligible backend's weight to its current weight, takes the backend with the
 * highest current weight (the first on a tie) and subtracts the total of the weights from it. Over
 * {@code sum(weights)} picks each backend is chosen exactly {@code weight} times, and the heavy ones are
 * interleaved with the light ones instead of coming in a burst: 5, 1, 1 gives {@code a a b a c a a}.
 *
 * <p>Weights and availability are read under the lock at each pick. When any of them differs from the
 * previous pick, the current weights restart from zero. Otherwise a backend that left would take its
 * accumulated credit or debt along, and the remaining ones would run in a burst until it wore off. The
 * {@code exclude} of a retry is not such a change: it is skipped for that pick only, as nginx skips the
 * peers a request has tried. nginx's {@code effective_weight}, which shrinks on failures, is left to
 * health ({@link BackendHealth}): ejection takes a failing backend out, and slow start changes the weight
 * of one that comes back in ten steps only, so that the cycle restarts ten times per ramp rather than at
 * every pick.
 *
 * <p>One short {@code synchronized} section per pick and pool, with no allocation: the state is two
 * arrays that are updated in place.
 */
final class WeightedRoundRobinSelector implements BackendSelector {
    private final Backend[] backends;
    /** Effective weight of each backend at the previous pick; 0 while not eligible. */
    private final int[] weights;
    /** nginx's {@code current_weight}; long so that large weights cannot overflow. */
    private final long[] current;

    private final Object lock = new Object();

    WeightedRoundRobinSelector(List<Backend> backends) {
        this.backends = backends.toArray(new Backend[0]);
        this.weights = new int[this.backends.length];
        this.current = new long[this.backends.length];
    }

    @Override
    public Backend select(RequestView request, Backend exclude) {
        synchronized (lock) {
            boolean changed = false;
            for (int i = 0; i < backends.length; i++) {
                int w = backends[i].effectiveWeight();
                if (w != weights[i]) {
                    weights[i] = w;
                    changed = true;
                }
            }
            if (changed) {
                Arrays.fill(current, 0);
            }
            long total = 0;
            int best = -1;
            boolean excludeEligible = false;
            for (int i = 0; i < backends.length; i++) {
                int w = weights[i];
                if (w == 0) {
                    continue;
                }
                if (backends[i] == exclude) {
                    excludeEligible = true;
                    continue;
                }
                current[i] += w;
                total += w;
                if (best < 0 || current[i] > current[best]) {
                    best = i;
                }
            }
            if (best < 0) {
                return excludeEligible ? exclude : null;
            }
            current[best] -= total;
            return backends[best];
        }
    }
}
