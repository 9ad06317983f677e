package dev.proxyfilter.forward;

import dev.proxyfilter.balance.Backend;
import dev.proxyfilter.balance.BackendPool;
import dev.proxyfilter.balance.RequestView;
import dev.proxyfilter.config.BackendConfig;
import dev.proxyfilter.config.PoolConfig;
import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * Admission to one pool: per-backend connection limits ({@code max-connections}), the bounded queue of
 * requests waiting for room ({@code max-pending}, {@code queue-timeout}) and the retry budget.
 *
 * <p>Nothing here parks a thread. A request that finds every backend full either joins the queue with a
 * scheduled timeout, or is refused at once; a slot freed by a finished request hands itself to the
 * oldest waiter. The retry budget is Envoy's: retries in flight may be at most {@code retry-budget}
 * percent of the pool's requests in flight, with a floor of {@value #MIN_RETRY_CONCURRENCY} so that
 * low traffic can retry at all. A failing pool then sees at most that much extra load.
 */
final class PoolGate {
    /** What {@link #acquire} returns when backends exist but every one is at its limit. */
    static final Backend FULL = new Backend("", new BackendConfig("full", java.net.URI.create("http://full.invalid"), 0));

    /** Retries that may be in flight whatever the budget (Envoy's {@code min_retry_concurrency}). */
    static final int MIN_RETRY_CONCURRENCY = 3;

    /** A request waiting for room. */
    interface Waiter {
        /** Room may have appeared: try again (and re-enqueue if it went to someone else). */
        void retry();

        /** The queue timeout expired first. */
        void expired();
    }

    private final BackendPool pool;
    private final Map<Backend, Slot> slots = new IdentityHashMap<>();
    private final boolean limited;
    private final int maxPending;
    private final long queueTimeoutMillis;
    private final Scheduler scheduler;
    private final ArrayDeque<QueuedWaiter> queue = new ArrayDeque<>();
    private final int retryBudgetPercent;
    private final AtomicInteger activeRequests = new AtomicInteger();
    private final AtomicInteger activeRetries = new AtomicInteger();

    PoolGate(BackendPool pool, PoolConfig config, int retryBudgetPercent, Scheduler scheduler) {
        this(pool, config, retryBudgetPercent, scheduler, null);
    }

    /**
     * The gate of a pool's next generation after a reload: a backend carried over shares its count of
     * connections in use with {@code previous}, so that requests still in flight on the old configuration
     * count against {@code max-connections} too.
     */
    PoolGate(BackendPool pool, PoolConfig config, int retryBudgetPercent, Scheduler scheduler, PoolGate previous) {
        this.pool = pool;
        boolean anyLimit = false;
        List<BackendConfig> backendConfigs = config.backends();
        for (Backend backend : pool.backends()) {
            int max = 0;
            for (BackendConfig backendConfig : backendConfigs) {
                if (backendConfig.name().equals(backend.name())) {
                    max = backendConfig.maxConnections();
                }
            }
            anyLimit |= max > 0;
            Slot before = previous == null ? null : previous.slots.get(backend);
            slots.put(backend, before == null ? new Slot(max) : new Slot(max, before.inUse));
        }
        this.limited = anyLimit;
        this.maxPending = config.maxPending();
        this.queueTimeoutMillis = config.queueTimeout().toMillis();
        this.scheduler = scheduler;
        this.retryBudgetPercent = retryBudgetPercent;
    }

    /** Whether any backend of the pool has a connection limit. */
    boolean limited() {
        return limited;
    }

    /**
     * Picks a backend with room and takes a slot on it.
     *
     * @return the backend; {@code null} when the pool has no backend that can take the request at all;
     *         {@link #FULL} when backends could, but every one is at its {@code max-connections}
     */
    Backend acquire(RequestView request, Backend exclude) {
        Backend first = pool.select(request, exclude);
        if (first == null || !limited || slots.get(first).tryAcquire()) {
            return first;
        }
        // The strategy's pick is full: take another backend with room, as nginx does with max_conns.
        Backend full = first;
        for (int i = 0; i < slots.size(); i++) {
            Backend next = pool.select(request, full);
            if (next == null || next == full || next == first && i > 0) {
                break;
            }
            if (slots.get(next).tryAcquire()) {
                return next;
            }
            full = next;
        }
        for (Map.Entry<Backend, Slot> entry : slots.entrySet()) {
            Backend candidate = entry.getKey();
            if (candidate != exclude && pool.eligible(candidate) && entry.getValue().tryAcquire()) {
                return candidate;
            }
        }
        return FULL;
    }

