package dev.proxyfilter.balance;

import dev.proxyfilter.config.BackendConfig;
import java.net.URI;

/**
 * A backend at run time: its fixed address plus mutable state. TODO.
 */
public final class Backend {
    private final String pool;
    private final BackendConfig config;

    public Backend(String pool, BackendConfig config) {
        this.pool = pool;
        this.config = config;
    }

    public String pool() {
        return pool;
    }

    public String name() {
        return config.name();
    }

    public URI url() {
        return config.url();
    }

    public int weight() {
        return config.weight();
    }
}
