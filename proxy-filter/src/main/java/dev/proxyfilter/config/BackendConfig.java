package dev.proxyfilter.config;

import java.net.URI;
import java.util.Objects;

/**
 * One backend of a pool: {@code pool.POOL.backend.NAME.url}, {@code .weight}, {@code .max-connections} and
 * {@code .backup}.
 *
 * @param name   the backend's name inside its pool; also what a client may see (never the address)
 * @param url    absolute {@code http} or {@code https} URL with no path, query or fragment beyond "/"
 * @param weight relative share of traffic; 0 takes no new traffic
 * @param maxConnections most requests in flight to this backend at once, 0 for no limit; past it a
 *               request goes to another backend with room, else waits in the pool's queue
 * @param backup a backup takes traffic only while the pool's primary (non-backup) backends cannot, see
 *               {@link HealthConfig}
 */
public record BackendConfig(String name, URI url, int weight, int maxConnections, boolean backup) {
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

    /** A primary backend without a connection limit. */
    public BackendConfig(String name, URI url, int weight) {
        this(name, url, weight, 0, false);
    }

    /** A primary backend. */
    public BackendConfig(String name, URI url, int weight, int maxConnections) {
        this(name, url, weight, maxConnections, false);
    }

    /** A backend without a connection limit, a backup or not. */
    public BackendConfig(String name, URI url, int weight, boolean backup) {
        this(name, url, weight, 0, backup);
    }
}
