package dev.proxyfilter.standalone;

import dev.proxyfilter.forward.ProxyEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes SIGHUP reload the configuration, as nginx and HAProxy do: the engine reads its file again and
 * applies it, or logs why not and keeps the old one ({@link ProxyEngine#reloadFromSource}). The JVM's
 * default for SIGHUP is to exit, which a reload signal must never do.
 *
 * <p>Like {@link TermSignal}, it uses {@code sun.misc.Signal}; where that is unavailable, or the JVM runs
 * with {@code -Xrs}, SIGHUP keeps the default, and the admin API and the file watch still reload. A process
 * started with SIGHUP ignored ({@code nohup}) keeps ignoring it: the JVM does not let a handler replace an
 * ignored shutdown signal; a warning says so at start.
 */
final class HangupSignal {
    private static final Logger LOG = LoggerFactory.getLogger(HangupSignal.class);

    private HangupSignal() {}

    private static final java.util.concurrent.atomic.AtomicReference<ProxyEngine> ENGINE =
            new java.util.concurrent.atomic.AtomicReference<>();
    private static final java.util.concurrent.atomic.AtomicBoolean PENDING =
            new java.util.concurrent.atomic.AtomicBoolean();
    private static final java.util.concurrent.atomic.AtomicBoolean IGNORED =
            new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * Installs the handler before the proxy starts listening: a SIGHUP that came between the listener
     * opening and a later install would get the JVM's default, and stop the proxy. A SIGHUP before
     * {@link #started} is kept, and applied once the engine runs.
     */
    static void install() {
        try {
            // The handler runs on the JVM's signal thread, one signal at a time: reloads cannot overlap.
            sun.misc.SignalHandler before = sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal -> {
                ProxyEngine running = ENGINE.get();
                if (running == null) {
                    PENDING.set(true);
                    LOG.info("SIGHUP during start-up: the configuration is read again once the proxy runs");
                    return;
                }
                LOG.info("SIGHUP: reloading the configuration");
                running.reloadFromSource("signal");
            });
            // Started with SIGHUP ignored (nohup): the JVM keeps it ignored and never calls the handler.
            // Said once the proxy runs (started()): a start that fails prints only why it failed.
            IGNORED.set(before == sun.misc.SignalHandler.SIG_IGN);
        } catch (IllegalArgumentException | LinkageError e) {
            LOG.debug("SIGHUP keeps the JVM's default handling (exit)", e);
        }
    }

    /** The proxy runs: later SIGHUPs reload {@code engine}, and one that came during start-up does now. */
    static void started(ProxyEngine engine) {
        ENGINE.set(engine);
        if (IGNORED.get()) {
            LOG.warn("SIGHUP is ignored by this process (started under nohup?): it will not reload the "
                    + "configuration; use the admin API (POST /api/reload) or reload.watch=true");
        }
        if (PENDING.getAndSet(false)) {
            LOG.info("SIGHUP (during start-up): reloading the configuration");
            engine.reloadFromSource("signal");
        }
    }
}
