package dev.proxyfilter.metrics;

import com.codahale.metrics.Clock;
import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.LockFreeExponentiallyDecayingReservoir;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import com.codahale.metrics.jmx.JmxReporter;
import dev.proxyfilter.time.ProxyClock;
import io.prometheus.metrics.config.PrometheusProperties;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmBufferPoolMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmClassLoadingMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmCompilationMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmGarbageCollectorMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmMemoryMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmRuntimeInfoMetric;
import io.prometheus.metrics.instrumentation.jvm.JvmThreadsMetrics;
import io.prometheus.metrics.instrumentation.jvm.ProcessMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;

/**
 * The metrics of one proxy instance: its own Dropwizard {@link MetricRegistry} (never a global one), exposed
 * through JMX, and its own Prometheus registry, written in the text format by {@link #writePrometheus}.
 *
 * <p>Dropwizard names (dots) and the Prometheus families they become (every family has a HELP line):
 * <ul>
 *   <li>{@code proxy.backend.POOL.BACKEND.requests} (timer) → {@code proxyfilter_backend_request_duration_seconds}
 *       {pool,backend}, a histogram ({@link LatencyHistogram});</li>
 *   <li>{@code proxy.backend.POOL.BACKEND.responses.CLASS} → {@code proxyfilter_backend_responses_total{pool,backend,class}};</li>
 *   <li>{@code proxy.backend.POOL.BACKEND.errors.KIND} (connect, timeout, reset) → {@code proxyfilter_backend_errors_total};</li>
 *   <li>{@code proxy.backend.POOL.BACKEND.retries}, {@code .ejections}, {@code .in_flight}, {@code .weight},
 *       {@code .healthy};</li>
 *   <li>{@code proxy.pool.POOL.pending} (queue depth);</li>
 *   <li>{@code proxy.route.ROUTE.requests} (timer) → {@code proxyfilter_route_request_duration_seconds{route}}
 *       (histogram) and {@code proxy.route.ROUTE.responses.CLASS} → {@code proxyfilter_route_responses_total};</li>
 *   <li>every other dotted name (cache, threads, reloads, access log) as {@link MetricCatalog} names it;</li>
 *   <li>{@code jvm_*} and {@code process_*} from Prometheus' JVM instrumentation, in Prometheus only.</li>
 * </ul>
 * The Dropwizard timers stay for the dashboard's recent p50/p99 and for JMX; Prometheus gets buckets instead,
 * which add up across instances. Starting point for the hot path: {@link #backend} and {@link #route} hand out
 * holders looked up once.
 */
public final class ProxyMetrics implements AutoCloseable {
    /**
     * A request timer: Dropwizard's default reservoir takes a lock and a skip-list insert on every update,
     * on the hot path of every request (route and backend); the lock-free one keeps the same
     * exponentially decaying sample for the quantiles. Its rates and the decay of its sample run on the
     * engine's clock.
     */
    private Timer newTimer() {
        return new Timer(
                LockFreeExponentiallyDecayingReservoir.builder().clock(clock).build(), clock);
    }

    /** The engine's clock as Dropwizard's: ticks from {@link ProxyClock#nanoTime()}, time from its wall clock. */
    private static Clock dropwizard(ProxyClock clock) {
        return new Clock() {
            @Override
            public long getTick() {
                return clock.nanoTime();
            }

            @Override
            public long getTime() {
                return clock.millis();
            }
        };
    }

    /** Status classes, indexed by {@code status / 100 - 1}. */
    static final String[] CLASSES = {"1xx", "2xx", "3xx", "4xx", "5xx"};

    private final MetricRegistry registry = new MetricRegistry();
    private final Map<String, BackendMetrics> backends = new ConcurrentHashMap<>();
    private final Map<String, RouteMetrics> routes = new ConcurrentHashMap<>();
    private final Map<String, LongSupplier> poolPending = new ConcurrentHashMap<>();
    /** WebSocket tunnels by route and backend, exported as their own labelled families. */
    private final TunnelMetrics tunnels = new TunnelMetrics();

    private final PrometheusRegistry prometheus = new PrometheusRegistry();
    private volatile JmxReporter jmx;
    /** What the timers' rates and reservoirs read. */
    private final Clock clock;

    /** A registry with the JVM metrics, on the system clock; JMX is off until {@link #startJmx}. */
    public ProxyMetrics() {
        this(ProxyClock.system());
    }

    /**
     * A registry with the JVM metrics whose timers' rates ({@code m1_rate}, {@code mean_rate}) and
     * decaying samples run on {@code clock}; JMX is off until {@link #startJmx}.
     */
    public ProxyMetrics(ProxyClock clock) {
        this.clock = dropwizard(Objects.requireNonNull(clock, "clock"));
        registerJvm(prometheus);
        // Counted by the admin API; at 0 from the start, so that a dashboard shows 0 rather than no data.
        registry.counter("proxy.admin.changes");
        prometheus.register(new RegistryExports(registry));
        prometheus.register(new LabeledExports(this));
        prometheus.register(tunnels);
    }

