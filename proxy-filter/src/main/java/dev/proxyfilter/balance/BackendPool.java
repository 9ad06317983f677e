package dev.proxyfilter.balance;

import dev.proxyfilter.config.PoolConfig;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A named set of backends and the strategy that picks among them. (Interim round-robin; the balance
 * branch replaces it.)
 */
public final class BackendPool {
    private final String name;
    private final List<Backend> backends;
    private final AtomicInteger next = new AtomicInteger();

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

    public Backend select(Backend exclude) {
        int n = backends.size();
        int start = Math.floorMod(next.getAndIncrement(), n);
        Backend fallback = null;
        for (int i = 0; i < n; i++) {
            Backend b = backends.get((start + i) % n);
            if (b.weight() == 0) {
                continue;
            }
            if (b == exclude) {
                fallback = b;
                continue;
            }
            return b;
        }
        return fallback;
    }
}
