package dev.proxyfilter.balance;

import dev.proxyfilter.config.BackendConfig;
import dev.proxyfilter.config.HealthConfig;
import dev.proxyfilter.time.ProxyClock;
import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend at run time: its fixed address plus mutable state that request threads, health checks
 * and operators share.
 *
 * <p>The address ({@link #scheme()}, {@link #host()}, {@link #port()}) is parsed once. The state is
 * thread-safe: the {@linkplain #inFlight() in-flight counter} is atomic, {@linkplain #weight() weight}
 * and {@linkplain #health() health} are volatile and read by every {@link Strategy} on every
 * pick, so a change takes effect with the next request. A backend takes new traffic only while its weight
 * is above zero and its pool's mode allows it: normally while it is {@link BackendState#UP UP} (see
 * {@link BackendPool} for backups and panic). Operators {@link #drain()}, {@link #disable()} and
 * {@link #enable()} it; checks and request outcomes reach it through {@link #health()}.
 *
 * <p>The engine also reports each response's latency ({@link #onResponse(long)}), which feeds a decaying
 * average ({@link #latencyNanos()}) that {@link Strategy#responseTime()} reads. Time for that average comes
 * from the {@link ProxyClock} the pool is built with, so that tests can move it without sleeping.
 *
 * <p>Identity matters: strategies compare backends with {@code ==} (see
 * {@link BackendPool#select(Backend)}), so there is one instance per configured backend.
 */
public final class Backend {
    private final String pool;
    /** "pool/name", as the access log shows it: made once, not per request. */
    private final String qualifiedName;
    /** Replaced only by a reload that carries the backend over; name and URL never change. */
    private volatile BackendConfig config;

    private final String scheme;
    private final String host;
    private final int port;
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile int weight;
    private final LatencyEwma latency;
    private volatile boolean backup;
    private final BackendHealth health;

    /**
     * A backend of {@code pool}, available, with the configured weight, on the system clock.
     *
     * @throws IllegalArgumentException if the URL is not an absolute {@code http} or {@code https} URL
     *                                  with a host
     */
    public Backend(String pool, BackendConfig config) {
        this(pool, config, ProxyClock.system());
    }

    /**
     * As {@link #Backend(String, BackendConfig)}, with the clock of its latency average and health.
     *
     * @throws IllegalArgumentException if the URL is not an absolute {@code http} or {@code https} URL
     *                                  with a host
     */
    public Backend(String pool, BackendConfig config, ProxyClock clock) {
        this(pool, config, PoolHealth.standalone(pool, clock));
        health.poolHealth().attach(List.of(this));
    }

    /** A backend of a pool whose health is {@code poolHealth}, on the pool's clock. */
    Backend(String pool, BackendConfig config, PoolHealth poolHealth) {
        this.latency = new LatencyEwma(poolHealth.clock());
        this.pool = pool;
        this.config = config;
        this.qualifiedName = pool + "/" + config.name();
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
        this.backup = config.backup();
        this.health = new BackendHealth(this, poolHealth);
    }

    /** The name of the pool this backend belongs to. */
    public String pool() {
        return pool;
    }

    /** {@code pool/name}: the pool's name and the backend's, as the access log shows them. */
    public String qualifiedName() {
        return qualifiedName;
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

    /**
     * The current weight: the configured one until {@link #weight(int)} changes it. 0 takes no new traffic.
     * Slow start does not change it; see {@link BackendHealth#weightPercent()}.
     */
    public int weight() {
        return weight;
    }

    /**
     * Changes the weight for the next picks; requests already in flight are not affected.
     *
     * @throws IllegalArgumentException if {@code weight} is negative, or above
     *                                  {@link HealthConfig#MAX_WEIGHT_WITH_SLOW_START} in a pool with slow start
     */
    public void weight(int weight) {
        if (weight < 0) {
            throw new IllegalArgumentException("weight: " + weight + " (expected: >= 0)");
        }
        if (health.poolHealth().weightScale() > 1 && weight > HealthConfig.MAX_WEIGHT_WITH_SLOW_START) {
            throw new IllegalArgumentException("weight: " + weight + " (expected: 0.."
                    + HealthConfig.MAX_WEIGHT_WITH_SLOW_START + " with slow start)");
        }
        int previous = this.weight;
        this.weight = weight;
        health.weightChanged(previous, weight);
    }

    /**
     * Carries this backend into the next generation of its pool after a reload: same name and URL, the
     * new configuration's weight (only if the configured weight changed, so that an operator's weight
     * survives a reload that does not touch it) and backup flag, and all of its health.
     */
    void carryOver(BackendConfig next, PoolHealth nextPool) {
        if (!next.name().equals(config.name()) || !next.url().equals(config.url())) {
            throw new IllegalArgumentException(
                    "backend " + pool + "/" + name() + ": only a backend with the same name" + " and URL carries over");
        }
        BackendConfig previous = config;
        health.moveTo(nextPool);
        synchronized (nextPool.lock) {
            config = next;
            backup = next.backup();
            if (next.weight() != previous.weight()) {
                weight = next.weight();
            }
        }
    }

    /**
     * Takes a backend that a reload removed out of service: DRAINING, so that the old configuration's
     * requests still in flight do not retry there, while those it serves finish.
     */
    public void retire() {
        health.retire();
    }

    /** The configuration this backend runs with now. */
    public BackendConfig config() {
        return config;
    }

    /** Whether this is a backup, which takes traffic only while the pool's primaries cannot. */
    public boolean backup() {
        return backup;
    }

    /** Health checks, outlier ejection, slow start and the state they add up to. */
    public BackendHealth health() {
        return health;
    }

    /** {@link BackendHealth#state()}: UP, DOWN, EJECTED, DRAINING or DISABLED. */
    public BackendState state() {
        return health.state();
    }

    /**
     * Stops sending new requests here, sticky ones included, while the requests in flight finish
     * ({@link #inFlight()} tells when they have). {@link #enable()} undoes it.
     */
    public void drain() {
        health.drain();
    }

    /** Takes the backend out of the pool until {@link #enable()}; requests in flight are not affected. */
    public void disable() {
        health.disable();
    }

    /** Undoes {@link #drain()} and {@link #disable()}; the backend is UP again unless its health says otherwise. */
    public void enable() {
        health.enable();
    }

    /** Whether the backend takes new traffic in a normal pool: its {@link #state()} is UP. */
    public boolean available() {
        return state() == BackendState.UP;
    }

    /** {@link #enable()} (true) or {@link #disable()} (false); kept for callers from before health states. */
    public void available(boolean available) {
        if (available) {
            enable();
        } else {
            disable();
        }
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
            throw new IllegalStateException(
                    "backend " + pool + "/" + name() + ": onRequestEnd() without onRequestStart()");
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

    /**
     * The weight strategies use: 0 while the pool's mode does not allow this backend (see
     * {@link BackendPool}), else {@link #weight()}, times the slow-start steps in a pool with slow start.
     */
    int effectiveWeight() {
        return health.selectionWeight(weight, backup);
    }

    /** Pool, name and state; never the address, which clients must not see. */
    @Override
    public String toString() {
        return "Backend[" + pool + "/" + name() + ", weight=" + weight + ", available=" + available() + ", inFlight="
                + inFlight.get() + "]";
    }
}
