package dev.proxyfilter.balance;

import java.util.List;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * Weighted random where each backend's weight is divided by its latency: a backend twice as slow as
 * another of the same weight gets about half as many requests.
 *
 * <p>A backend's share is {@code weight / (latency * (inFlight + 1))}, where latency is
 * {@link Backend#latencyNanos()}, a moving average of its recent response times. The
 * in-flight factor, Finagle's {@code cost * (pending + 1)}, is a guard: an average lags, and without it a
 * backend that has just become slow, or whose average decayed while it was idle, would take a burst of
 * requests before its next response corrects the average. At low concurrency it is 1 and the shares
 * are weight over latency.
 *
 * <p>A backend without a report yet (new, or never picked) counts as having the harmonic mean of the
 * latencies of those that have one, that is, the average speed: it gets an ordinary share until its
 * first response, and one very slow backend does not make a new one look slow. When none has a report
 * the shares are the weights. Latencies below {@value #MIN_LATENCY_NANOS} ns count as that, so that a
 * share stays finite.
 *
 * <p>Lock-free and allocation-free: the first pass sums the shares, the second walks to the backend the
 * random number falls on, recomputing each share. Shares may move between the passes (a report arrives,
 * a request ends); the pick then goes to the last eligible backend seen.
 */
final class ResponseTimeSelector implements BackendSelector {
    static final double MIN_LATENCY_NANOS = 1_000;

    private final Backend[] backends;
    private final Supplier<? extends RandomGenerator> random;

    /**
     * @param backends the pool's backends; the first one's clock ({@link Backend#nanoTime()}) is read
     *                 once per pick, and all of a pool's backends share it
     * @param random   gives the generator for the calling thread: {@code ThreadLocalRandom::current} in
     *                 production, a seeded one in tests
     */
    ResponseTimeSelector(List<Backend> backends, Supplier<? extends RandomGenerator> random) {
        this.backends = backends.toArray(new Backend[0]);
        this.random = random;
    }

    @Override
    public Backend select(RequestView request, Backend exclude) {
        if (backends.length == 0) {
            return null;
        }
        long now = backends[0].nanoTime();
        double measuredShares = 0;
        double speeds = 0;
        int measured = 0;
        double unmeasuredShares = 0;
        boolean excludeEligible = false;
        for (Backend backend : backends) {
            int weight = backend.effectiveWeight();
            if (weight == 0) {
                continue;
            }
            if (backend == exclude) {
                excludeEligible = true;
                continue;
            }
            double load = weight / (backend.inFlight() + 1.0);
            double latency = backend.latencyNanos(now);
            if (Double.isNaN(latency)) {
                unmeasuredShares += load;
            } else {
                double speed = 1 / Math.max(latency, MIN_LATENCY_NANOS);
                speeds += speed;
                measured++;
                measuredShares += load * speed;
            }
        }
        double unmeasuredSpeed = measured == 0 ? 1 : speeds / measured;
        double total = measuredShares + unmeasuredShares * unmeasuredSpeed;
        if (!(total > 0)) {
            return excludeEligible ? exclude : null;
        }
        double r = random.get().nextDouble() * total;
        Backend last = null;
        for (Backend backend : backends) {
            int weight = backend.effectiveWeight();
            if (weight == 0 || backend == exclude) {
                continue;
            }
            double latency = backend.latencyNanos(now);
            double speed = Double.isNaN(latency) ? unmeasuredSpeed : 1 / Math.max(latency, MIN_LATENCY_NANOS);
            r -= weight / (backend.inFlight() + 1.0) * speed;
            if (r < 0) {
                return backend;
            }
            last = backend;
        }
        return last != null ? last : excludeEligible ? exclude : null;
    }
}
