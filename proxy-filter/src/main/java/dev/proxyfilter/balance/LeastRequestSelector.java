package dev.proxyfilter.balance;

import java.util.List;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * Weighted least request by the power of two choices, as Envoy's {@code LEAST_REQUEST}: two distinct
 * eligible backends drawn at random, and the one with the lower load takes the request.
 *
 * <p>The load is {@code inFlight / weight}, as nginx's weighted {@code least_conn} has it, compared as
 * {@code a * wb < b * wa} in {@code long}, so there is no division and no overflow. A tie goes to either
 * backend with a probability proportional to its weight, where nginx would take the tied peers in
 * weighted round-robin. Ties matter most when the pool is idle, where every load is 0: breaking them by
 * weight is what makes an idle pool of weights 3 and 1 split its requests 3:1 rather than sending them all
 * to the heavier backend, which a "higher weight wins" rule would do. Under load the in-flight counts
 * settle in proportion to the weights. With equal weights it is plain least-in-flight with a coin toss.
 *
 * <p>Two choices rather than a scan of all backends keep a pick O(1) in state compared, and avoid the
 * herd behaviour of "everyone to the single least loaded backend" when in-flight counts lag (Mitzenmacher,
 * "The Power of Two Choices in Randomized Load Balancing"). The pick is lock-free; the counts are the
 * {@link Backend#inFlight()} that the engine maintains, read once per candidate.
 *
 * <p>The first pass counts the eligible backends, the second walks to the two drawn ones. A change of
 * weight or availability between the passes may leave a draw without its backend; the pick then goes to
 * the one found, or to the last eligible backend seen in the first pass.
 */
final class LeastRequestSelector implements BackendSelector {
    private final Backend[] backends;
    private final Supplier<? extends RandomGenerator> random;

    /**
     * @param random gives the generator for the calling thread: {@code ThreadLocalRandom::current} in
     *               production, a seeded one in tests
     */
    LeastRequestSelector(List<Backend> backends, Supplier<? extends RandomGenerator> random) {
        this.backends = backends.toArray(new Backend[0]);
        this.random = random;
    }

    @Override
    public Backend select(RequestView request, Backend exclude) {
        int eligible = 0;
        boolean excludeEligible = false;
        Backend last = null;
        for (Backend backend : backends) {
            if (backend.effectiveWeight() == 0) {
                continue;
            }
            if (backend == exclude) {
                excludeEligible = true;
                continue;
            }
            eligible++;
            last = backend;
        }
        if (eligible == 0) {
            return excludeEligible ? exclude : null;
        }
        if (eligible == 1) {
            return last;
        }
        RandomGenerator rng = random.get();
        int first = rng.nextInt(eligible);
        int second = rng.nextInt(eligible - 1);
        if (second >= first) {
            second++;
        }
        Backend a = null;
        Backend b = null;
        int index = 0;
        for (Backend backend : backends) {
            if (backend.effectiveWeight() == 0 || backend == exclude) {
                continue;
            }
            if (index == first) {
                a = backend;
            } else if (index == second) {
                b = backend;
            }
            index++;
        }
        if (a == null || b == null) {
            return a != null ? a : b != null ? b : last;
        }
        return lessLoaded(a, b, rng);
    }

    private static Backend lessLoaded(Backend a, Backend b, RandomGenerator rng) {
        long wa = a.effectiveWeight();
        long wb = b.effectiveWeight();
        // Either may have left since the walk; the other is then the answer.
        if (wa == 0 || wb == 0) {
            return wa != 0 ? a : b;
        }
        long loadA = a.inFlight() * wb;
        long loadB = b.inFlight() * wa;
        if (loadA != loadB) {
            return loadA < loadB ? a : b;
        }
        return rng.nextLong(wa + wb) < wa ? a : b;
    }
}
