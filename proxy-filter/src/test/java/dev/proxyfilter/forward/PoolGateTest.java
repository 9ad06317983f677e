package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.proxyfilter.balance.Backend;
import dev.proxyfilter.balance.BackendPool;
import dev.proxyfilter.balance.HealthListener;
import dev.proxyfilter.balance.RequestView;
import dev.proxyfilter.config.BackendConfig;
import dev.proxyfilter.config.PoolConfig;
import dev.proxyfilter.config.StrategyName;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The gate's queue across a reload: the gates of two generations share a carried-over backend's count of
 * connections in use, so a slot freed on either must wake a waiter of either. Real pools, real gates and
 * a real Jetty scheduler for the queue timeouts; the "requests" are waiters that behave as
 * {@link Forwarding} does (take a backend when woken, or queue again at the front).
 */
@Timeout(30)
class PoolGateTest {
    /** Far above what any assertion waits: a waiter that is not woken fails the test, it does not time out. */
    private static final Duration LONG_QUEUE = Duration.ofSeconds(20);

    private static final URI A_URL = URI.create("http://127.0.0.1:1/");
    private static final URI B_URL = URI.create("http://127.0.0.1:2/");

    private final ScheduledExecutorScheduler scheduler = new ScheduledExecutorScheduler("pool-gate-test", true);

    @BeforeEach
    void start() throws Exception {
        scheduler.start();
    }

    @AfterEach
    void stop() throws Exception {
        scheduler.stop();
    }

    private static PoolConfig pool(int maxPending, Duration queueTimeout, BackendConfig... backends) {
        return new PoolConfig("web", StrategyName.ROUND_ROBIN, List.of(backends), null, null, maxPending, queueTimeout);
    }

    private static PoolConfig onlyA(int maxConnections) {
        return pool(4, LONG_QUEUE, new BackendConfig("a", A_URL, 1, maxConnections));
    }

    /** A request as {@link Forwarding} admits one: a backend with room, else the queue, else refused. */
    private static final class Request implements PoolGate.Waiter {
        final PoolGate gate;
        final CompletableFuture<Backend> served = new CompletableFuture<>();
        final AtomicInteger wakeUps = new AtomicInteger();

        Request(PoolGate gate) {
            this.gate = gate;
        }

        /** @return false when the queue refused it */
        boolean admit(boolean front) {
            Backend backend = gate.acquire(RequestView.NONE, null);
            if (backend == PoolGate.FULL) {
                return gate.enqueue(this, front);
            }
            served.complete(backend);
            return true;
        }

        Request queued() {
            assertThat(admit(false)).as("queued").isTrue();
            assertThat(served).as("no room: it waits").isNotDone();
            return this;
        }

        @Override
        public void retry() {
            wakeUps.incrementAndGet();
            admit(true);
        }

        @Override
        public void expired() {
            served.completeExceptionally(new TimeoutException("queue timeout"));
        }

        /** The backend it was given, within 2 s: far less than its queue timeout. */
        Backend servedPromptly() throws Exception {
            return served.get(2, TimeUnit.SECONDS);
        }
    }

    @Test
    void aSlotFreedByTheOldGenerationWakesARequestQueuedOnTheNewOne() throws Exception {
        BackendPool oldPool = new BackendPool(onlyA(1));
        PoolGate oldGate = new PoolGate(oldPool, onlyA(1), 20, scheduler);
        Backend a = oldGate.acquire(RequestView.NONE, null);
        assertThat(a.name()).isEqualTo("a");

        PoolConfig reloaded = onlyA(1);
        BackendPool newPool = new BackendPool(reloaded, HealthListener.NONE, oldPool);
        PoolGate newGate = new PoolGate(newPool, reloaded, 20, scheduler, oldGate);
        assertThat(newPool.backends()).containsExactly(a);
        assertThat(newGate.acquire(RequestView.NONE, null))
                .as("the old request's slot counts")
                .isSameAs(PoolGate.FULL);
        Request waiting = new Request(newGate).queued();
        assertThat(newGate.pending()).isEqualTo(1);

        long start = System.nanoTime();
        oldGate.release(a);

        assertThat(waiting.servedPromptly()).isSameAs(a);
        assertThat(System.nanoTime() - start).isLessThan(LONG_QUEUE.toNanos() / 10);
        assertThat(newGate.pending()).isZero();
        assertThat(newGate.acquire(RequestView.NONE, null))
                .as("the woken request holds the slot")
                .isSameAs(PoolGate.FULL);
    }

    @Test
    void aSlotFreedByTheNewGenerationWakesARequestStillQueuedOnTheOldOne() throws Exception {
        BackendPool oldPool = new BackendPool(onlyA(1));
        PoolGate oldGate = new PoolGate(oldPool, onlyA(1), 20, scheduler);
        Backend a = oldGate.acquire(RequestView.NONE, null);
        Request oldWaiter = new Request(oldGate).queued();

        PoolConfig reloaded = onlyA(1);
        PoolGate newGate =
                new PoolGate(new BackendPool(reloaded, HealthListener.NONE, oldPool), reloaded, 20, scheduler, oldGate);
        oldGate.release(a);
        assertThat(oldWaiter.servedPromptly()).isSameAs(a);

        Request newWaiter = new Request(newGate).queued();
        oldGate.release(a); // the old waiter's request ends ...
        assertThat(newWaiter.servedPromptly()).isSameAs(a); // ... and the new one takes its slot
        Request oldAgain = new Request(oldGate).queued();
        newGate.release(a);
        assertThat(oldAgain.servedPromptly()).isSameAs(a);
    }