    /** WebSocket tunnels by route and backend. */
    public TunnelMetrics tunnels() {
        return tunnels;
    }

    /**
     * The standard {@code jvm_*} and {@code process_*} families (memory and pools, GC, threads, classes, buffer
     * pools, JIT, runtime info, CPU, RSS, file descriptors), on this instance's registry only. They are registered
     * one by one rather than through {@code JvmMetrics.builder().register(registry)}, which keeps every registry it
     * is given in a static set, so that no engine (nor, in a webapp, its class loader) would ever be freed. Left
     * out: {@code JvmMemoryPoolAllocationMetrics}, whose listener on the JVM's garbage collectors nothing removes
     * (the same leak), and {@code JvmNativeMemoryMetrics}, which needs {@code -XX:NativeMemoryTracking}.
     */
    private static void registerJvm(PrometheusRegistry registry) {
        PrometheusProperties config = PrometheusProperties.get();
        JvmMemoryMetrics.builder(config).register(registry);
        JvmGarbageCollectorMetrics.builder(config).register(registry);
        JvmThreadsMetrics.builder(config).register(registry);
        JvmClassLoadingMetrics.builder(config).register(registry);
        JvmBufferPoolMetrics.builder(config).register(registry);
        JvmCompilationMetrics.builder(config).register(registry);
        JvmRuntimeInfoMetric.builder(config).register(registry);
        ProcessMetrics.builder(config).register(registry);
    }

    /** Publishes every metric as an MBean under {@code domain} (the standalone proxy does; tests start many). */
    public synchronized void startJmx(String domain) {
        if (jmx == null) {
            jmx = JmxReporter.forRegistry(registry).inDomain(domain).build();
            jmx.start();
        }
    }

    /** The registry, for reporters and for adapters adding their own gauges. */
    public MetricRegistry registry() {
        return registry;
    }

    /** The metrics of one backend, created on first use. */
    public BackendMetrics backend(String pool, String backend) {
        return backends.computeIfAbsent(
                pool + '\0' + backend,
                k -> new BackendMetrics(
                        registry, pool, backend, "proxy.backend." + pool + "." + backend, this::newTimer));
    }

    /** The metrics of one route, created on first use. */
    public RouteMetrics route(String route) {
        return routes.computeIfAbsent(
                route, k -> new RouteMetrics(registry, route, "proxy.route." + route, this::newTimer));
    }

    /**
     * Removes every series of a backend that a configuration reload removed, once its last request ended,
     * so that the exposition does not list it forever. A later {@link #backend} starts it from zero.
     */
    public void removeBackend(String pool, String backend) {
        if (backends.remove(pool + '\0' + backend) != null) {
            String prefix = "proxy.backend." + pool + "." + backend + ".";
            registry.removeMatching((name, metric) -> name.startsWith(prefix));
        }
    }

    /** The routes that have metrics now. */
    public java.util.Set<String> routeNames() {
        return java.util.Set.copyOf(routes.keySet());
    }

    /** Removes every series of a route that a reload removed; see {@link #removeBackend}. */
    public void removeRoute(String route) {
        if (routes.remove(route) != null) {
            String prefix = "proxy.route." + route + ".";
            registry.removeMatching((name, metric) -> name.startsWith(prefix));
        }
    }

    /** Removes the queue-depth gauge of a pool that a reload removed. */
    public void removePool(String pool) {
        poolPending.remove(pool);
        registry.remove("proxy.pool." + pool + ".pending");
    }

    /** The count of one status class ("2xx") in counters indexed like {@link #CLASSES}. */
    private static long count(Counter[] byClass, String statusClass) {
        for (int i = 0; i < CLASSES.length; i++) {
            if (CLASSES[i].equals(statusClass)) {
                return byClass[i].getCount();
            }
        }
        return 0;
    }

    /** Registers the queue-depth gauge of a pool. */
    public void poolPending(String pool, LongSupplier pending) {
        poolPending.put(pool, pending);
        gauge("proxy.pool." + pool + ".pending", pending);
    }

    Map<String, BackendMetrics> backends() {
        return backends;
    }

    Map<String, RouteMetrics> routes() {
        return routes;
    }

    Map<String, LongSupplier> poolPending() {
        return poolPending;
    }

    /** Registers (or replaces) a gauge. */
    public void gauge(String name, LongSupplier value) {
        registry.remove(name);
        registry.register(name, (Gauge<Long>) value::getAsLong);
    }

    /** Registers (or replaces) a gauge with a fractional value. */
    public void gaugeDouble(String name, DoubleSupplier value) {
        registry.remove(name);
        registry.register(name, (Gauge<Double>) value::getAsDouble);
    }

    /** Writes every metric in the Prometheus text format (version 0.0.4). */
    public void writePrometheus(OutputStream out) throws IOException {
        new PrometheusTextFormatWriter(false).write(out, prometheus.scrape());
    }

    @Override
    public synchronized void close() {
        if (jmx != null) {
            jmx.stop();
            jmx = null;
        }
    }

