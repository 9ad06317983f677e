package dev.proxyfilter.cache;

import java.util.Objects;

/**
 * The outcome of {@link CachePolicy#decide}: what to do, why the backend is contacted (for
 * {@code Cache-Status}), and the stored response's age and remaining freshness.
 *
 * @param action     what the pipeline does
 * @param forward    why the request goes to the backend ({@code fwd} of RFC 9211), or {@code null} when it
 *                   is answered from the cache alone
 * @param ageMillis  the stored response's current age (RFC 9111 §4.2.3), 0 without one
 * @param ttlMillis  freshness lifetime minus current age: negative once stale, 0 without a stored response
 */
public record CacheDecision(CacheAction action, CacheStatus.Forward forward, long ageMillis, long ttlMillis) {
    public CacheDecision {
        Objects.requireNonNull(action, "action");
    }
}
