package dev.proxyfilter.config;

import java.net.URI;
import java.util.Objects;

/**
 * One backend of a pool: {@code pool.POOL.backend.NAME.url} and {@code .weight}.
 *
 * @param name   the backend's name inside its pool; also what a client may see (never the address)
 * @param url    absolute {@code http} or {@code https} URL with no path, query or fragment beyond "/"
 * @param weight relative share of traffic; 0 takes no new traffic
 * @param maxConnections most requests in flight to this backend at once, 0 for no limit; past it a
 *               request goes to another backend with room, else waits in the pool's queue
 */
public record BackendConfig(String name, URI url, int weight, int maxConnections) {
    /** Default weight when {@code .weight} is not set. */
    public static final int DEFAULT_WEIGHT = 1;

    public BackendConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(url, "url");
        if (weight < 0) {
            throw new IllegalArgumentException("weight: " + weight + " (expected: >= 0)");
        }
        if (maxConnections < 0) {
            throw new IllegalArgumentException("maxConnections: " + maxConnections + " (expected: >= 0)");
        }
    }

    /** A backend without a connection limit. */
    public BackendConfig(String name, URI url, int weight) {
        this(name, url, weight, 0);
    }
}
