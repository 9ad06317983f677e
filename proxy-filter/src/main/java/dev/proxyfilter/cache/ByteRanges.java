package dev.proxyfilter.cache;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@code Range} request answered from stored content (RFC 9110 §14).
 *
 * <p>One satisfiable byte range gets a {@code 206} with {@code Content-Range}; several get a {@code 206} of
 * {@code multipart/byteranges} (RFC 9110 §14.6), in the order asked, at most {@link #MAX_PARTS} of them and
 * none overlapping another: past that the whole {@code 200} is sent, as §14.2 lets a server ignore
 * {@code Range}, so that many small overlapping ranges cannot amplify a response. Ranges that start beyond
 * the end are left out; when none is left the answer is {@code 416} with {@code Content-Range: bytes
 * *}/length. A header that does not parse, or another unit than {@code bytes}, is ignored, as §14.2 asks.
 */
public final class ByteRanges {

    /** What to answer. */
    public enum Kind {
        /** No usable {@code Range}: answer the whole representation, 200. */
        FULL,
        /** One satisfiable range: 206 with {@link Result#first()}..{@link Result#last()}. */
        PARTIAL,
        /** Not satisfiable: 416. */
        UNSATISFIABLE,
        /** Several satisfiable ranges: 206 of {@code multipart/byteranges} with {@link Result#parts()}. */
        MULTIPART
    }

    /** The most ranges answered as {@code multipart/byteranges}; more get the whole representation. */
    public static final int MAX_PARTS = 16;

    /**
     * One satisfiable range.
     *
     * @param first the first byte
     * @param last  the last byte, inclusive
     */
    public record Part(long first, long last) {
        /** Bytes in the range. */
        public long length() {
            return last - first + 1;
        }
    }

    /**
     * @param kind  what to answer
     * @param first the first byte, for {@link Kind#PARTIAL}
     * @param last  the last byte, inclusive, for {@link Kind#PARTIAL}
     * @param parts the ranges, in the order asked: one for {@link Kind#PARTIAL}, several for
     *              {@link Kind#MULTIPART}, none otherwise
     */
    public record Result(Kind kind, long first, long last, List<Part> parts) {
        static final Result FULL = new Result(Kind.FULL, 0, -1, List.of());
        static final Result UNSATISFIABLE = new Result(Kind.UNSATISFIABLE, 0, -1, List.of());

        Result(Kind kind, long first, long last) {
            this(kind, first, last, kind == Kind.PARTIAL ? List.of(new Part(first, last)) : List.of());
        }

        /** Bytes in the range. */
        public long length() {
            return last - first + 1;
        }

        /** The {@code Content-Range} value for {@code completeLength}, e.g. {@code bytes 0-99/1000}. */
        public String contentRange(long completeLength) {
            return kind == Kind.PARTIAL
                    ? "bytes " + first + "-" + last + "/" + completeLength
                    : "bytes */" + completeLength;
        }
    }

    private ByteRanges() {}

    /**
     * Reads a {@code Range} value against a representation of {@code length} bytes.
     *
     * @param range the field value, or {@code null}
     */
    public static Result parse(String range, long length) {
        if (range == null) {
            return Result.FULL;
        }
        String value = range.trim();
        int eq = value.indexOf('=');
        if (eq < 0 || !value.substring(0, eq).trim().equalsIgnoreCase("bytes")) {
            return Result.FULL;
        }
        List<Part> parts = new ArrayList<>(2);
        boolean any = false;
        for (String spec : value.substring(eq + 1).split(",")) {
            if (spec.isBlank()) {
                continue; // empty list elements are allowed (RFC 9110 §5.6.1)
            }
            any = true;
            Result result = parseSpec(spec.trim(), length);
            if (result == null) {
                return Result.FULL; // one invalid range-spec: the field is ignored
            }
            if (result.kind() == Kind.PARTIAL) {
                if (parts.size() == MAX_PARTS) {
                    return Result.FULL;
                }
                for (Part other : parts) {
                    if (result.first() <= other.last() && other.first() <= result.last()) {
                        return Result.FULL; // overlapping ranges: the whole, never an amplified answer
                    }
                }
                parts.add(new Part(result.first(), result.last()));
            }
        }
        if (!any) {
            return Result.FULL;
        }
        if (parts.isEmpty()) {
            return Result.UNSATISFIABLE;
        }
        if (parts.size() == 1) {
            return new Result(Kind.PARTIAL, parts.get(0).first(), parts.get(0).last());
        }
        return new Result(Kind.MULTIPART, 0, -1, List.copyOf(parts));
    }

    /** One range-spec; {@code null} when it does not parse. */
    private static Result parseSpec(String spec, long length) {
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return null;
        }
        long first = digits(spec, 0, dash);
        long last = digits(spec, dash + 1, spec.length());
        if (dash == 0) { // suffix-range: the last N bytes
            if (last < 0) {
                return null;
            }
            if (last == 0 || length == 0) {
                return Result.UNSATISFIABLE;
            }
            return new Result(Kind.PARTIAL, Math.max(0, length - last), length - 1);
        }
        if (first < 0) {
            return null;
        }
        if (dash + 1 < spec.length() && last < 0) {
            return null;
        }
        if (last >= 0 && last < first) {
            return null; // invalid, so the field is ignored
        }
        if (first >= length) {
            return Result.UNSATISFIABLE;
        }
        long end = last < 0 || last >= length ? length - 1 : last;
        return new Result(Kind.PARTIAL, first, end);
    }

    /** Non-negative decimal in {@code s[from, to)}, -1 when empty, not digits, or too long. */
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
