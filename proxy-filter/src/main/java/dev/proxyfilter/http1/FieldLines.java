package dev.proxyfilter.http1;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HostPortHttpField;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.HostPort;

/**
 * The header lines of one connection's HTTP/1.1 heads, read strictly, with the field of any line that is
 * byte for byte a line of the previous head given again instead of made anew.
 *
 * <p>A keep-alive client sends the same {@code Host}, {@code User-Agent}, {@code Accept*} lines on every
 * request, and a backend the same {@code Server}, {@code Content-Type}, {@code ETag} lines for the same
 * resource; Jetty's {@code HttpParser} makes a name or value {@code String} and a field for each of them
 * every time (its own field cache keeps only some request headers and costs about 50 KB of trie per
 * connection). Here a line costs a comparison with the line remembered at the same place in the previous head
 * (and then with the others), and nothing when it matches. What is remembered is the last head's lines only,
 * at most {@value #MAX_LINES} of them in {@value #MAX_BYTES} bytes: a connection holds no more than that, and
 * a value that changed (a {@code Date}, a {@code Content-Length}) is made once, as the parser would.
 *
 * <p><b>Strict.</b> {@link #field} takes {@code name ":" OWS value OWS} with a token name and a value of
 * visible ASCII, spaces and tabs; anything else (obsolete folding, bytes above 0x7F, a control character, a
 * space before the colon) gives null, and the caller hands the head to Jetty's parser, which applies its
 * compliance mode and answers what it refuses. So this class never accepts what Jetty would refuse.
 *
 * <p>One instance per connection, used by one thread at a time (the connection's reader). Fields are immutable
 * and may outlive the head (an access-log line holds them).
 */
public final class FieldLines {
    /** Lines of a head remembered for the next one. */
    static final int MAX_LINES = 32;
    /** Bytes of those lines remembered. */
    static final int MAX_BYTES = 4096;

    private static final boolean[] TCHAR = new boolean[128];

