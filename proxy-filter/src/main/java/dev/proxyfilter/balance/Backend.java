package dev.proxyfilter.balance;

import dev.proxyfilter.config.BackendConfig;
import java.net.URI;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend at run time: its fixed address plus mutable state. (Interim; the balance branch replaces it.)
 */
public final class Backend {
    private final String pool;
    private final BackendConfig config;
    private final String scheme;
    private final String host;
    private final int port;
    private final AtomicInteger inFlight = new AtomicInteger();

    public Backend(String pool, BackendConfig config) {
        this.pool = pool;
        this.config = config;
        URI url = config.url();
        this.scheme = url.getScheme().toLowerCase(java.util.Locale.ROOT);
        this.host = url.getHost();
        this.port = url.getPort() >= 0 ? url.getPort() : ("https".equals(scheme) ? 443 : 80);
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

    public String scheme() {
        return scheme;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public int inFlight() {
        return inFlight.get();
    }

    public void onRequestStart() {
        inFlight.incrementAndGet();
    }

    public void onRequestEnd() {
        inFlight.decrementAndGet();
    }
}
