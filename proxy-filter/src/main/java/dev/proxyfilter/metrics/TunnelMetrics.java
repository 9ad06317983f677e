package dev.proxyfilter.metrics;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * WebSocket tunnels by route and backend: open now, opened, closed, and the bytes each way. Exposed in the
 * Prometheus text format as {@code proxyfilter_tunnels_open}, {@code proxyfilter_tunnels_opened_total},
 * {@code proxyfilter_tunnels_closed_total} and {@code proxyfilter_tunnel_bytes_total{direction}} with the
 * labels {@code route}, {@code pool} and {@code backend}; {@code direction} is {@code to_backend} or {@code
 * to_client}. Kept apart from the Dropwizard registry: a tunnel counts bytes per chunk, with no timer.
 */
public final class TunnelMetrics implements MultiCollector {
    private final Map<List<String>, Series> series = new ConcurrentHashMap<>();

    /** The series of one route and backend, created on first use. */
    public Series series(String route, String pool, String backend) {
        return series.computeIfAbsent(List.of(route, pool, backend), key -> new Series(route, pool, backend));
    }

    /** Tunnels open now over every route. */
    public long open() {
        long open = 0;
        for (Series s : series.values()) {
            open += s.open();
        }
        return open;
    }

    /** Drops the series of a route a reload removed, once none of its tunnels is open. */
    public void removeRoute(String route) {
        series.values().removeIf(s -> s.route.equals(route) && s.open() == 0);
    }

    /** One route and backend's tunnels. */
    public static final class Series {
        final String route;
        final String pool;
        final String backend;
        private final AtomicLong open = new AtomicLong();
        private final LongAdder opened = new LongAdder();
        private final LongAdder closed = new LongAdder();
        private final LongAdder toBackend = new LongAdder();
        private final LongAdder toClient = new LongAdder();

        Series(String route, String pool, String backend) {
            this.route = route;
            this.pool = pool;
            this.backend = backend;
        }

        /** A tunnel opened (the backend answered 101). */
        public void onOpen() {
            open.incrementAndGet();
            opened.increment();
        }

        /** A tunnel closed, however. */
        public void onClose() {
            open.decrementAndGet();
            closed.increment();
        }

        /** Bytes the client sent that reached the backend. */
        public void toBackend(long bytes) {
            toBackend.add(bytes);
        }

        /** Bytes the backend sent that reached the client. */
        public void toClient(long bytes) {
            toClient.add(bytes);
        }

        public long open() {
            return open.get();
        }

        public long opened() {
            return opened.sum();
        }

        public long closed() {
            return closed.sum();
        }

        public long bytesToBackend() {
            return toBackend.sum();
        }

        public long bytesToClient() {
            return toClient.sum();
        }
    }

    @Override
    public MetricSnapshots collect() {
        GaugeSnapshot.Builder open =
                GaugeSnapshot.builder().name("proxyfilter_tunnels_open").help("WebSocket tunnels open now");
        CounterSnapshot.Builder opened = CounterSnapshot.builder()
                .name("proxyfilter_tunnels_opened")
                .help("WebSocket tunnels opened (the backend answered 101)");
        CounterSnapshot.Builder closed = CounterSnapshot.builder()
                .name("proxyfilter_tunnels_closed")
                .help("WebSocket tunnels closed, by either side, a failure, the idle timeout or a shutdown");
        CounterSnapshot.Builder bytes = CounterSnapshot.builder()
                .name("proxyfilter_tunnel_bytes")
                .help("Bytes carried by WebSocket tunnels, by direction");
        for (Series s : series.values()) {
            Labels labels = Labels.of("route", s.route, "pool", s.pool, "backend", s.backend);
            open.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder()
                    .value(s.open())
                    .labels(labels)
                    .build());
            opened.dataPoint(counter(s.opened(), labels));
            closed.dataPoint(counter(s.closed(), labels));
            bytes.dataPoint(counter(s.bytesToBackend(), labels.add("direction", "to_backend")));
            bytes.dataPoint(counter(s.bytesToClient(), labels.add("direction", "to_client")));
        }
        return MetricSnapshots.of(open.build(), opened.build(), closed.build(), bytes.build());
    }

    private static CounterSnapshot.CounterDataPointSnapshot counter(long value, Labels labels) {
        return CounterSnapshot.CounterDataPointSnapshot.builder()
                .value(value)
                .labels(labels)
                .build();
    }
}
