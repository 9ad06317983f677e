package dev.proxyfilter.bench;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Zipf-distributed ranks for the cache benchmarks: rank {@code k} (0-based) is drawn with probability
 * proportional to {@code 1 / (k + 1)^s}. Inverse CDF over a precomputed cumulative table, so a draw is one
 * binary search. Written here rather than taken from commons-math3 (which does resolve offline) to keep the
 * bench module's dependencies to JMH and the library, and because the benchmarks draw every key in
 * {@code @Setup}: the sampler's speed is never measured.
 */
final class Zipf {
    private final double[] cumulative;
    private final SplittableRandom random;

    Zipf(int n, double exponent, long seed) {
        cumulative = new double[n];
        double sum = 0;
        for (int k = 0; k < n; k++) {
            sum += 1.0 / Math.pow(k + 1, exponent);
            cumulative[k] = sum;
        }
        for (int k = 0; k < n; k++) {
            cumulative[k] /= sum;
        }
        random = new SplittableRandom(seed);
    }

    /** The next rank, 0 (most popular) to n - 1. */
    int next() {
        int i = Arrays.binarySearch(cumulative, random.nextDouble());
        return Math.min(i >= 0 ? i : -i - 1, cumulative.length - 1);
    }

    /** {@code count} ranks drawn in a row. */
    int[] draw(int count) {
        int[] ranks = new int[count];
        for (int i = 0; i < count; i++) {
            ranks[i] = next();
        }
        return ranks;
    }
}
