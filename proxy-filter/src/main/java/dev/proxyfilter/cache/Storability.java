package dev.proxyfilter.cache;

/**
 * Whether a response may be stored (RFC 9111 §3), and if not, the first reason found. The
 * {@link #detail()} text suits the {@code detail} parameter of {@code Cache-Status}.
 */
public enum Storability {
    /** Store it. */
    STORABLE("stored"),
    /** Only {@code GET} responses are stored. */
    METHOD("method"),
    /** The request said {@code no-store} (§5.2.1.5). */
    REQUEST_NO_STORE("request-no-store"),
    /** Not a final status this cache understands, or one it does not store (206, 304). */
    STATUS("status"),
    /** The response said {@code no-store} (§5.2.2.5). */
    NO_STORE("no-store"),
    /** The response said {@code private}: not for a shared cache (§5.2.2.7). */
    PRIVATE("private"),
    /** The request carried {@code Authorization} and the response did not allow sharing it (§3.5). */
    AUTHORIZATION("authorization"),
    /** The response sets a cookie and {@code cache.store-set-cookie=false} refuses such responses. */
    SET_COOKIE("set-cookie"),
    /** {@code Vary: *} can never be matched (§4.1). */
    VARY_STAR("vary-star"),
    /** No explicit freshness and a status that is not heuristically cacheable (§3, §4.2.2). */
    NOT_CACHEABLE("not-cacheable"),
    /** Stale on arrival, without a validator or a stale-serving extension: nothing could ever use it. */
    USELESS("useless"),
    /** The body is larger than the per-entry limit. */
    TOO_LARGE("too-large");

    private final String detail;

    Storability(String detail) {
        this.detail = detail;
    }

    public boolean storable() {
        return this == STORABLE;
    }

    /** A short token for logs and {@code Cache-Status; detail}. */
    public String detail() {
        return detail;
    }
}
