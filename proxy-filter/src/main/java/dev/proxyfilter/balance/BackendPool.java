package dev.proxyfilter.balance;

import dev.proxyfilter.config.PoolConfig;
import java.util.List;

/**
 * A named set of backends and the strategy that picks among them. TODO.
 */
public final class BackendPool {
    private final String name;
    private final List<Backend> backends;

    public BackendPool(PoolConfig config) {
        this.name = config.name();
        this.backends = config.backends().stream().map(b -> new Backend(config.name(), b)).toList();
    }

    public String name() {
        return name;
    }

    public List<Backend> backends() {
        return backends;
    }

    /**
     * Picks a backend for a new request, or {@code null} when none can take it.
     *
     * @param exclude a backend already tried for this request, avoided while another can take the
     *                request; may be null
     */
    public Backend select(Backend exclude) {
        throw new UnsupportedOperationException("TODO");
    }
}
