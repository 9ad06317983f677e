package dev.proxyfilter.balance;

import dev.proxyfilter.config.HealthConfig;
import dev.proxyfilter.config.PoolConfig;
import dev.proxyfilter.config.StickyConfig;
import dev.proxyfilter.time.ProxyClock;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A named set of backends, the strategy that picks among them and, optionally, session affinity.
 *
 * <p>The set is fixed when the pool is built; what changes at run time is each {@link Backend}'s weight
 * and health, which the next {@link #select(RequestView, Backend)} takes into account.
 *
 * <h2>Health</h2>
 * Each backend has a {@link BackendState} ({@link Backend#health()}). A backend is <em>in service</em>
 * while its weight is above zero and it is neither draining nor disabled, and <em>healthy</em> while it is
 * in service, not DOWN and not ejected. After every change of health the pool decides its
 * {@link PoolMode}, which says which backends the strategy sees:
 * <ol>
 * <li>{@link PoolMode#NORMAL}: the healthy primary (non-backup) backends, while at least
 *     {@code panic-threshold} percent of the primaries in service are healthy, and at least one is.</li>
 * <li>{@link PoolMode#BACKUP}: otherwise, while a backup is healthy, the healthy primaries and the
 *     healthy backups together. As in HAProxy, backups take over when no primary is healthy; unlike it,
 *     they also join in when so few primaries are left that the pool would panic, since sending to a
 *     healthy backup beats both panicking and overloading the last primaries.</li>
 * <li>{@link PoolMode#PANIC}: otherwise, if the share of healthy primaries is below the threshold, every
 *     primary in service, healthy or not, as Envoy does: when most backends look down, the checks may be
 *     what is wrong, and spreading the load beats crushing the few left. Draining and disabled backends
 *     stay out: they are the operator's decision, not a health verdict. Threshold 0 turns panic off.</li>
 * <li>Otherwise (no primary in service, or panic off) {@link PoolMode#NORMAL}, which finds no backend: the
 *     engine answers 503.</li>
 * </ol>
 * Each change of mode is reported once to the pool's {@link HealthListener}, as is each change of a
 * backend's state. Weights ramp up after a backend comes back when the pool has slow start
 * ({@link BackendHealth}).
 *
 * <h2>Session affinity</h2>
 * With {@code pool.NAME.sticky=cookie:NAME} ({@link StickyConfig}), a request whose cookie names an
 * eligible backend of this pool (one the mode allows, weight above zero, not the {@code exclude} of a
 * retry) goes to that backend, whatever the strategy. Any other request, including one whose backend has
 * become unavailable or is draining, is placed by the strategy, and {@link #stickyCookie} gives the
 * {@code Set-Cookie} that names the backend that served it, so the client sticks there from then on. A
 * draining or disabled backend is never named in a new cookie, even by the response to a request it
 * took before the drain: its sessions move on their next request.
 *
 * <p>The cookie's value is an opaque id: the first 8 bytes, in hex, of SHA-256 over the pool name and
 * the backend name. It shows neither the address nor the name, yet it is stable across restarts and
 * the same on every proxy instance with the same configuration, so that instances behind one DNS name
 * share sessions without sharing a secret. It is not a secret itself: a client may send any backend's
 * id and be served there, which gives it nothing it could not get by retrying until the strategy sends
 * it there. The cookie is forwarded to the backend unchanged, as every other cookie is.
 */
public final class BackendPool {
    private final String name;
    private final PoolHealth health;
    private final List<Backend> backends;
    private final Strategy strategy;
    private final BackendSelector selector;
    private final StickyConfig sticky;
    /** Sticky ids to backends; empty when not sticky. */
    private final Map<String, Backend> byStickyId;
    /** Per backend, in order: its sticky id and the ready-made Set-Cookie value; null when not sticky. */
    private final String[] stickyIds;

    private final String[] setCookies;

    /**
     * A pool with the configured backends, all UP, picked by the configured strategy, on the system clock;
     * nobody hears its health.
     */
    public BackendPool(PoolConfig config) {
        this(config, HealthListener.NONE);
    }

    /** A pool on the system clock whose changes of health go to {@code listener}, e.g. a log. */
    public BackendPool(PoolConfig config, HealthListener listener) {
        this(config, listener, ProxyClock.system());
    }

    /**
     * A pool whose changes of health go to {@code listener}, with the clock that its health (ejection
     * times, slow-start ramps, the times {@link BackendHealth} reports) and latency averages read.
     */
    public BackendPool(PoolConfig config, HealthListener listener, ProxyClock clock) {
        this(config, listener, null, clock);
    }

    /** As {@link #BackendPool(PoolConfig, HealthListener, ProxyClock)}, nobody listening; for tests. */
    BackendPool(PoolConfig config, ProxyClock clock) {
        this(config, HealthListener.NONE, null, clock);
    }

    /**
     * {@link #BackendPool(PoolConfig, HealthListener, BackendPool, ProxyClock)} on the clock of
     * {@code previous}, or on the system clock when there is none.
     */
    public BackendPool(PoolConfig config, HealthListener listener, BackendPool previous) {
        this(config, listener, previous, previous == null ? ProxyClock.system() : previous.health.clock());
    }

    /**
     * The next generation of {@code previous} after a configuration reload. A backend with the same name
     * and URL in both is the same {@link Backend}, carried over with its health (DOWN, ejected, drained,
     * disabled, its ramp), in-flight count, latency average and sticky id, under the new weight and backup
     * flag; any other backend is new and starts UP, ramping up like a backend that came back when the pool
     * has slow start. Backends of {@code previous} that are
     * not carried over are left as they are: the caller retires them ({@link Backend#retire()}).
     *
     * <p>Call it only once the rest of the new configuration is known to start: carrying over moves the
     * backends' health into this pool at once.
     *
     * @param previous the running generation of this pool, or null for a pool that is new
     * @param clock    the clock of health and latency averages; the same one {@code previous} runs on,
     *                 since the times that carried-over backends hold are readings of that clock
     * @throws IllegalArgumentException if {@code previous} is another pool, or runs on another clock
     */
    public BackendPool(PoolConfig config, HealthListener listener, BackendPool previous, ProxyClock clock) {
        Objects.requireNonNull(clock, "clock");
        if (previous != null && !previous.name.equals(config.name())) {
            throw new IllegalArgumentException("pool " + config.name() + " cannot follow pool " + previous.name);
        }
        if (previous != null && previous.health.clock() != clock) {
            throw new IllegalArgumentException("pool " + config.name() + ": a reload keeps the clock of the running"
                    + " pool (" + previous.health.clock() + "), not " + clock);
        }
        this.name = config.name();
        if (previous == null) {
            this.health = new PoolHealth(config.name(), config.health(), clock, listener);
            this.backends = config.backends().stream()
                    .map(b -> new Backend(config.name(), b, health))
                    .toList();
            health.attach(backends);
        } else {
            this.health = new PoolHealth(config.name(), config.health(), clock, listener, previous.health.lock);
            List<Backend> next = new java.util.ArrayList<>();
            for (dev.proxyfilter.config.BackendConfig b : config.backends()) {
                Backend kept = previous.backend(b.name())
                        .filter(old -> old.url().equals(b.url()))
                        .orElse(null);
                if (kept == null) {
                    Backend added = new Backend(config.name(), b, health);
                    added.health().startRamp();
                    next.add(added);
                } else {
                    kept.carryOver(b, health);
                    next.add(kept);
                }
            }
            this.backends = List.copyOf(next);
            synchronized (health.lock) {
                health.adopt(backends);
            }
        }
        this.strategy = Strategy.of(config);
        this.selector = strategy.newSelector(backends);
        this.sticky = config.sticky();
        if (sticky == null) {
            this.byStickyId = Map.of();
            this.stickyIds = null;
            this.setCookies = null;
        } else {
            Map<String, Backend> ids = new HashMap<>();
            this.stickyIds = new String[backends.size()];
            this.setCookies = new String[backends.size()];
            for (int i = 0; i < backends.size(); i++) {
                String id = stickyId(name, backends.get(i).name());
                if (ids.put(id, backends.get(i)) != null) {
                    // 64 bits over a handful of names: never seen, but never ambiguous either.
                    throw new IllegalStateException("pool " + name + ": two backends with sticky id " + id);
                }
                stickyIds[i] = id;
                setCookies[i] = sticky.cookie() + "=" + id + "; Path=/; HttpOnly";
            }
            this.byStickyId = Map.copyOf(ids);
        }
    }

    /** The pool's name. */
    public String name() {
        return name;
    }

    /** The backends, in configuration order; unmodifiable. */
    public List<Backend> backends() {
        return backends;
    }

    /** The strategy that picks among the backends. */
    public Strategy strategy() {
        return strategy;
    }

    /** Session affinity, or {@code null} when the pool has none. */
    public StickyConfig sticky() {
        return sticky;
    }

    /** The backend called {@code name}, if the pool has one; e.g. to {@link Backend#drain()} it. */
    public Optional<Backend> backend(String name) {
        for (Backend backend : backends) {
            if (backend.name().equals(name)) {
                return Optional.of(backend);
            }
        }
        return Optional.empty();
    }

    /** Health checks, outlier ejection, panic threshold and slow start, as configured. */
    public HealthConfig healthConfig() {
        return health.config();
    }

    /**
     * Whether a pick may return {@code backend} now: its weight is above zero and the pool's mode allows it
     * (normally: it is UP; in panic, any primary in service; see the class comment). What the strategies
     * test, for callers that look past the strategy, such as a connection limit looking for room.
     */
    public boolean eligible(Backend backend) {
        health.refresh();
        return backend.effectiveWeight() > 0;
    }

    /** Which backends the strategy picks from now; see the class comment. */
    public PoolMode mode() {
        health.refresh();
        return health.mode();
    }

    /**
     * Picks a backend for a new request, or {@code null} when none can take it: the backend the request's
     * sticky cookie names if it is eligible, else the strategy's pick under the rules of
     * {@link BackendSelector#select(RequestView, Backend)}.
     *
     * @param request what the strategy and session affinity may read of the request
     * @param exclude a backend already tried for this request, avoided while another can take the
     *                request and returned when it is the only one; may be null
     */
    public Backend select(RequestView request, Backend exclude) {
        health.refresh();
        if (sticky != null) {
            String id = request.cookie(sticky.cookie());
            if (id != null) {
                Backend pinned = byStickyId.get(id);
                if (pinned != null && pinned != exclude && pinned.effectiveWeight() > 0) {
                    return pinned;
                }
            }
        }
        return selector.select(request, exclude);
    }

    /** {@link #select(RequestView, Backend)} for a caller without a request: the strategy alone picks. */
    public Backend select(Backend exclude) {
        return select(RequestView.NONE, exclude);
    }

    /**
     * The {@code Set-Cookie} value for a response that {@code served} gave to {@code request}:
     * {@code NAME=<id>; Path=/; HttpOnly} naming {@code served}, or {@code null} when the pool is not
     * sticky, the request's cookie already names {@code served}, or {@code served} is draining or disabled
     * (no new session goes there).
     */
    public String stickyCookie(RequestView request, Backend served) {
        if (sticky == null || !served.health().inService()) {
            return null;
        }
        for (int i = 0; i < stickyIds.length; i++) {
            if (backends.get(i) == served) {
                return stickyIds[i].equals(request.cookie(sticky.cookie())) ? null : setCookies[i];
            }
        }
        return null;
    }

    /** The opaque, stable sticky id of backend {@code backend} in pool {@code pool}: 16 hex digits. */
    static String stickyId(String pool, String backend) {
        try {
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            byte[] digest =
                    sha256.digest(("proxy-filter sticky\0" + pool + "\0" + backend).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    @Override
    public String toString() {
        return "BackendPool[" + name + ", " + strategy + ", " + backends.size() + " backends"
                + (sticky == null ? "" : ", sticky " + sticky) + "]";
    }
}
