package dev.proxyfilter.config;

import java.net.URI;
import java.util.Objects;

/**
 * One backend of a pool: {@code pool.POOL.backend.NAME.url}, {@code .weight} and {@code .backup}.
 *
 * @param name   the backend's name inside its pool; also what a client may see (never the address)
 * @param url    absolute {@code http} or {@code https} URL with no path, query or fragment beyond "/"
 * @param weight relative share of traffic; 0 takes no new traffic
 * @param backup a backup takes traffic only while the pool's primary (non-backup) backends cannot, see
 *               {@link HealthConfig}
 */
public record BackendConfig(String name, URI url, int weight, boolean backup) {
    /** Default weight when {@code .weight} is not set. */
    public static final int DEFAULT_WEIGHT = 1;

    public BackendConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(url, "url");
        if (weight < 0) {
            throw new IllegalArgumentException("weight: " + weight + " (expected: >= 0)");
        }
    }

    /** A primary (not backup) backend. */
    public BackendConfig(String name, URI url, int weight) {
        this(name, url, weight, false);
    }
}
