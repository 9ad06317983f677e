package dev.proxyfilter.cache;

/**
 * What the pipeline does with a request, as {@link CachePolicy#decide} and {@link HttpCache#lookup} decide.
 */
public enum CacheAction {
    /** The method is not served from the cache: forward; after an unsafe method's success, invalidate (§4.4). */
    PASS,
    /** A fresh stored response: answer from it. */
    HIT,
    /** A stale stored response that the request's {@code max-stale} accepts: answer from it. */
    STALE_HIT,
    /**
     * A stale stored response within its {@code stale-while-revalidate} window (RFC 5861 §3): answer from it
     * and revalidate it in the background.
     */
    STALE_WHILE_REVALIDATE,
    /**
     * A stored response that needs validation (stale, {@code no-cache}, or the request asks for a younger one):
     * send a conditional request built by {@link Conditionals#toValidationRequest}; a 304 freshens the stored
     * response, a full response replaces it, an error may be answered from it ({@code stale-if-error}).
     */
    VALIDATE,
    /** Nothing usable is stored: forward (coalescing identical misses), then store the response if storable. */
    MISS,
    /**
     * Part of the response is stored ({@link PartialContent}) but not the part the request asks for: forward
     * the request, its single range included, and combine the response with the stored part (RFC 9111 §3.4).
     */
    COMPLETE,
    /** {@code only-if-cached} and nothing usable is stored: answer 504 without contacting the backend (§5.2.1.7). */
    GATEWAY_TIMEOUT;

    /** Whether the client is answered from a stored response without waiting for the backend. */
    public boolean servesStored() {
        return this == HIT || this == STALE_HIT || this == STALE_WHILE_REVALIDATE;
    }
}
