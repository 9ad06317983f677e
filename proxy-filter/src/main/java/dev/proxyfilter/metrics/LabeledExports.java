package dev.proxyfilter.metrics;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The pool, backend and route metrics as Prometheus families with labels
 * ({@code proxyfilter_backend_request_duration_seconds_bucket{pool="web",backend="a",le="0.01"}}), following
 * Prometheus naming: base units (seconds), {@code _total} on counters, durations as histograms so that instances
 * add up.
 */
final class LabeledExports implements MultiCollector {
    private final ProxyMetrics metrics;

    LabeledExports(ProxyMetrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public MetricSnapshots collect() {
        Map<String, ProxyMetrics.BackendMetrics> backends = metrics.backends();
        HistogramSnapshot.Builder backendDuration = HistogramSnapshot.builder()
                .name("proxyfilter_backend_request_duration_seconds")
                .unit(Unit.SECONDS)
                .help("Time from sending a request to a backend to the end of its response, per try (a retry is"
                        + " another observation, on the backend it went to)");
        CounterSnapshot.Builder backendResponses = CounterSnapshot.builder()
                .name("proxyfilter_backend_responses")
                .help("Responses received from a backend, by status class (1xx to 5xx)");
        CounterSnapshot.Builder backendErrors = CounterSnapshot.builder()
                .name("proxyfilter_backend_errors")
                .help("Tries that got no response from a backend, by kind: connect (refused or unreachable),"
                        + " timeout, reset (connection closed or broken before the response ended)");
        CounterSnapshot.Builder backendRetries = CounterSnapshot.builder()
                .name("proxyfilter_backend_retries")
                .help("Retries sent to a backend: tries after a request's first, counted on the backend they went to");
        CounterSnapshot.Builder backendEjections = CounterSnapshot.builder()
                .name("proxyfilter_backend_ejections")
                .help("Times passive health checking (outlier ejection) took a backend out of rotation");
        GaugeSnapshot.Builder inFlight = GaugeSnapshot.builder()
                .name("proxyfilter_backend_in_flight")
                .help("Requests sent to a backend whose response has not ended yet");
        GaugeSnapshot.Builder weight = GaugeSnapshot.builder()
                .name("proxyfilter_backend_weight")
                .help("Effective weight of a backend now: the configured or admin-set weight, reduced during slow"
                        + " start; 0 takes no new requests");
        GaugeSnapshot.Builder healthy = GaugeSnapshot.builder()
                .name("proxyfilter_backend_healthy")
                .help("1 when a backend may take new requests (up), 0 when it is down, ejected, draining or"
                        + " disabled");
        for (ProxyMetrics.BackendMetrics b : backends.values()) {
            Labels labels = Labels.of("pool", b.pool, "backend", b.name);
            backendDuration.dataPoint(b.latency().snapshot(labels));
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
                .help("Requests waiting in a pool's queue for a backend below its max-connections");
        metrics.poolPending().forEach((pool, value) -> pending.dataPoint(gauge(value, Labels.of("pool", pool))));
        HistogramSnapshot.Builder routeDuration = HistogramSnapshot.builder()
                .name("proxyfilter_route_request_duration_seconds")
                .unit(Unit.SECONDS)
                .help("Time from a client's request to the end of the proxy's response, by route: what clients"
                        + " saw, retries, queueing and cache hits included");
        CounterSnapshot.Builder routeResponses = CounterSnapshot.builder()
                .name("proxyfilter_route_responses")
                .help("Responses sent to clients, by route and status class (the proxy's own 4xx and 5xx"
                        + " included)");
        for (ProxyMetrics.RouteMetrics r : metrics.routes().values()) {
            Labels labels = Labels.of("route", r.name);
            routeDuration.dataPoint(r.latency().snapshot(labels));
            for (String c : ProxyMetrics.CLASSES) {
                routeResponses.dataPoint(counter(r.responses(c), labels.add("class", c)));
            }
        }
        return MetricSnapshots.of(
                backendDuration.build(),
                backendResponses.build(),
                backendErrors.build(),
                backendRetries.build(),
                backendEjections.build(),
                inFlight.build(),
                weight.build(),
                healthy.build(),
                pending.build(),
                routeDuration.build(),
                routeResponses.build());
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