    /** Per-backend metrics. */
    public static final class BackendMetrics {
        private final Timer requests;
        private final LatencyHistogram latency = new LatencyHistogram();
        private final Counter[] responses = new Counter[CLASSES.length];
        private final Counter connectErrors;
        private final Counter timeoutErrors;
        private final Counter resetErrors;
        private final Counter retries;
        private final Counter ejections;
        private final String prefix;
        private final MetricRegistry registry;
        final String pool;
        final String name;
        volatile LongSupplier inFlight = () -> 0;
        volatile LongSupplier weight = () -> 0;
        volatile LongSupplier healthy = () -> 1;

        BackendMetrics(
                MetricRegistry registry,
                String pool,
                String name,
                String prefix,
                MetricRegistry.MetricSupplier<Timer> timers) {
            this.registry = registry;
            this.pool = pool;
            this.name = name;
            this.prefix = prefix;
            requests = registry.timer(prefix + ".requests", timers);
            for (int i = 0; i < CLASSES.length; i++) {
                responses[i] = registry.counter(prefix + ".responses." + CLASSES[i]);
            }
            connectErrors = registry.counter(prefix + ".errors.connect");
            timeoutErrors = registry.counter(prefix + ".errors.timeout");
            resetErrors = registry.counter(prefix + ".errors.reset");
            retries = registry.counter(prefix + ".retries");
            ejections = registry.counter(prefix + ".ejections");
        }

        /** A response from the backend, with the time from sending the request to its end. */
        public void onResponse(int status, long nanos) {
            requests.update(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
            latency.observe(nanos);
            int index = status / 100 - 1;
            if (index >= 0 && index < CLASSES.length) {
                responses[index].inc();
            }
        }

        /** A failed exchange: {@code connect}, {@code timeout} or {@code reset}. */
        public void onError(ErrorKind kind) {
            switch (kind) {
                case CONNECT -> connectErrors.inc();
                case TIMEOUT -> timeoutErrors.inc();
                case RESET -> resetErrors.inc();
                default -> throw new IllegalArgumentException(kind.toString());
            }
        }

        /** A retry was sent to this backend. */
        public void onRetry() {
            retries.inc();
        }

        /** The backend was ejected by passive health checking. */
        public void onEjection() {
            ejections.inc();
        }

        /** Registers the live-state gauges: in-flight requests, effective weight, health (1 or 0). */
        public void state(LongSupplier inFlight, LongSupplier weight, LongSupplier healthy) {
            this.inFlight = inFlight;
            this.weight = weight;
            this.healthy = healthy;
            replace(prefix + ".in_flight", inFlight);
            replace(prefix + ".weight", weight);
            replace(prefix + ".healthy", healthy);
        }

        private void replace(String name, LongSupplier value) {
            registry.remove(name);
            registry.register(name, (Gauge<Long>) value::getAsLong);
        }

        /** The request timer: rate and recent quantiles, for the dashboard and JMX. */
        public Timer requests() {
            return requests;
        }

        /** The same durations in Prometheus buckets. */
        LatencyHistogram latency() {
            return latency;
        }

        /** Responses of one class ("2xx"). */
        public long responses(String statusClass) {
            return count(responses, statusClass);
        }

        /** Errors of one kind. */
        public long errors(ErrorKind kind) {
            return switch (kind) {
                case CONNECT -> connectErrors.getCount();
                case TIMEOUT -> timeoutErrors.getCount();
                case RESET -> resetErrors.getCount();
            };
        }

        /** Retries sent to this backend. */
        public long retries() {
            return retries.getCount();
        }

        /** Times passive health checking ejected it. */
        public long ejections() {
            return ejections.getCount();
        }
    }

    /** Kinds of backend failure. */
    public enum ErrorKind {
        CONNECT,
        TIMEOUT,
        RESET
    }

    /** Per-route metrics: what clients of the route saw, whatever backend served them. */
    public static final class RouteMetrics {
        private final Timer requests;
        private final LatencyHistogram latency = new LatencyHistogram();
        private final Counter[] responses = new Counter[CLASSES.length];
        final String name;

        RouteMetrics(MetricRegistry registry, String name, String prefix, MetricRegistry.MetricSupplier<Timer> timers) {
            this.name = name;
            requests = registry.timer(prefix + ".requests", timers);
            for (int i = 0; i < CLASSES.length; i++) {
                responses[i] = registry.counter(prefix + ".responses." + CLASSES[i]);
            }
        }

        /** A client exchange ended with {@code status} after {@code nanos}. */
        public void onExchange(int status, long nanos) {
            requests.update(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
            latency.observe(nanos);
            int index = status / 100 - 1;
            if (index >= 0 && index < CLASSES.length) {
                responses[index].inc();
            }
        }

        /** The request timer: rate and recent quantiles, for the dashboard and JMX. */
        public Timer requests() {
            return requests;
        }

        /** The same durations in Prometheus buckets. */
        LatencyHistogram latency() {
            return latency;
        }

        /** Responses of one class ("5xx"). */
        public long responses(String statusClass) {
            return count(responses, statusClass);
        }
    }
}
