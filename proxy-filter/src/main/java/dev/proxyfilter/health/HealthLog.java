package dev.proxyfilter.health;

import dev.proxyfilter.balance.Backend;
import dev.proxyfilter.balance.BackendState;
import dev.proxyfilter.balance.HealthListener;
import dev.proxyfilter.balance.PoolMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs every change of health once: a backend leaving service (DOWN, EJECTED) or a pool panicking or
 * falling back to its backups at WARN, everything else at INFO, e.g.
 * {@code pool web backend b: UP -> DOWN after 3 failed checks (last: connect refused)}.
 */
public final class HealthLog implements HealthListener {
    public static final HealthLog INSTANCE = new HealthLog();
    private static final Logger LOG = LoggerFactory.getLogger(HealthLog.class);

    private HealthLog() {}

    @Override
    public void backendChanged(Backend backend, BackendState from, BackendState to, String reason) {
        if (to == BackendState.DOWN || to == BackendState.EJECTED) {
            LOG.warn("pool {} backend {}: {} -> {} {}", backend.pool(), backend.name(), from, to, reason);
        } else {
            LOG.info("pool {} backend {}: {} -> {} {}", backend.pool(), backend.name(), from, to, reason);
        }
    }

    @Override
    public void poolModeChanged(String pool, PoolMode from, PoolMode to, String reason) {
        if (to == PoolMode.NORMAL) {
            LOG.info("pool {}: {} -> {} ({})", pool, from, to, reason);
        } else {
            LOG.warn("pool {}: {} -> {} ({})", pool, from, to, reason);
        }
    }
}
