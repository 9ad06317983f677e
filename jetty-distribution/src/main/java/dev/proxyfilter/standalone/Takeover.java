package dev.proxyfilter.standalone;

import dev.proxyfilter.admin.AdminOperations;
import dev.proxyfilter.forward.ProxyEngine;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The new process's side of {@code bin/proxy-filter --takeover}: it already listens next to the old one
 * ({@code server.reuse-port}); once it is ready, as {@code /readyz} would say, it writes the pid file and
 * stops the old process with SIGTERM, which hands its traffic over and drains ({@link RunningProxy#stop()}).
 *
 * <p>Readiness is read in this process rather than through {@code /readyz}: during a takeover the admin
 * port is shared too, so a request to it may reach either process.
 */
final class Takeover {
    private static final Logger LOG = LoggerFactory.getLogger(Takeover.class);

    /** How long the new process may take to become ready before it gives up and the old one stays. */
    static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

    private Takeover() {}

    /**
     * Waits until {@code proxy} is ready, then makes it the one the pid file names and stops
     * {@code previous}; logs when that has exited.
     *
     * @throws StartupException when not ready within {@link #READY_TIMEOUT}: {@code previous} keeps serving
     */
    static void complete(RunningProxy proxy, PidFile pidFile, ProcessHandle previous) {
        long start = System.nanoTime();
        LOG.info("takeover: serving next to pid {}; it is stopped once this process is ready", previous.pid());
        List<String> missing = notReady(proxy.engine());
        while (!missing.isEmpty()) {
            if (System.nanoTime() - start > READY_TIMEOUT.toNanos()) {
                throw StartupException.failure(
                        "--takeover: not ready within " + READY_TIMEOUT.toSeconds() + " s (pools without a backend"
                                + " that can take traffic: " + missing + "); pid " + previous.pid()
                                + " keeps serving",
                        null);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw StartupException.failure("--takeover: interrupted while waiting to be ready", e);
            }
            missing = notReady(proxy.engine());
        }
        pidFile.writeCurrent();
        long ready = System.nanoTime();
        if (!previous.destroy()) { // SIGTERM
            LOG.warn(
                    "takeover: could not signal pid {} (not ours to stop?): both processes serve until it stops",
                    previous.pid());
            return;
        }
        LOG.info(
                "takeover: ready after {} ms; pid {} was sent SIGTERM: it hands over and drains",
                TimeUnit.NANOSECONDS.toMillis(ready - start),
                previous.pid());
        previous.onExit()
                .thenRun(() -> LOG.info(
                        "takeover complete: pid {} exited {} ms after SIGTERM",
                        previous.pid(),
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - ready)));
    }

    /** The pools without a backend that can take traffic, or a draining engine: what {@code /readyz} checks. */
    static List<String> notReady(ProxyEngine engine) {
        if (engine.draining()) {
            return List.of("(stopping)");
        }
        return new AdminOperations(engine).poolsWithoutBackend();
    }
}
