package dev.proxyfilter.balance;

import dev.proxyfilter.config.BackendConfig;
import java.net.URI;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * A backend at run time: its fixed address plus mutable state that request threads, health checks
 * and operators share.
 *
 * <p>The address ({@link #scheme()}, {@link #host()}, {@link #port()}) is parsed once. The state is
 * thread-safe: the {@linkplain #inFlight() in-flight counter} is atomic, {@linkplain #weight() weight}
 * and {@linkplain #available() availability} are volatile and read by every {@link Strategy} on every
 * pick, so a change takes effect with the next request. A backend takes new traffic only while it is
 * available and its weight is above zero.
 *
 * <p>The engine also reports each response's latency ({@link #onResponse(long)}), which feeds a decaying
 * average ({@link #latencyNanos()}) that {@link Strategy#responseTime()} reads. Time for that average comes
 * from a clock given when the pool is built, so that tests can move it without sleeping.
 *
 * <p>Identity matters: strategies compare backends with {@code ==} (see
 * {@link BackendPool#select(Backend)}), so there is one instance per configured backend.
 */
public final class Backend {
    private final String pool;
    private final BackendConfig config;
    private final String scheme;
    private final String host;
    private final int port;
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile int weight;
    private volatile boolean available = true;
    private final LatencyEwma latency;

    /**
     * A backend of {@code pool}, available, with the configured weight.
     *
     * @throws IllegalArgumentException if the URL is not an absolute {@code http} or {@code https} URL
     *                                  with a host
     */
    public Backend(String pool, BackendConfig config) {
        this(pool, config, System::nanoTime);
    }

    /** As {@link #Backend(String, BackendConfig)}, with the clock of the latency average; for tests. */
    Backend(String pool, BackendConfig config, LongSupplier nanoClock) {
        this.latency = new LatencyEwma(nanoClock);
        this.pool = pool;
        this.config = config;
        URI url = config.url();
        String s = url.getScheme() == null ? null : url.getScheme().toLowerCase(Locale.ROOT);
        if (!("http".equals(s) || "https".equals(s)) || url.getHost() == null) {
            throw new IllegalArgumentException("pool." + pool + ".backend." + config.name() + ".url: " + url
                    + " (expected: absolute http(s) URL with a host)");
        }
        this.scheme = s;
        this.host = url.getHost();
        this.port = url.getPort() >= 0 ? url.getPort() : "https".equals(s) ? 443 : 80;
        this.weight = config.weight();
    }

    /** The name of the pool this backend belongs to. */
    public String pool() {
        return pool;
    }

    /** The backend's name inside its pool; safe to show to clients, unlike the address. */
    public String name() {
        return config.name();
    }

    /** The configured URL. */
    public URI url() {
        return config.url();
    }

    /** {@code http} or {@code https}, in lower case. */
    public String scheme() {
        return scheme;
    }

    /** The host as written in the URL; an IPv6 literal keeps its brackets, as in a Host header. */
    public String host() {
        return host;
    }

    /** The port from the URL, or 80 for {@code http} and 443 for {@code https} when it has none. */
    public int port() {
        return port;
    }

    /** The current weight: the configured one until {@link #weight(int)} changes it. 0 takes no new traffic. */
    public int weight() {
        return weight;
    }

    /**
     * Changes the weight for the next picks; requests already in flight are not affected.
     *
     * @throws IllegalArgumentException if {@code weight} is negative
     */
    public void weight(int weight) {
        if (weight < 0) {
            throw new IllegalArgumentException("weight: " + weight + " (expected: >= 0)");
        }
        this.weight = weight;
    }

    /** Whether the backend may take new traffic; true until {@link #available(boolean)} says otherwise. */
    public boolean available() {
        return available;
    }

    /** Marks the backend as able (true) or unable (false) to take new traffic, e.g. from a health check. */
    public void available(boolean available) {
        this.available = available;
    }

    /** Requests sent to this backend and not finished yet. */
    public int inFlight() {
        return inFlight.get();
    }

    /** Counts a request sent to this backend; pair every call with one {@link #onRequestEnd()}. */
    public void onRequestStart() {
        inFlight.incrementAndGet();
    }

    /**
     * Counts a request to this backend as finished, whatever its outcome.
     *
     * @throws IllegalStateException if no request is in flight, which means the calls are not paired
     */
    public void onRequestEnd() {
        if (inFlight.decrementAndGet() < 0) {
            inFlight.incrementAndGet();
            throw new IllegalStateException("backend " + pool + "/" + name()
                    + ": onRequestEnd() without onRequestStart()");
        }
    }

    /**
     * Reports a response from this backend: {@code latencyNanos} from sending the request to receiving the
     * response headers. Thread-safe; call it once per response, whatever its status.
     */
    public void onResponse(long latencyNanos) {
        latency.observe(latencyNanos);
    }

    /**
     * The backend's latency in nanoseconds: a moving average of about the last ten {@link #onResponse}
     * reports that decays toward 0 while none comes (see {@link LatencyEwma}); {@link Double#NaN} until the
     * first report.
     */
    public double latencyNanos() {
        return latency.valueAt(latency.now());
    }

    /** {@link #latencyNanos()} as of {@code now}, a reading of {@link #nanoTime()}. */
    double latencyNanos(long now) {
        return latency.valueAt(now);
    }

    /** The clock of the latency average, so that a strategy reads it once per pick for all backends. */
    long nanoTime() {
        return latency.now();
    }

    /** The weight strategies use: {@link #weight()} while available, else 0. */
    int effectiveWeight() {
        return available ? weight : 0;
    }

    /** Pool, name and state; never the address, which clients must not see. */
    @Override
    public String toString() {
        return "Backend[" + pool + "/" + name() + ", weight=" + weight + ", available=" + available
                + ", inFlight=" + inFlight.get() + "]";
    }
}
