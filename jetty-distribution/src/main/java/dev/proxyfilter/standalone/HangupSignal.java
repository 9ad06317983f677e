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
 * with {@code -Xrs}, SIGHUP keeps the default, and the admin API and the file watch still reload.
 */
final class HangupSignal {
    private static final Logger LOG = LoggerFactory.getLogger(HangupSignal.class);

    private HangupSignal() {
    }

    static void reloadOnHup(ProxyEngine engine) {
        try {
            // The handler runs on the JVM's signal thread, one signal at a time: reloads cannot overlap.
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal -> {
                LOG.info("SIGHUP: reloading the configuration");
                engine.reloadFromSource("signal");
            });
        } catch (IllegalArgumentException | LinkageError e) {
            LOG.debug("SIGHUP keeps the JVM's default handling (exit)", e);
        }
    }
}
