package dev.proxyfilter.cache;

import java.util.Objects;

/**
 * The result of {@link HttpCache#lookup}: the decision, the stored response it is about, where that lives,
 * and the {@code Cache-Status} member so far.
 *
 * @param request     the request looked up
 * @param primaryKey  its primary key, {@code null} for methods not served from the cache ({@link CacheAction#PASS});
 *                    the key to {@linkplain Coalescer#join coalesce} on
 * @param entryKey    the key the selected stored response lives under (primary or variant key), or would
 *                    live under for a {@code vary-miss}; {@code null} otherwise
 * @param stored      the stored response the decision is about; {@code null} for {@link CacheAction#PASS},
 *                    {@link CacheAction#MISS} and {@link CacheAction#GATEWAY_TIMEOUT}, except that a stored piece
 *                    of partial content that does not cover the request is given with
 *                    {@link CacheAction#COMPLETE} (and {@code GATEWAY_TIMEOUT} under {@code only-if-cached})
 * @param decision    what to do and why
 * @param cacheStatus {@code hit; ttl=N} or {@code fwd=REASON}; the pipeline adds {@code fwd-status},
 *                    {@code stored} or {@code collapsed} as the exchange goes on
 */
public record CacheLookup(
        CacheRequest request,
        String primaryKey,
        String entryKey,
        StoredResponse stored,
        CacheDecision decision,
        CacheStatus cacheStatus) {
    public CacheLookup {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(decision, "decision");
        Objects.requireNonNull(cacheStatus, "cacheStatus");
    }

    /** Shorthand for {@code decision().action()}. */
    public CacheAction action() {
        return decision.action();
    }
}