    static {
        for (char c = '0'; c <= '9'; c++) {
            TCHAR[c] = true;
        }
        for (char c = 'a'; c <= 'z'; c++) {
            TCHAR[c] = true;
            TCHAR[c - 'a' + 'A'] = true;
        }
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
            TCHAR[c] = true;
        }
    }

    /** The previous head's lines: bytes, where each starts, how long, and its field. */
    private byte[] seenBytes = new byte[0];

    private final int[] seenStart = new int[MAX_LINES];
    private final int[] seenLength = new int[MAX_LINES];
    private final HttpField[] seenField = new HttpField[MAX_LINES];
    private int seenCount;

    /** This head's lines so far, the same way. */
    private byte[] nextBytes = new byte[0];

    private final int[] nextStart = new int[MAX_LINES];
    private final int[] nextLength = new int[MAX_LINES];
    private final HttpField[] nextField = new HttpField[MAX_LINES];
    private int nextCount;
    private int nextUsed;
    /** Lines of this head so far, remembered or not: where to look first in the previous head. */
    private int lineIndex;

    private long reused;
    private long made;

    /**
     * Where the head that starts at {@code from} ends: the index just past its empty line ({@code CRLF CRLF}),
     * or -1 if there is none before {@code to}.
     */
    public static int headEnd(ByteBuffer buffer, int from, int to) {
        for (int i = from + 3; i < to; i++) {
            if (buffer.get(i) == '\n'
                    && buffer.get(i - 1) == '\r'
                    && buffer.get(i - 2) == '\n'
                    && buffer.get(i - 3) == '\r') {
                return i + 1;
            }
        }
        return -1;
    }

    /** The index of the {@code CRLF} that ends the line starting at {@code from}, or -1 before {@code to}. */
    public static int lineEnd(ByteBuffer buffer, int from, int to) {
        for (int i = from; i < to - 1; i++) {
            byte b = buffer.get(i);
            if (b == '\r') {
                return buffer.get(i + 1) == '\n' ? i : -1;
            }
            if (b == '\n') {
                return -1; // a bare LF: Jetty's parser decides
            }
        }
        return -1;
    }

    /**
     * The field of the header line {@code [start, end)} (without its {@code CRLF}), or null if the line is not
     * plain (see the class comment). A {@code Host} line gives a {@link HostPortHttpField}, as Jetty's parser
     * does, or null if its authority does not parse.
     */
    public HttpField field(ByteBuffer buffer, int start, int end) {
        int length = end - start;
        int index = lineIndex++;
        HttpField field = remembered(buffer, start, length, index);
        if (field == null) {
            field = parse(buffer, start, end);
            if (field == null) {
                return null;
            }
            made++;
        } else {
            reused++;
        }
        remember(buffer, start, length, field);
        return field;
    }

    /** The head is over: its lines are the ones the next head's are compared with. */
    public void headDone() {
        byte[] bytes = seenBytes;
        seenBytes = nextBytes;
        nextBytes = bytes;
        System.arraycopy(nextStart, 0, seenStart, 0, nextCount);
        System.arraycopy(nextLength, 0, seenLength, 0, nextCount);
        System.arraycopy(nextField, 0, seenField, 0, nextCount);
        if (seenCount > nextCount) {
            java.util.Arrays.fill(seenField, nextCount, seenCount, null);
        }
        seenCount = nextCount;
        restart();
    }

    /** The head was not taken (a line was not plain): what was recorded of it is forgotten. */
    public void headAbandoned() {
        restart();
    }

    /** Fields given again from the previous head, since the connection opened. */
    public long reused() {
        return reused;
    }

    /** Fields made from a line, since the connection opened. */
    public long made() {
        return made;
    }

    private void restart() {
        java.util.Arrays.fill(nextField, 0, nextCount, null);
        nextCount = 0;
        nextUsed = 0;
        lineIndex = 0;
    }

    private HttpField remembered(ByteBuffer buffer, int start, int length, int index) {
        int count = seenCount;
        if (index < count && same(buffer, start, length, index)) {
            return seenField[index];
        }
        for (int i = 0; i < count; i++) {
            if (i != index && same(buffer, start, length, i)) {
                return seenField[i];
            }
        }
        return null;
    }

    private boolean same(ByteBuffer buffer, int start, int length, int i) {
        if (seenLength[i] != length) {
            return false;
        }
        byte[] bytes = seenBytes;
        int at = seenStart[i];
        // From the end: lines that differ (a Date, a Content-Length) usually differ there.
        for (int j = length - 1; j >= 0; j--) {
            if (bytes[at + j] != buffer.get(start + j)) {
                return false;
            }
        }
        return true;
    }

    private void remember(ByteBuffer buffer, int start, int length, HttpField field) {
        if (nextCount == MAX_LINES || nextUsed + length > MAX_BYTES) {
            return; // past what a connection keeps: this line is made again next time
        }
        if (nextBytes.length < nextUsed + length) {
            nextBytes = java.util.Arrays.copyOf(
                    nextBytes, Math.min(MAX_BYTES, Math.max(256, Math.max(nextUsed + length, nextBytes.length * 2))));
        }
        buffer.get(start, nextBytes, nextUsed, length);
        nextStart[nextCount] = nextUsed;
        nextLength[nextCount] = length;
        nextField[nextCount] = field;
        nextCount++;
        nextUsed += length;
    }

    private static HttpField parse(ByteBuffer buffer, int start, int end) {
        int colon = start;
        while (colon < end) {
            byte b = buffer.get(colon);
            if (b == ':') {
                break;
            }
            if (!isTokenChar(b)) {
                return null; // not a token: a space before the colon, a control byte, obs-text
            }
            colon++;
        }
        if (colon == start || colon == end) {
            return null;
        }
        int from = colon + 1;
        while (from < end && isBlank(buffer.get(from))) {
            from++;
        }
        int to = end;
        while (to > from && isBlank(buffer.get(to - 1))) {
            to--;
        }
        for (int i = from; i < to; i++) {
            byte b = buffer.get(i);
            if (b < 0x20 && b != '\t' || b == 0x7F || b < 0) {
                return null; // a control character, or obs-text: Jetty's parser decides
            }
        }
        String name = BufferUtil.toString(buffer, start, colon - start, StandardCharsets.ISO_8859_1);
        String value = from == to ? "" : BufferUtil.toString(buffer, from, to - from, StandardCharsets.ISO_8859_1);
        HttpHeader header = HttpHeader.CACHE.get(name);
        if (header == null) {
            return new HttpField(name, value);
        }
        name = header.asString(); // the canonical name, as Jetty's parser gives a known header in RFC 9110 mode
        if (header == HttpHeader.HOST) {
            if (!plainPort(value)) {
                return null; // HostPort would log its refusal, and Jetty's parser will too
            }
            try {
                return new HostPortHttpField(header, name, new HostPort(value));
            } catch (IllegalArgumentException bad) {
                return null;
            }
        }
        return new HttpField(header, name, value);
    }

    /** Whether the authority's port, if it has one, is 1 to 5 digits up to 65535. */
    private static boolean plainPort(String authority) {
        int colon = authority.lastIndexOf(':');
        return colon < 0 || colon < authority.lastIndexOf(']') || isPort(authority, colon + 1);
    }

    /** Whether {@code text} from {@code from} to its end is a port: 1 to 5 digits, up to 65535. */
    public static boolean isPort(String text, int from) {
        int digits = text.length() - from;
        if (digits < 1 || digits > 5) {
            return false;
        }
        int port = 0;
        for (int i = from; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
            port = port * 10 + c - '0';
        }
        return port <= 65535;
    }

    /** A {@code Content-Length} value: a decimal number of at most 18 digits and nothing else; else -1. */
    public static long contentLength(String value) {
        if (value == null || value.isEmpty() || value.length() > 18) {
            return -1;
        }
        long length = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            length = length * 10 + (c - '0');
        }
        return length;
    }

    /** Whether {@code c} is a token character (RFC 9110 section 5.6.2). */
    public static boolean isTokenChar(int c) {
        return c >= 0 && c < 128 && TCHAR[c];
    }

    private static boolean isBlank(byte b) {
        return b == ' ' || b == '\t';
    }
}