    @Test
    void aFreedSlotGoesToTheOldestWaiterWhoseOwnLimitHasRoom() throws Exception {
        // max-connections goes from 1 to 2: with one connection in use the old gate is full, the new one is not.
        BackendPool oldPool = new BackendPool(onlyA(1));
        PoolGate oldGate = new PoolGate(oldPool, onlyA(1), 20, scheduler);
        Backend a = oldGate.acquire(RequestView.NONE, null);
        PoolConfig reloaded = onlyA(2);
        PoolGate newGate =
                new PoolGate(new BackendPool(reloaded, HealthListener.NONE, oldPool), reloaded, 20, scheduler, oldGate);
        assertThat(newGate.acquire(RequestView.NONE, null)).isSameAs(a);
        Request oldWaiter = new Request(oldGate).queued();
        Request newWaiter = new Request(newGate).queued();

        newGate.release(a);

        // One connection is in use: room under the new limit only. Waking the old waiter first would leave
        // the new one asleep beside a free slot.
        assertThat(newWaiter.servedPromptly()).isSameAs(a);
        assertThat(oldWaiter.served).isNotDone();
        assertThat(oldWaiter.wakeUps).hasValue(0);
        oldGate.release(a);
        newGate.release(a);
        assertThat(oldWaiter.servedPromptly()).isSameAs(a);
        assertThat(oldGate.pending()).isZero();
    }

    @Test
    void aReplacedBackendSharesNothingAndItsReleasesWakeOnlyItsOwnGeneration() throws Exception {
        BackendPool oldPool = new BackendPool(onlyA(1));
        PoolGate oldGate = new PoolGate(oldPool, onlyA(1), 20, scheduler);
        Backend oldA = oldGate.acquire(RequestView.NONE, null);
        // Same name, another URL: a new backend with a count of its own.
        PoolConfig moved = pool(4, LONG_QUEUE, new BackendConfig("a", B_URL, 1, 1));
        PoolGate newGate =
                new PoolGate(new BackendPool(moved, HealthListener.NONE, oldPool), moved, 20, scheduler, oldGate);
        Backend newA = newGate.acquire(RequestView.NONE, null);
        assertThat(newA).isNotSameAs(oldA);
        Request newWaiter = new Request(newGate).queued();

        oldGate.release(oldA);
        assertThat(newWaiter.wakeUps).as("no room for it was freed").hasValue(0);
        newGate.release(newA);
        assertThat(newWaiter.servedPromptly()).isSameAs(newA);
    }

    @Test
    void aSlotFreedJustBeforeTheRequestQueuedIsNotMissed() throws Exception {
        PoolGate gate = new PoolGate(new BackendPool(onlyA(1)), onlyA(1), 20, scheduler);
        Backend a = gate.acquire(RequestView.NONE, null);
        Request late = new Request(gate);
        assertThat(gate.acquire(RequestView.NONE, null)).isSameAs(PoolGate.FULL); // what the late request saw ...
        gate.release(a); // ... before this release found the queue empty

        assertThat(gate.enqueue(late, false)).isTrue();

        assertThat(late.servedPromptly()).isSameAs(a);
        assertThat(gate.pending()).isZero();
    }

    @Test
    void aBackendWithRoomButNotEligibleWakesNobody() throws Exception {
        PoolConfig config =
                pool(4, LONG_QUEUE, new BackendConfig("a", A_URL, 1, 1), new BackendConfig("b", B_URL, 1, 1));
        BackendPool pool = new BackendPool(config);
        PoolGate gate = new PoolGate(pool, config, 20, scheduler);
        Backend b = pool.backend("b").orElseThrow();
        b.disable();
        Backend a = gate.acquire(RequestView.NONE, null);
        assertThat(a.name()).isEqualTo("a");

        Request waiting = new Request(gate).queued();

        assertThat(waiting.wakeUps).as("b has room but may not take requests").hasValue(0);
        gate.release(a);
        assertThat(waiting.servedPromptly()).isSameAs(a);
    }

    @Test
    void theQueueTimeoutAndMaxPendingStillHoldAcrossGenerations() throws Exception {
        PoolConfig first = pool(2, LONG_QUEUE, new BackendConfig("a", A_URL, 1, 1));
        BackendPool oldPool = new BackendPool(first);
        PoolGate oldGate = new PoolGate(oldPool, first, 20, scheduler);
        oldGate.acquire(RequestView.NONE, null);
        Request oldWaiter = new Request(oldGate).queued();
        PoolConfig reloaded = pool(2, Duration.ofMillis(200), new BackendConfig("a", A_URL, 1, 1));
        PoolGate newGate =
                new PoolGate(new BackendPool(reloaded, HealthListener.NONE, oldPool), reloaded, 20, scheduler, oldGate);

        // max-pending counts the waiters of both generations, as max-connections counts their connections.
        Request newWaiter = new Request(newGate).queued();
        assertThat(newGate.pending()).isEqualTo(2);
        assertThat(new Request(newGate).admit(false)).as("the queue is full").isFalse();

        // Each waiter keeps the queue timeout of the gate it queued on.
        long start = System.nanoTime();
        assertThatThrownBy(() -> newWaiter.served.get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(TimeoutException.class);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(5_000);
        assertThat(oldWaiter.served).isNotDone();
        assertThat(newGate.pending()).isEqualTo(1);
    }
}
