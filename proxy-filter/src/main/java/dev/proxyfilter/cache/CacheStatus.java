package dev.proxyfilter.cache;

import java.util.Objects;

/**
 * One member of the {@code Cache-Status} response field (RFC 9211): this cache's name and what it did,
 * for example {@code proxy-filter; hit; ttl=376} or {@code proxy-filter; fwd=uri-miss; fwd-status=200; stored}.
 *
 * <p>Immutable; each {@code with...} returns a copy. The pipeline adds {@link #toString()} as the last
 * {@code Cache-Status} member, after any the backend sent (the member nearest the client comes last).
 */
public final class CacheStatus {
    /** The field name. */
    public static final String HEADER = "Cache-Status";

    /** Why the request went to the backend: the {@code fwd} parameter of RFC 9211 §2.2. */
    public enum Forward {
        /** The cache was configured not to handle this request. */
        BYPASS("bypass"),
        /** The request method's semantics require forwarding. */
        METHOD("method"),
        /** Nothing was stored for the URI. */
        URI_MISS("uri-miss"),
        /** Something was stored for the URI, but not for these {@code Vary} header values. */
        VARY_MISS("vary-miss"),
        /** Nothing usable was stored, for a reason not given more precisely. */
        MISS("miss"),
        /** A fresh response was stored, but the request's directives did not allow using it. */
        REQUEST("request"),
        /** The stored response was stale, or had to be validated. */
        STALE("stale"),
        /** Only part of the response was stored. */
        PARTIAL("partial");

        private final String token;

        Forward(String token) {
            this.token = token;
        }

        /** The parameter value, e.g. {@code uri-miss}. */
        public String token() {
            return token;
        }
    }

    private final String cache;
    /** {@code cache} as it is serialised, computed once by the factories and kept by every copy. */
    private final String cacheItem;

    private final boolean hit;
    private final Forward forward;
    private final int forwardStatus;
    private final Long ttlSeconds;
    private final boolean stored;
    private final boolean collapsed;
    private final String key;
    private final String detail;

    // Memos, for the statuses a cache makes once and derives from on every request (HttpCache's per-reason
    // ones): the last status derived with a forward status and with a detail, and the serialised member.
    // Racy but safe: each is immutable (final fields) and a race only makes one more.
    private CacheStatus lastWithForwardStatus;
    private CacheStatus lastWithDetail;
    private String text;

    private CacheStatus(
            String cache,
            String cacheItem,
            boolean hit,
            Forward forward,
            int forwardStatus,
            Long ttlSeconds,
            boolean stored,
            boolean collapsed,
            String key,
            String detail) {
        this.cache = cache;
        this.cacheItem = cacheItem;
        this.hit = hit;
        this.forward = forward;
        this.forwardStatus = forwardStatus;
        this.ttlSeconds = ttlSeconds;
        this.stored = stored;
        this.collapsed = collapsed;
        this.key = key;
        this.detail = detail;
    }

    /** Answered from the cache without contacting the backend. */
    public static CacheStatus hit(String cache) {
        return new CacheStatus(checkName(cache), item(cache), true, null, 0, null, false, false, null, null);
    }

    /** Forwarded to the backend for {@code reason}. */
    public static CacheStatus forward(String cache, Forward reason) {
        Objects.requireNonNull(reason, "reason");
        return new CacheStatus(checkName(cache), item(cache), false, reason, 0, null, false, false, null, null);
    }

    /** The status the backend answered with ({@code fwd-status}). */
    public CacheStatus withForwardStatus(int status) {
        CacheStatus last = lastWithForwardStatus;
        if (last != null && last.forwardStatus == status) {
            return last;
        }
        last = new CacheStatus(cache, cacheItem, hit, forward, status, ttlSeconds, stored, collapsed, key, detail);
        lastWithForwardStatus = last;
        return last;
    }

    /** The response's remaining freshness ({@code ttl}), negative when stale. */
    public CacheStatus withTtlSeconds(long ttl) {
        return new CacheStatus(cache, cacheItem, hit, forward, forwardStatus, ttl, stored, collapsed, key, detail);
    }

