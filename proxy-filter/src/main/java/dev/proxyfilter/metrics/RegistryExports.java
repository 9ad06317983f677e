package dev.proxyfilter.metrics;

import com.codahale.metrics.Counting;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Metric;
import com.codahale.metrics.MetricRegistry;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The Dropwizard registry's plain metrics (cache, threads, reloads, admin changes, access log) as Prometheus
 * families named and described by {@link MetricCatalog}. Replaces Prometheus' Dropwizard bridge, whose HELP lines
 * say only "Generated from Dropwizard metric import" and whose names follow the dotted ones.
 *
 * <p>A counter kept as a sum that can step back for a moment (a cache miss recounted as coalesced once the
 * request it waited for ends) is exported as never decreasing, since Prometheus reads any decrease of a counter
 * as a restart and {@code rate()} would show a spike.
 */
final class RegistryExports implements MultiCollector {
    private final MetricRegistry registry;

    /** The highest value exported per counter, by Dropwizard name. */
    private final Map<String, Double> counterHighs = new ConcurrentHashMap<>();

    RegistryExports(MetricRegistry registry) {
        this.registry = registry;
    }

    /** Whether {@link LabeledExports} exports this metric instead. */
    static boolean labeledElsewhere(String dropwizardName) {
        return dropwizardName.startsWith("proxy.backend.")
                || dropwizardName.startsWith("proxy.route.")
                || dropwizardName.startsWith("proxy.pool.");
    }

    @Override
    public MetricSnapshots collect() {
        Map<String, FamilyPoints> families = new TreeMap<>();
        for (Map.Entry<String, Metric> entry : registry.getMetrics().entrySet()) {
            String name = entry.getKey();
            if (labeledElsewhere(name)) {
                continue;
            }
            Double value = value(entry.getValue());
            if (value == null) {
                continue;
            }
            MetricCatalog.Described described = MetricCatalog.describe(name);
            if (described == null) {
                described = MetricCatalog.undescribed(
                        name,
                        entry.getValue() instanceof Counting ? MetricCatalog.Type.COUNTER : MetricCatalog.Type.GAUGE);
            }
            if (value < 0 && described.family().negativeIsUnknown()) {
                continue;
            }
            if (described.family().type() == MetricCatalog.Type.COUNTER) {
                value = counterHighs.merge(name, Math.max(0, value), Math::max);
            }
            families.computeIfAbsent(described.family().name(), k -> new FamilyPoints())
                    .add(described, value);
        }
        List<MetricSnapshot> snapshots = new ArrayList<>(families.size());
        for (FamilyPoints points : families.values()) {
            snapshots.add(points.build());
        }
        return new MetricSnapshots(snapshots);
    }

    /** A gauge's number, a counter's count; {@code null} for anything else (a gauge of a string). */
    private static Double value(Metric metric) {
        if (metric instanceof Gauge<?> gauge) {
            Object value = gauge.getValue();
            return value instanceof Number number ? number.doubleValue() : null;
        }
        if (metric instanceof Counting counting) {
            return (double) counting.getCount();
        }
        return null;
    }

    /** The data points of one family gathered during a scrape. */
    private static final class FamilyPoints {
        private MetricCatalog.Family family;
        private final List<MetricCatalog.Described> described = new ArrayList<>();
        private final List<Double> values = new ArrayList<>();

        void add(MetricCatalog.Described point, double value) {
            family = point.family();
            described.add(point);
            values.add(value);
        }

        MetricSnapshot build() {
            if (family.type() == MetricCatalog.Type.COUNTER) {
                CounterSnapshot.Builder builder =
                        CounterSnapshot.builder().name(family.name()).help(family.help());
                for (int i = 0; i < values.size(); i++) {
                    builder.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
                            .value(values.get(i))
                            .labels(described.get(i).labels())
                            .build());
                }
                return builder.build();
            }
            GaugeSnapshot.Builder builder =
                    GaugeSnapshot.builder().name(family.name()).help(family.help());
            for (int i = 0; i < values.size(); i++) {
                builder.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder()
                        .value(values.get(i))
                        .labels(described.get(i).labels())
                        .build());
            }
            return builder.build();
        }
    }
}
