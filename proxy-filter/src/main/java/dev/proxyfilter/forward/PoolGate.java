package dev.proxyfilter.forward;

import dev.proxyfilter.balance.Backend;
import dev.proxyfilter.balance.BackendPool;
import dev.proxyfilter.balance.RequestView;
import dev.proxyfilter.config.BackendConfig;
import dev.proxyfilter.config.PoolConfig;
import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.Iterator;
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
 *
 * <p>After a reload the gates of a pool's generations share what they compete for: a carried-over
 * backend's count of connections in use, and the queue of waiters. A slot freed on either generation
 * therefore wakes the oldest waiter, of whichever generation, whose gate shares that backend's count and
 * has room on it under its own {@code max-connections}; without that, a request queued on the new gate
 * would sleep through the end of every request still in flight on the old one. {@code max-pending} and
 * {@link #pending} count the waiters of every generation of the pool, as {@code max-connections} counts
 * their connections; each waiter keeps the {@code queue-timeout} of the gate it queued on.
 */
final class PoolGate {
    /** What {@link #acquire} returns when backends exist but every one is at its limit. */
    static final Backend FULL =
            new Backend("", new BackendConfig("full", java.net.URI.create("http://full.invalid"), 0));

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
    /** The pool's waiters, shared with the gates of its other generations; the lock of every change to it. */
    private final ArrayDeque<QueuedWaiter> queue;

    private final int retryBudgetPercent;
    private final AtomicInteger activeRequests = new AtomicInteger();
    private final AtomicInteger activeRetries = new AtomicInteger();
    private final AtomicInteger activeTunnels = new AtomicInteger();

    PoolGate(BackendPool pool, PoolConfig config, int retryBudgetPercent, Scheduler scheduler) {
        this(pool, config, retryBudgetPercent, scheduler, null);
    }

    /**
     * The gate of a pool's next generation after a reload: a backend carried over shares its count of
     * connections in use with {@code previous}, so that requests still in flight on the old configuration
     * count against {@code max-connections} too; the two gates share their queue of waiters as well, so
     * that a slot freed on either wakes a waiter of either (see the class comment).
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
        this.queue = previous == null ? new ArrayDeque<>() : previous.queue;
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
            if (candidate != exclude
                    && pool.eligible(candidate)
                    && entry.getValue().tryAcquire()) {
                return candidate;
            }
        }
        return FULL;
    }

    /**
     * Returns the slot taken by {@link #acquire}; hands room to the oldest waiter that can use it, on this
     * gate or on another generation's gate that shares the backend's count.
     */
    void release(Backend backend) {
        if (!limited) {
            return;
        }
        Slot slot = slots.get(backend);
        slot.release();
        wake(backend, slot.inUse);
    }

    /**
     * Wakes the oldest waiter whose gate counts {@code backend} with {@code inUse} and has room on it now.
     * Nobody is woken when no gate has room: whoever took the slot first will free it again and wake then.
     */
    private void wake(Backend backend, AtomicInteger inUse) {
        QueuedWaiter next = null;
        synchronized (queue) {
            PoolGate without = null;
            for (Iterator<QueuedWaiter> waiters = queue.iterator(); waiters.hasNext(); ) {
                QueuedWaiter candidate = waiters.next();
                PoolGate gate = candidate.gate;
                if (gate == without) {
                    continue;
                }
                Slot theirs = gate.slots.get(backend);
                if (theirs != null && theirs.inUse == inUse && theirs.hasRoom()) {
                    waiters.remove();
                    next = candidate;
                    break;
                }
                // The queue holds the waiters of one or two generations: skip the rest of this one at once.
                without = gate;
            }
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
        QueuedWaiter queued = new QueuedWaiter(this, waiter);
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
        queued.timeout = scheduler.schedule(
                () -> {
                    boolean removed;
                    synchronized (queue) {
                        removed = queue.remove(queued);
                    }
                    if (removed && queued.claim()) {
                        waiter.expired();
                    }
                },
                queueTimeoutMillis,
                TimeUnit.MILLISECONDS);
        // A slot freed between the caller's acquire and the queueing above found nobody to wake: look again
        // now that the waiter is in the queue. Only an eligible backend counts, as in acquire, so a waiter
        // is never woken for room it cannot take.
        for (Map.Entry<Backend, Slot> entry : slots.entrySet()) {
            Slot slot = entry.getValue();
            if (slot.hasRoom() && pool.eligible(entry.getKey())) {
                wake(entry.getKey(), slot.inUse);
                break;
            }
        }
        return true;
    }

    /** Requests waiting for room now, on the gates of every generation of the pool. */
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

    /** A WebSocket tunnel opened on this generation of the pool; it keeps the generation alive until it closes. */
    void onTunnelOpen() {
        activeTunnels.incrementAndGet();
    }

    /** A tunnel of {@link #onTunnelOpen} closed. */
    void onTunnelClose() {
        activeTunnels.decrementAndGet();
    }

    /** Tunnels open on this generation of the pool. */
    int activeTunnels() {
        return activeTunnels.get();
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

        /** Whether {@link #tryAcquire} would succeed now; a hint, another thread may take the room first. */
        boolean hasRoom() {
            return max <= 0 || inUse.get() < max;
        }
    }

    /** A waiter in the queue; {@link #claim} makes "room appeared" and "timed out" exclusive. */
    private static final class QueuedWaiter {
        /** The gate it queued on, whose limits say which freed slots it can take. */
        final PoolGate gate;

        final Waiter waiter;
        private final java.util.concurrent.atomic.AtomicBoolean claimed =
                new java.util.concurrent.atomic.AtomicBoolean();
        volatile Scheduler.Task timeout;

        QueuedWaiter(PoolGate gate, Waiter waiter) {
            this.gate = gate;
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
