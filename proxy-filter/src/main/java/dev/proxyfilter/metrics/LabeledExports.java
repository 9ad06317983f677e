package dev.proxyfilter.metrics;

import com.codahale.metrics.Snapshot;
import com.codahale.metrics.Timer;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Quantile;
import io.prometheus.metrics.model.snapshots.Quantiles;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The pool, backend and route metrics as Prometheus families with labels
 * ({@code proxyfilter_backend_requests_seconds{pool="web",backend="a"}}), following Prometheus naming:
 * base units (seconds), {@code _total} on counters.
 */
final class LabeledExports implements MultiCollector {
    private static final double NANOS_PER_SECOND = 1e9;

    private final ProxyMetrics metrics;

    LabeledExports(ProxyMetrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public MetricSnapshots collect() {
        Map<String, ProxyMetrics.BackendMetrics> backends = metrics.backends();
        SummarySnapshot.Builder backendRequests = SummarySnapshot.builder()
                .name("proxyfilter_backend_requests_seconds")
                .help("Time from sending a request to a backend to the end of its response");
        CounterSnapshot.Builder backendResponses = CounterSnapshot.builder()
                .name("proxyfilter_backend_responses")
                .help("Backend responses by status class");
        CounterSnapshot.Builder backendErrors = CounterSnapshot.builder()
                .name("proxyfilter_backend_errors")
                .help("Failed backend exchanges by kind: connect, timeout, reset");
        CounterSnapshot.Builder backendRetries =
                CounterSnapshot.builder().name("proxyfilter_backend_retries").help("Retries sent to the backend");
        CounterSnapshot.Builder backendEjections = CounterSnapshot.builder()
                .name("proxyfilter_backend_ejections")
                .help("Times passive health checking ejected the backend");
        GaugeSnapshot.Builder inFlight =
                GaugeSnapshot.builder().name("proxyfilter_backend_in_flight").help("Requests in flight to the backend");
        GaugeSnapshot.Builder weight = GaugeSnapshot.builder()
                .name("proxyfilter_backend_weight")
                .help("Current effective weight of the backend");
        GaugeSnapshot.Builder healthy = GaugeSnapshot.builder()
                .name("proxyfilter_backend_healthy")
                .help("1 when the backend takes new requests, else 0");
        for (ProxyMetrics.BackendMetrics b : backends.values()) {
            Labels labels = Labels.of("pool", b.pool, "backend", b.name);
            backendRequests.dataPoint(summary(b.requests(), labels));
            for (String c : ProxyMetrics.CLASSES) {
                backendResponses.dataPoint(counter(b.responses(c), labels.add("class", c)));
            }
            for (ProxyMetrics.ErrorKind kind : ProxyMetrics.ErrorKind.values()) {
                backendErrors.dataPoint(
                        counter(b.errors(kind), labels.add("kind", kind.name().toLowerCase(java.util.Locale.ROOT))));
            }
            backendRetries.dataPoint(counter(b.retries(), labels));
            backendEjections.dataPoint(counter(b.ejections(), labels));
            inFlight.dataPoint(gauge(b.inFlight, labels));
            weight.dataPoint(gauge(b.weight, labels));
            healthy.dataPoint(gauge(b.healthy, labels));
        }
        GaugeSnapshot.Builder pending = GaugeSnapshot.builder()
                .name("proxyfilter_pool_pending")
                .help("Requests waiting for a backend with room");
        metrics.poolPending().forEach((pool, value) -> pending.dataPoint(gauge(value, Labels.of("pool", pool))));
        SummarySnapshot.Builder routeRequests = SummarySnapshot.builder()
                .name("proxyfilter_route_requests_seconds")
                .help("Time from a client request to the end of the proxy's response, by route");
        CounterSnapshot.Builder routeResponses = CounterSnapshot.builder()
                .name("proxyfilter_route_responses")
                .help("Responses to clients by route and status class");
        for (ProxyMetrics.RouteMetrics r : metrics.routes().values()) {
            Labels labels = Labels.of("route", r.name);
            routeRequests.dataPoint(summary(r.requests(), labels));
            for (String c : ProxyMetrics.CLASSES) {
                routeResponses.dataPoint(counter(r.responses(c), labels.add("class", c)));
            }
        }
        return MetricSnapshots.of(
                backendRequests.build(),
                backendResponses.build(),
                backendErrors.build(),
                backendRetries.build(),
                backendEjections.build(),
                inFlight.build(),
                weight.build(),
                healthy.build(),
                pending.build(),
                routeRequests.build(),
                routeResponses.build());
    }

    private static SummarySnapshot.SummaryDataPointSnapshot summary(Timer timer, Labels labels) {
        Snapshot snapshot = timer.getSnapshot();
        long count = timer.getCount();
        return SummarySnapshot.SummaryDataPointSnapshot.builder()
                .count(count)
                .sum(snapshot.getMean() * count / NANOS_PER_SECOND)
                .quantiles(Quantiles.of(
                        new Quantile(0.5, snapshot.getMedian() / NANOS_PER_SECOND),
                        new Quantile(0.99, snapshot.get99thPercentile() / NANOS_PER_SECOND)))
                .labels(labels)
                .build();
    }

    private static CounterSnapshot.CounterDataPointSnapshot counter(long value, Labels labels) {
        return CounterSnapshot.CounterDataPointSnapshot.builder()
                .value(value)
                .labels(labels)
                .build();
    }

    private static GaugeSnapshot.GaugeDataPointSnapshot gauge(LongSupplier value, Labels labels) {
        return GaugeSnapshot.GaugeDataPointSnapshot.builder()
                .value(value.getAsLong())
                .labels(labels)
                .build();
    }
}
