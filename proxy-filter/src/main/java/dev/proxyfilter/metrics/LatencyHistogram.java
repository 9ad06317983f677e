package dev.proxyfilter.metrics;

import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Durations counted in fixed buckets, exported as a Prometheus classic histogram ({@code _bucket{le="..."}},
 * {@code _sum}, {@code _count}). Unlike a summary's quantiles, buckets add up across instances and routes:
 * {@code histogram_quantile(0.99, sum by (le) (rate(X_bucket[5m])))} is the p99 of a whole fleet.
 *
 * <p>On the hot path an observation is a binary search over 16 bounds and two {@link LongAdder} increments: no
 * lock, no allocation.
 */
final class LatencyHistogram {
    /**
     * Upper bounds in seconds, {@code +Inf} implied: from a loopback hop (0.5 ms) to a long upload (60 s), about
     * 2.5 times apart, so that {@code histogram_quantile}'s linear interpolation stays within a bucket's width.
     */
    static final double[] UPPER_BOUNDS_SECONDS = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60
    };

    private static final long[] UPPER_BOUNDS_NANOS = Arrays.stream(UPPER_BOUNDS_SECONDS)
            .mapToLong(s -> Math.round(s * TimeUnit.SECONDS.toNanos(1)))
            .toArray();

    private static final double[] EXPORTED_BOUNDS =
            Arrays.copyOf(UPPER_BOUNDS_SECONDS, UPPER_BOUNDS_SECONDS.length + 1);

    static {
        EXPORTED_BOUNDS[UPPER_BOUNDS_SECONDS.length] = Double.POSITIVE_INFINITY;
    }

    /** Per bucket, not cumulative; the last one is {@code +Inf}. */
    private final LongAdder[] buckets = new LongAdder[EXPORTED_BOUNDS.length];

    private final LongAdder sumNanos = new LongAdder();

    LatencyHistogram() {
        for (int i = 0; i < buckets.length; i++) {
            buckets[i] = new LongAdder();
        }
    }

    /** Counts one duration; a negative one (a clock that stepped back) counts as 0. */
    void observe(long nanos) {
        long value = Math.max(0, nanos);
        int index = Arrays.binarySearch(UPPER_BOUNDS_NANOS, value);
        // Found: the value equals a bound, which the bucket includes (le). Not found: the first bound above it.
        buckets[index >= 0 ? index : -index - 1].increment();
        sumNanos.add(value);
    }

    /** Observations so far, summed over the buckets as a scrape sees them. */
    long count() {
        long count = 0;
        for (LongAdder bucket : buckets) {
            count += bucket.sum();
        }
        return count;
    }

    /** The histogram now, as one data point; its count is the sum of the buckets read, so the two agree. */
    HistogramSnapshot.HistogramDataPointSnapshot snapshot(Labels labels) {
        long[] counts = new long[buckets.length];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = buckets[i].sum();
        }
        return HistogramSnapshot.HistogramDataPointSnapshot.builder()
                .classicHistogramBuckets(ClassicHistogramBuckets.of(EXPORTED_BOUNDS, counts))
                .sum(sumNanos.sum() / (double) TimeUnit.SECONDS.toNanos(1))
                .labels(labels)
                .build();
    }
}
