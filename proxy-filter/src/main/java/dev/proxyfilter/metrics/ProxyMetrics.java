package dev.proxyfilter.metrics;

import com.codahale.metrics.Clock;
import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.LockFreeExponentiallyDecayingReservoir;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import com.codahale.metrics.jmx.JmxReporter;
import com.codahale.metrics.jvm.GarbageCollectorMetricSet;
import com.codahale.metrics.jvm.MemoryUsageGaugeSet;
import com.codahale.metrics.jvm.ThreadStatesGaugeSet;
import dev.proxyfilter.time.ProxyClock;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.dropwizard.DropwizardExports;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;

/**
 * The metrics of one proxy instance: its own Dropwizard {@link MetricRegistry} (never a global one),
 * exposed through JMX and, with pool, backend and route names as labels, in the Prometheus text format.
 *
 * <p>Dropwizard names (dots) and the Prometheus families they become:
 * <ul>
 *   <li>{@code proxy.backend.POOL.BACKEND.requests} (timer) → {@code proxyfilter_backend_requests_seconds{pool,backend}};</li>
 *   <li>{@code proxy.backend.POOL.BACKEND.responses.CLASS} → {@code proxyfilter_backend_responses_total{pool,backend,class}};</li>
 *   <li>{@code proxy.backend.POOL.BACKEND.errors.KIND} (connect, timeout, reset) → {@code proxyfilter_backend_errors_total};</li>
 *   <li>{@code proxy.backend.POOL.BACKEND.retries}, {@code .in_flight}, {@code .weight}, {@code .healthy};</li>
 *   <li>{@code proxy.pool.POOL.pending} (queue depth);</li>
 *   <li>{@code proxy.route.ROUTE.requests} (timer) and {@code proxy.route.ROUTE.responses.CLASS};</li>
 *   <li>{@code jvm.*} from metrics-jvm and whatever gauges adapters add (thread pools).</li>
 * </ul>
 * Starting point for the hot path: {@link #backend} and {@link #route} hand out holders looked up once.
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
        registry.register("jvm.memory", new MemoryUsageGaugeSet());
        registry.register("jvm.gc", new GarbageCollectorMetricSet());
        registry.register("jvm.threads", new ThreadStatesGaugeSet());
        // The bridge names metrics by their dotted names; the pool, backend and route families go out
        // with those names as labels instead, which the bridge cannot merge into one family.
        DropwizardExports.builder()
                .dropwizardRegistry(registry)
                .metricFilter((name, metric) -> !name.startsWith("proxy.backend.")
                        && !name.startsWith("proxy.route.")
                        && !name.startsWith("proxy.pool."))
                .register(prometheus);
        prometheus.register(new LabeledExports(this));
        prometheus.register(tunnels);
    }

    /** WebSocket tunnels by route and backend. */
    public TunnelMetrics tunnels() {
        return tunnels;
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

        /** The request timer (rate and latency histogram). */
        public Timer requests() {
            return requests;
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
            int index = status / 100 - 1;
            if (index >= 0 && index < CLASSES.length) {
                responses[index].inc();
            }
        }

        public Timer requests() {
            return requests;
        }

        /** Responses of one class ("5xx"). */
        public long responses(String statusClass) {
            return count(responses, statusClass);
        }
    }
}
