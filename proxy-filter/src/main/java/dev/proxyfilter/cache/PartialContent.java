package dev.proxyfilter.cache;

import dev.proxyfilter.http.Header;
import java.util.ArrayList;
import java.util.List;

/**
 * Stored partial content (RFC 9111 §3.3, §3.4): a {@code 206} holds one contiguous piece of a representation
 * whose complete length is known, as its {@code Content-Range} says. A range request inside the piece is
 * answered from it; a new {@code 206} or {@code 200} with the same strong validator is combined with it
 * (§3.4) into a larger piece, or into the complete representation, which is then stored as a {@code 200}.
 *
 * <p>Only single-part {@code 206}s with a known complete length are stored ({@code bytes 0-99/1000}, not
 * {@code bytes 0-99/*} nor {@code multipart/byteranges}), and pieces that do not touch or overlap are not
 * combined: the newer one is kept. Pure functions.
 */
public final class PartialContent {
    private PartialContent() {}

    /**
     * What a {@code Content-Range} says: bytes {@code first..last} of {@code completeLength}.
     *
     * @param first          the first byte of the piece
     * @param last           the last byte of the piece, inclusive
     * @param completeLength the complete representation's length
     */
    public record Piece(long first, long last, long completeLength) {
        public long length() {
            return last - first + 1;
        }

        /** Whether the piece is the whole representation. */
        public boolean complete() {
            return first == 0 && last == completeLength - 1;
        }

        boolean covers(long from, long to) {
            return from >= first && to <= last;
        }
    }

    /**
     * A {@code Content-Range} of a single-part {@code 206}: {@code bytes first-last/complete} with
     * {@code first <= last < complete}; {@code null} for anything else (a {@code *} length included).
     */
    public static Piece parse(String contentRange) {
        if (contentRange == null) {
            return null;
        }
        String value = contentRange.trim();
        if (!value.regionMatches(true, 0, "bytes ", 0, 6)) {
            return null;
        }
        int dash = value.indexOf('-', 6);
        int slash = value.indexOf('/', 6);
        if (dash < 0 || slash < dash) {
            return null;
        }
        long first = digits(value, 6, dash);
        long last = digits(value, dash + 1, slash);
        long complete = digits(value, slash + 1, value.length());
        if (first < 0 || last < first || complete <= last) {
            return null;
        }
        return new Piece(first, last, complete);
    }

    /** The piece a stored response holds: the whole body of a 200, the {@code Content-Range} of a 206. */
    static Piece piece(StoredResponse stored) {
        if (stored.status() == 206) {
            return parse(stored.header("Content-Range"));
        }
        return new Piece(0, stored.bodyLength() - 1L, stored.bodyLength());
    }

    /**
     * Whether two responses have the same strong validator (RFC 9111 §3.4, RFC 9110 §8.8.1): equal strong
     * entity-tags, or, without entity-tags, equal {@code Last-Modified} dates at least a second before their
     * {@code Date} (RFC 9110 §8.8.2.2).
     */
    static boolean sameStrongValidator(StoredResponse a, StoredResponse b) {
        String etagA = a.derived().etag;
        String etagB = b.derived().etag;
        if (etagA != null || etagB != null) {
            return etagA != null && etagB != null && Conditionals.strongMatch(etagA, etagB);
        }
        StoredResponse.Derived da = a.derived();
        StoredResponse.Derived db = b.derived();
        return da.lastModifiedMillis != HttpDates.INVALID
                && da.lastModifiedMillis == db.lastModifiedMillis
                && da.dateMillis != HttpDates.INVALID
                && db.dateMillis != HttpDates.INVALID
                && da.dateMillis - da.lastModifiedMillis >= 1000
                && db.dateMillis - db.lastModifiedMillis >= 1000;
    }

    /**
     * The combination of a newly received response with a stored one (RFC 9111 §3.4): the new response's
     * header fields, and the union of both pieces, as a {@code 206} with its new {@code Content-Range} or, when
     * the union is the whole representation, as a {@code 200}. {@code null} when they cannot be combined:
     * another strong validator, another complete length, or pieces that neither touch nor overlap.
     */
    static StoredResponse combine(StoredResponse stored, StoredResponse received) {
        Piece old = piece(stored);
        Piece fresh = piece(received);
        if (old == null
                || fresh == null
                || old.completeLength() != fresh.completeLength()
                || !sameStrongValidator(stored, received)
                || fresh.first() > old.last() + 1
                || old.first() > fresh.last() + 1) {
            return null;
        }
        long first = Math.min(old.first(), fresh.first());
        long last = Math.max(old.last(), fresh.last());
        long length = last - first + 1;
        if (length > Integer.MAX_VALUE - 64) {
            return null;
        }
        byte[] body = new byte[(int) length];
        System.arraycopy(stored.bodyArray(), 0, body, (int) (old.first() - first), (int) old.length());
        System.arraycopy(received.bodyArray(), 0, body, (int) (fresh.first() - first), (int) fresh.length());
        Piece union = new Piece(first, last, old.completeLength());
        List<Header> headers = new ArrayList<>(received.headers().size() + 1);
        for (Header header : received.headers()) {
            if (!header.name().equalsIgnoreCase("Content-Range")) {
                headers.add(header);
            }
        }
        int status = 200;
        if (!union.complete()) {
            headers.add(new Header("Content-Range", "bytes " + first + "-" + last + "/" + union.completeLength()));
            status = 206;
        }
        return new StoredResponse(
                status,
                headers,
                body,
                received.requestTimeMillis(),
                received.responseTimeMillis(),
                received.varySelection());
    }

    /** A {@code 206} whose piece is the whole representation, as the {@code 200} it amounts to. */
    static StoredResponse asComplete(StoredResponse received) {
        List<Header> headers = new ArrayList<>(received.headers().size());
        for (Header header : received.headers()) {
            if (!header.name().equalsIgnoreCase("Content-Range")) {
                headers.add(header);
            }
        }
        return new StoredResponse(
                200,
                headers,
                received.bodyArray(),
                received.requestTimeMillis(),
                received.responseTimeMillis(),
                received.varySelection());
    }

    private static long digits(String s, int from, int to) {
        if (from >= to || to - from > 18) {
            return -1;
        }
        long value = 0;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }
}
