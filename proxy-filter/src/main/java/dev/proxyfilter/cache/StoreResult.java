package dev.proxyfilter.cache;

import java.util.Objects;

/**
 * The result of {@link HttpCache#store}.
 *
 * @param storability {@link Storability#STORABLE} when stored, else why not
 * @param stored      the stored response, to {@linkplain Coalescer.Leader#complete complete} the coalesced
 *                    followers with; {@code null} when nothing was stored
 */
public record StoreResult(Storability storability, StoredResponse stored) {
    public StoreResult {
        Objects.requireNonNull(storability, "storability");
    }

    /** Whether the response was stored. */
    public boolean isStored() {
        return stored != null;
    }
}
