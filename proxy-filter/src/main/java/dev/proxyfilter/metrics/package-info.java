/**
 * The proxy's metrics: one Dropwizard registry per instance (JMX, {@code /metrics.json}, the dashboard's recent
 * quantiles) and one Prometheus registry per instance ({@code /metrics}), with the JVM's and the process's standard
 * families.
 *
 * <h2>Starting points</h2>
 * {@link dev.proxyfilter.metrics.ProxyMetrics} (the registries and the per-backend and per-route holders), then
 * {@code MetricCatalog} (the Prometheus name and HELP text of every plain Dropwizard metric) and
 * {@code LabeledExports} (the pool, backend and route families, with {@code LatencyHistogram}'s buckets).
 */
package dev.proxyfilter.metrics;
