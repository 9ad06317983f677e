package dev.proxyfilter.balance;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Each eligible backend in turn, lock-free.
 *
 * <p>A pick takes a ticket from a shared counter and starts at the backend it points to. When it has to
 * walk past backends that are not eligible, it advances the counter past them as well, so the next pick
 * starts after the one just chosen: with b down, a b c gives a c a c rather than a c c a c c. Under
 * contention that correction is approximate; without skips every backend gets exactly its share.
 */
final class RoundRobinSelector implements BackendSelector {
    private final Backend[] backends;
    private final AtomicLong next = new AtomicLong();

    RoundRobinSelector(List<Backend> backends) {
        this.backends = backends.toArray(new Backend[0]);
    }

    @Override
    public Backend select(RequestView request, Backend exclude) {
        int n = backends.length;
        if (n == 0) {
            return null;
        }
        int start = Math.floorMod(next.getAndIncrement(), n);
        boolean excludeEligible = false;
        for (int k = 0; k < n; k++) {
            int i = start + k < n ? start + k : start + k - n;
            Backend backend = backends[i];
            if (backend.effectiveWeight() == 0) {
                continue;
            }
            if (backend == exclude) {
                excludeEligible = true;
                continue;
            }
            if (k > 0) {
                next.addAndGet(k);
            }
            return backend;
        }
        return excludeEligible ? exclude : null;
    }
}