    /** The remaining freshness from milliseconds, rounded towards minus infinity as ages are. */
    public CacheStatus withTtlMillis(long ttlMillis) {
        return withTtlSeconds(Math.floorDiv(ttlMillis, 1000));
    }

    /** The backend's response was stored ({@code stored}). */
    public CacheStatus withStored() {
        return new CacheStatus(cache, cacheItem, hit, forward, forwardStatus, ttlSeconds, true, collapsed, key, detail);
    }

    /** The request was collapsed with another one ({@code collapsed}). */
    public CacheStatus withCollapsed() {
        return new CacheStatus(cache, cacheItem, hit, forward, forwardStatus, ttlSeconds, stored, true, key, detail);
    }

    /** The cache key, for debugging ({@code key}); do not send it where keys are private. */
    public CacheStatus withKey(String cacheKey) {
        return new CacheStatus(
                cache, cacheItem, hit, forward, forwardStatus, ttlSeconds, stored, collapsed, cacheKey, detail);
    }

    /** Implementation-specific detail ({@code detail}), e.g. why a response was not stored. */
    public CacheStatus withDetail(String text) {
        CacheStatus last = lastWithDetail;
        if (last != null && Objects.equals(last.detail, text)) {
            return last;
        }
        last = new CacheStatus(cache, cacheItem, hit, forward, forwardStatus, ttlSeconds, stored, collapsed, key, text);
        lastWithDetail = last;
        return last;
    }

    public boolean isHit() {
        return hit;
    }

    /** Why the request was forwarded, {@code null} for a hit. */
    public Forward forward() {
        return forward;
    }

    /** The field member, serialised as an RFC 8941 item with parameters. */
    @Override
    public String toString() {
        String serialised = text;
        if (serialised == null) {
            serialised = serialise();
            text = serialised;
        }
        return serialised;
    }

    private String serialise() {
        StringBuilder out = new StringBuilder(cacheItem.length() + 48);
        out.append(cacheItem);
        if (hit) {
            out.append("; hit");
        }
        if (forward != null) {
            out.append("; fwd=").append(forward.token());
        }
        if (forwardStatus > 0) {
            out.append("; fwd-status=").append(forwardStatus);
        }
        if (ttlSeconds != null) {
            out.append("; ttl=").append(ttlSeconds.longValue());
        }
        if (stored) {
            out.append("; stored");
        }
        if (collapsed) {
            out.append("; collapsed");
        }
        if (key != null) {
            out.append("; key=");
            appendString(out, key);
        }
        if (detail != null) {
            out.append("; detail=");
            appendTokenOrString(out, detail);
        }
        return out.toString();
    }

    private static String item(String cache) {
        StringBuilder out = new StringBuilder(cache.length() + 2);
        appendTokenOrString(out, cache);
        return out.toString();
    }

    private static String checkName(String cache) {
        Objects.requireNonNull(cache, "cache");
        if (cache.isEmpty()) {
            throw new IllegalArgumentException("cache name: empty (expected: a token or a string)");
        }
        return cache;
    }

    /** An sf-token when the text is one (RFC 8941 §3.3.4), else an sf-string. */
    private static void appendTokenOrString(StringBuilder out, String text) {
        if (isToken(text)) {
            out.append(text);
        } else {
            appendString(out, text);
        }
    }

    private static boolean isToken(String text) {
        char first = text.charAt(0);
        if (!(first == '*' || (first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z'))) {
            return false;
        }
        for (int i = 1; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean tchar = (c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || "!#$%&'*+-.^_`|~:/".indexOf(c) >= 0;
            if (!tchar) {
                return false;
            }
        }
        return true;
    }

    /** An sf-string: printable ASCII, with '"' and '\' escaped; anything else becomes '?'. */
    private static void appendString(StringBuilder out, String text) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20 || c > 0x7e) {
                out.append('?');
            } else {
                out.append(c);
            }
        }
        out.append('"');
    }
}
