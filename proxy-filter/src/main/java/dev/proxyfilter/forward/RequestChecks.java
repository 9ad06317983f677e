package dev.proxyfilter.forward;

import dev.proxyfilter.http1.FieldLines;
import java.util.Locale;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;

/**
 * The engine's own defence against ambiguous requests, whatever container parsed them: a request that
 * fails here is answered without contacting a backend. Containers reject most of this already (Jetty
 * with {@code HttpCompliance.RFC9110}, Tomcat with its parser); this holds for any other and makes the
 * rule explicit: the message a backend receives has exactly one framing.
 *
 * <ul>
 *   <li>405 for {@code CONNECT}: the proxy opens no tunnels to an address the client names (RFC 8441's
 *       extended {@code CONNECT} for WebSocket, which names a route's path, is let through).</li>
 *   <li>400 for more than one {@code Content-Length} (even with equal values), a value that is not a
 *       decimal number, {@code Content-Length} together with {@code Transfer-Encoding}, {@code chunked}
 *       not being the one and final coding, a header name that is not a token or a value with a
 *       control character (CR, LF, NUL...).</li>
 *   <li>501 for a transfer coding other than {@code chunked}.</li>
 *   <li>431 for more header fields than {@code proxy.max-header-count}.</li>
 *   <li>413 for a {@code Content-Length} above the route's {@code max-body-bytes}.</li>
 * </ul>
 */
final class RequestChecks {
    /** A refusal: the status and a short text that echoes nothing of the request. */
    record Refusal(int status, String message) {}

    private RequestChecks() {}

    /**
     * The refusal for this request, or {@code null} when it may be forwarded.
     *
     * @param maxHeaderCount most header fields
     * @param maxBodyBytes   most body bytes, 0 for no limit
     */
    static Refusal check(String method, HttpFields headers, int maxHeaderCount, long maxBodyBytes) {
        return check(method, false, headers, maxHeaderCount, maxBodyBytes);
    }

    /**
     * Like {@link #check(String, HttpFields, int, long)}; {@code extendedConnect}: the request is RFC 8441's
     * {@code CONNECT} for WebSocket, which step 1 let through.
     */
    static Refusal check(
            String method, boolean extendedConnect, HttpFields headers, int maxHeaderCount, long maxBodyBytes) {
        if (!extendedConnect && "CONNECT".equals(method)) {
            return new Refusal(405, "Method Not Allowed: this proxy opens no tunnels");
        }
        if (headers.size() > maxHeaderCount) {
            return new Refusal(431, "Request Header Fields Too Large: more than " + maxHeaderCount + " header fields");
        }
        String contentLength = null;
        int contentLengths = 0;
        boolean transferEncoding = false;
        for (HttpField field : headers) {
            String name = field.getName();
            String value = field.getValue();
            if (!isToken(name)) {
                return new Refusal(400, "Bad Request: invalid header name");
            }
            if (value != null && hasControl(value)) {
                return new Refusal(400, "Bad Request: invalid character in a header value");
            }
            if (field.getHeader() == HttpHeader.CONTENT_LENGTH) {
                contentLengths++;
                contentLength = value;
            } else if (field.getHeader() == HttpHeader.TRANSFER_ENCODING) {
                if (transferEncoding) {
                    return new Refusal(400, "Bad Request: Transfer-Encoding given more than once");
                }
                transferEncoding = true;
                Refusal coding = checkTransferEncoding(value);
                if (coding != null) {
                    return coding;
                }
            }
        }
        if (contentLengths > 1) {
            return new Refusal(400, "Bad Request: more than one Content-Length");
        }
        if (contentLengths == 1 && transferEncoding) {
            return new Refusal(400, "Bad Request: both Content-Length and Transfer-Encoding");
        }
        if (contentLengths == 1) {
            long length = FieldLines.contentLength(contentLength);
            if (length < 0) {
                return new Refusal(400, "Bad Request: invalid Content-Length");
            }
            if (maxBodyBytes > 0 && length > maxBodyBytes) {
                return tooLarge(maxBodyBytes);
            }
        }
        return null;
    }

    static Refusal tooLarge(long maxBodyBytes) {
        return new Refusal(413, "Content Too Large: the request body exceeds " + maxBodyBytes + " bytes");
    }

    /** Exactly one coding, {@code chunked}; an unknown one is 501 (RFC 9112 section 6.1). */
    private static Refusal checkTransferEncoding(String value) {
        if (value == null) {
            return new Refusal(400, "Bad Request: empty Transfer-Encoding");
        }
        String[] codings = value.split(",", -1);
        for (String coding : codings) {
            String name = coding.strip().toLowerCase(Locale.ROOT);
            if (!name.equals("chunked")
                    && !name.equals("gzip")
                    && !name.equals("deflate")
                    && !name.equals("compress")) {
                return new Refusal(501, "Not Implemented: unknown transfer coding");
            }
        }
        if (codings.length != 1 || !codings[0].strip().equalsIgnoreCase("chunked")) {
            return new Refusal(400, "Bad Request: chunked must be the only transfer coding");
        }
        return null;
    }

    private static boolean isToken(String name) {
        if (name == null || name.isEmpty()) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!FieldLines.isTokenChar(c)) {
                return false;
            }
        }
        return true;
    }

    /** Any control character but horizontal tab, including DEL (RFC 9110 section 5.5). */
    private static boolean hasControl(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                return true;
            }
        }
        return false;
    }
}