    /** Returns the slot taken by {@link #acquire}; hands room to the oldest waiter. */
    void release(Backend backend) {
        if (!limited) {
            return;
        }
        slots.get(backend).release();
        QueuedWaiter next;
        synchronized (queue) {
            next = queue.pollFirst();
        }
        if (next != null && next.claim()) {
            next.waiter.retry();
        }
    }

    /**
     * Queues a waiter until room appears or the queue timeout expires.
     *
     * @param front whether it was at the head already and lost the race for a freed slot
     * @return false when the queue is full: the caller answers 503 at once
     */
    boolean enqueue(Waiter waiter, boolean front) {
        QueuedWaiter queued = new QueuedWaiter(waiter);
        synchronized (queue) {
            if (!front && queue.size() >= maxPending) {
                return false;
            }
            if (front) {
                queue.addFirst(queued);
            } else {
                queue.addLast(queued);
            }
        }
        queued.timeout = scheduler.schedule(() -> {
            boolean removed;
            synchronized (queue) {
                removed = queue.remove(queued);
            }
            if (removed && queued.claim()) {
                waiter.expired();
            }
        }, queueTimeoutMillis, TimeUnit.MILLISECONDS);
        return true;
    }

    /** Requests waiting for room now. */
    int pending() {
        synchronized (queue) {
            return queue.size();
        }
    }

    /** A client request starts; it counts towards the retry budget until {@link #onRequestEnd}. */
    void onRequestStart() {
        activeRequests.incrementAndGet();
    }

    /** A client request ended, whatever the outcome. */
    void onRequestEnd() {
        activeRequests.decrementAndGet();
    }

    /** Client requests started on this gate and not ended: 0 once a retired generation has no more. */
    int activeRequests() {
        return activeRequests.get();
    }

    /** Whether the budget has room for one more retry now, without taking it. */
    boolean retryAvailable() {
        return activeRetries.get() < retryLimit();
    }

    /** Takes a place for a retry try; false when the budget is spent. Pair with {@link #onRetryEnd}. */
    boolean tryRetry() {
        int limit = retryLimit();
        int current;
        do {
            current = activeRetries.get();
            if (current >= limit) {
                return false;
            }
        } while (!activeRetries.compareAndSet(current, current + 1));
        return true;
    }

    /** A retry try ended. */
    void onRetryEnd() {
        activeRetries.decrementAndGet();
    }

    private int retryLimit() {
        return Math.max(MIN_RETRY_CONCURRENCY, (int) (activeRequests.get() * retryBudgetPercent / 100L));
    }

    /** In-use count and limit of one backend. */
    private static final class Slot {
        private final int max;
        private final AtomicInteger inUse;

        Slot(int max) {
            this(max, new AtomicInteger());
        }

        Slot(int max, AtomicInteger inUse) {
            this.max = max;
            this.inUse = inUse;
        }

        boolean tryAcquire() {
            if (max <= 0) {
                inUse.incrementAndGet();
                return true;
            }
            int current;
            do {
                current = inUse.get();
                if (current >= max) {
                    return false;
                }
            } while (!inUse.compareAndSet(current, current + 1));
            return true;
        }

        void release() {
            inUse.decrementAndGet();
        }
    }

    /** A waiter in the queue; {@link #claim} makes "room appeared" and "timed out" exclusive. */
    private static final class QueuedWaiter {
        final Waiter waiter;
        private final java.util.concurrent.atomic.AtomicBoolean claimed = new java.util.concurrent.atomic.AtomicBoolean();
        volatile Scheduler.Task timeout;

        QueuedWaiter(Waiter waiter) {
            this.waiter = waiter;
        }

        boolean claim() {
            if (!claimed.compareAndSet(false, true)) {
                return false;
            }
            Scheduler.Task task = timeout;
            if (task != null) {
                task.cancel();
            }
            return true;
        }
    }
}
