package dev.proxyfilter.health;

import dev.proxyfilter.balance.Backend;
import dev.proxyfilter.balance.BackendPool;
import dev.proxyfilter.config.ActiveCheckConfig;
import java.net.ConnectException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Active health checks: every {@code interval}, {@code GET <backend url><path>} to each backend of each pool
 * with {@code pool.NAME.health.path}, through the upstream {@link HttpClient} of the pool's routes, so
 * that checks travel the way requests do. The result goes to
 * {@link dev.proxyfilter.balance.BackendHealth#onProbeResult}, which applies rise and fall.
 *
 * <p>No thread waits: a check is a timer task on the engine's scheduler that sends asynchronously, and its
 * completion schedules the next one, {@code interval} after the start of this one (at once if it took
 * longer), so that a backend never has two checks in flight. The first check of each backend comes after a
 * random part of the interval, so that the backends of a pool are not all checked at the same moment.
 * The Host header is the backend's own, as Jetty derives it from the backend's address.
 */
public final class HealthChecker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HealthChecker.class);
    public static final String USER_AGENT = "proxy-filter-health-check";

    private final Scheduler scheduler;
    private final List<Check> checks = new ArrayList<>();
    private volatile boolean running;

    /**
     * @param pools     every pool; those without {@code health.path} are not checked
     * @param clientFor the upstream client a pool's checks use
     */
    public HealthChecker(
            Map<String, BackendPool> pools, Function<BackendPool, HttpClient> clientFor, Scheduler scheduler) {
        this.scheduler = scheduler;
        for (BackendPool pool : pools.values()) {
            ActiveCheckConfig config = pool.healthConfig().check();
            if (config == null) {
                continue;
            }
            HttpClient client = clientFor.apply(pool);
            for (Backend backend : pool.backends()) {
                checks.add(new Check(backend, config, client));
            }
        }
    }

    /** Whether any pool has checks. */
    public boolean hasChecks() {
        return !checks.isEmpty();
    }

    public void start() {
        running = true;
        for (Check check : checks) {
            check.schedule(ThreadLocalRandom.current().nextLong(Math.max(1, check.intervalNanos)));
        }
    }

    /** Stops checking: no new check starts, and those in flight are aborted and not reported. */
    @Override
    public void close() {
        running = false;
        for (Check check : checks) {
            check.cancel();
        }
    }

    /** The checks of one backend. */
    private final class Check implements Response.Listener {
        private final Backend backend;
        private final ActiveCheckConfig config;
        private final HttpClient client;
        private final long intervalNanos;
        private final long timeoutMillis;
        private volatile Scheduler.Task task;
        private volatile Request request;
        private long startedNanos;

        Check(Backend backend, ActiveCheckConfig config, HttpClient client) {
            this.backend = backend;
            this.config = config;
            this.client = client;
            this.intervalNanos = saturatedNanos(config.interval().toMillis());
            this.timeoutMillis = config.timeout().toMillis();
        }

        void schedule(long delayNanos) {
            if (!running) {
                return;
            }
            try {
                task = scheduler.schedule(this::send, delayNanos, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                LOG.debug("health check of {}/{} not scheduled: stopping", backend.pool(), backend.name());
            }
        }

        void cancel() {
            Scheduler.Task scheduled = task;
            if (scheduled != null) {
                scheduled.cancel();
            }
            Request inFlight = request;
            if (inFlight != null) {
                inFlight.abort(new IllegalStateException("health checks stopped"));
            }
        }

        private void send() {
            if (!running) {
                return;
            }
            startedNanos = System.nanoTime();
            Request check = client.newRequest(backend.host(), backend.port())
                    .scheme(backend.scheme())
                    .method(HttpMethod.GET)
                    .path(config.path())
                    .timeout(timeoutMillis, TimeUnit.MILLISECONDS)
                    .headers(headers -> headers.put(HttpHeader.USER_AGENT, USER_AGENT));
            request = check;
            check.send(this);
        }

        @Override
        public void onComplete(Result result) {
            request = null;
            if (!running) {
                return;
            }
            try {
                if (result.isFailed()) {
                    backend.health().onProbeResult(false, describe(result.getFailure()));
                } else {
                    int status = result.getResponse().getStatus();
                    boolean ok = config.expectedStatus().contains(status);
                    backend.health()
                            .onProbeResult(
                                    ok, "status " + status + (ok ? "" : " (expected " + config.expectedStatus() + ")"));
                }
            } finally {
                schedule(Math.max(0, intervalNanos - (System.nanoTime() - startedNanos)));
            }
        }

        private String describe(Throwable failure) {
            if (failure instanceof ConnectException) {
                String message = String.valueOf(failure.getMessage());
                return message.toLowerCase(java.util.Locale.ROOT).contains("refused")
                        ? "connect refused"
                        : "connect failed: " + message;
            }
            if (failure instanceof TimeoutException) {
                return "timeout after " + timeoutMillis + "ms";
            }
            return failure.getClass().getSimpleName()
                    + (failure.getMessage() == null ? "" : ": " + failure.getMessage());
        }
    }

    private static long saturatedNanos(long millis) {
        return millis > Long.MAX_VALUE / 1_000_000 ? Long.MAX_VALUE : millis * 1_000_000;
    }
}
