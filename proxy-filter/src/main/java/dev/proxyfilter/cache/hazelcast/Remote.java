package dev.proxyfilter.cache.hazelcast;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every call to the cluster, bounded by {@code cache.shared-timeout}: an asynchronous operation is awaited that
 * long, a blocking one runs on the shared cache's executor and is awaited (and interrupted) likewise. A
 * timeout or any failure becomes {@link Unavailable}, which callers turn into a miss, a skipped write or a
 * claim they do without. The first failure after a success is logged once as a warning, the recovery once.
 */
final class Remote {
    private static final Logger LOG = LoggerFactory.getLogger(Remote.class);

    private final long timeoutMillis;
    private final long adminTimeoutMillis;
    private final ExecutorService executor;
    private final AtomicBoolean failing = new AtomicBoolean();
    final LongAdder timeouts = new LongAdder();
    final LongAdder failures = new LongAdder();

    Remote(Duration timeout, ExecutorService executor) {
        this.timeoutMillis = timeout.toMillis();
        // Purges scan the map: an operator's request, allowed far longer than a lookup.
        this.adminTimeoutMillis = Math.max(5_000, 10 * timeoutMillis);
        this.executor = executor;
    }

    /** The cluster did not answer in time, or failed; the message says what was tried. */
    static final class Unavailable extends Exception {
        private static final long serialVersionUID = 1L;

        Unavailable(String what, Throwable cause) {
            super(what, cause, false, false);
        }
    }

    /** Awaits an asynchronous operation; {@code start} may itself throw (a stopped instance does). */
    <T> T await(String what, Supplier<? extends CompletionStage<T>> start) throws Unavailable {
        return await(what, start, timeoutMillis);
    }

    <T> T await(String what, Supplier<? extends CompletionStage<T>> start, long millis) throws Unavailable {
        try {
            T result = start.get().toCompletableFuture().get(millis, TimeUnit.MILLISECONDS);
            succeeded();
            return result;
        } catch (TimeoutException e) {
            throw failed(what, e, true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failed(what, e, false);
        } catch (ExecutionException e) {
            throw failed(what, e.getCause(), false);
        } catch (RuntimeException e) {
            throw failed(what, e, false);
        }
    }

    /** Runs a blocking operation on the executor, waiting for it up to the shared tier's timeout. */
    <T> T call(String what, Callable<T> operation) throws Unavailable {
        return call(what, operation, timeoutMillis);
    }

    /** As {@link #call(String, Callable)}, with the longer timeout of administrative operations. */
    <T> T callAdmin(String what, Callable<T> operation) throws Unavailable {
        return call(what, operation, adminTimeoutMillis);
    }

    long adminTimeoutMillis() {
        return adminTimeoutMillis;
    }

    private <T> T call(String what, Callable<T> operation, long millis) throws Unavailable {
        Future<T> future;
        try {
            future = executor.submit(operation);
        } catch (RejectedExecutionException e) {
            throw failed(what, e, false);
        }
        try {
            T result = future.get(millis, TimeUnit.MILLISECONDS);
            succeeded();
            return result;
        } catch (TimeoutException e) {
            future.cancel(true);
            throw failed(what, e, true);
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw failed(what, e, false);
        } catch (ExecutionException e) {
            throw failed(what, e.getCause(), false);
        }
    }

    private void succeeded() {
        if (failing.compareAndSet(true, false)) {
            LOG.info("shared cache: the cluster answers again");
        }
    }

    private Unavailable failed(String what, Throwable cause, boolean timeout) {
        (timeout ? timeouts : failures).increment();
        if (failing.compareAndSet(false, true)) {
            LOG.warn(
                    "shared cache: {} {}; shared lookups count as misses until the cluster answers again",
                    what,
                    timeout ? "timed out after " + timeoutMillis + " ms" : "failed: " + cause);
        }
        return new Unavailable(what, cause);
    }
}
