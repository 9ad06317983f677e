package dev.proxyfilter.standalone;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes SIGTERM a clean exit. By default the JVM runs the shutdown hooks on SIGTERM and then exits
 * with 143 (128 + 15), which service managers such as systemd report as a failure; the proxy treats
 * SIGTERM as the normal way to stop, so it exits 0 once the hooks (the graceful stop) have run.
 *
 * <p>This is the only use of {@code sun.misc.Signal} (module {@code jdk.unsupported}, kept for this
 * purpose by JEP 260). Where it is unavailable, or the JVM runs with {@code -Xrs}, the default stays.
 */
final class TermSignal {
    private static final Logger LOG = LoggerFactory.getLogger(TermSignal.class);

    private TermSignal() {}

    static void exitZeroOnTerm() {
        try {
            // System.exit runs the shutdown hooks, which stop the servers, then exits with 0.
            sun.misc.Signal.handle(new sun.misc.Signal("TERM"), signal -> System.exit(0));
        } catch (IllegalArgumentException | LinkageError e) {
            LOG.debug("SIGTERM keeps the JVM's default handling (exit status 143)", e);
        }
    }
}
