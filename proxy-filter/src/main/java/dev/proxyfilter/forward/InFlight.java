package dev.proxyfilter.forward;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The exchanges in flight in one engine, so that a graceful {@link ProxyEngine#close(Duration)} can wait
 * for them. Each {@link Forwarding} counts from its construction to its single {@code ended()}, whichever
 * way it ends (response, error, refusal, cache hit, client abort); a background revalidation counts too,
 * since it still writes to the cache that closes after it.
 *
 * <p>The hot path is one atomic add each way. Only while someone waits does the last {@link #end()} take
 * the monitor to wake them; the waiter re-reads the count under that monitor, so no wake-up is lost.
 */
final class InFlight {
    private final AtomicInteger count = new AtomicInteger();
    private volatile boolean awaited;

    /** An exchange started. */
    void begin() {
        count.incrementAndGet();
    }

    /** An exchange ended; called exactly once per {@link #begin()}. */
    void end() {
        if (count.decrementAndGet() == 0 && awaited) {
            synchronized (this) {
                notifyAll();
            }
        }
    }

    /** Exchanges in flight now. */
    int count() {
        return count.get();
    }

    /**
     * Waits, without spinning, until no exchange is in flight or {@code timeout} passed.
     *
     * @return whether none is in flight
     */
    boolean awaitIdle(Duration timeout) throws InterruptedException {
        awaited = true;
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (this) {
            while (count.get() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }
        return true;
    }
}
