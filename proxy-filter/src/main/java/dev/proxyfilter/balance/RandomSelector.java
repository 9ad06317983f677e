package dev.proxyfilter.balance;

import java.util.List;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * A random eligible backend, each with a probability proportional to its weight.
 *
 * <p>The first pass sums the weights, the second walks to the backend the random number falls on. A
 * weight may change between the passes; the pick then goes to the last eligible backend seen.
 */
final class RandomSelector implements BackendSelector {
    private final Backend[] backends;
    private final Supplier<? extends RandomGenerator> random;

    /**
     * @param random gives the generator for the calling thread: {@code ThreadLocalRandom::current} in
     *               production, a seeded one in tests
     */
    RandomSelector(List<Backend> backends, Supplier<? extends RandomGenerator> random) {
        this.backends = backends.toArray(new Backend[0]);
        this.random = random;
    }

    @Override
    public Backend select(RequestView request, Backend exclude) {
        long total = 0;
        boolean excludeEligible = false;
        for (Backend backend : backends) {
            int w = backend.effectiveWeight();
            if (w == 0) {
                continue;
            }
            if (backend == exclude) {
                excludeEligible = true;
                continue;
            }
            total += w;
        }
        if (total == 0) {
            return excludeEligible ? exclude : null;
        }
        long r = random.get().nextLong(total);
        Backend last = null;
        for (Backend backend : backends) {
            int w = backend.effectiveWeight();
            if (w == 0 || backend == exclude) {
                continue;
            }
            r -= w;
            if (r < 0) {
                return backend;
            }
            last = backend;
        }
        return last != null ? last : excludeEligible ? exclude : null;
    }
}
