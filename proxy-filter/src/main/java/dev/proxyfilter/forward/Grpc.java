package dev.proxyfilter.forward;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;

/**
 * What the engine knows of gRPC (its HTTP/2 protocol, {@code PROTOCOL-HTTP2.md} in grpc/grpc): which requests
 * are gRPC calls, their {@code grpc-timeout}, and which gRPC status an error the proxy answers itself
 * becomes. The rest of gRPC needs nothing special: bodies stream as any body does, trailers pass through
 * (see {@link ResponseCopy}), {@code TE: trailers} is forwarded ({@link ForwardHeaders}).
 */
final class Grpc {
    /** The {@code grpc-status} trailer. */
    static final String STATUS = "grpc-status";
    /** The {@code grpc-message} trailer. */
    static final String MESSAGE = "grpc-message";
    /** The call's deadline, as the client sends it. */
    static final String TIMEOUT = "grpc-timeout";

    static final int DEADLINE_EXCEEDED = 4;
    static final int UNAVAILABLE = 14;

    private Grpc() {}

    /** Whether a request with this {@code Content-Type} is a gRPC call (not gRPC-Web, which is HTTP/1-friendly). */
    static boolean isCall(String contentType) {
        return contentType != null
                && contentType.regionMatches(true, 0, "application/grpc", 0, 16)
                && (contentType.length() == 16 || contentType.charAt(16) == '+' || contentType.charAt(16) == ';');
    }

    /** Whether the client's request is a gRPC call. */
    static boolean isCall(ClientExchange client) {
        return isCall(client.requestHeaders().get(HttpHeader.CONTENT_TYPE));
    }

    /**
     * The exchange's total timeout in milliseconds: the route's, or the call's {@code grpc-timeout} when that
     * is shorter (or the route has none). 0 for none.
     */
    static long timeoutMillis(long routeMillis, HttpFields headers) {
        long call = timeoutMillis(headers.get(TIMEOUT));
        if (call < 0) {
            return routeMillis;
        }
        return routeMillis > 0 ? Math.min(routeMillis, call) : call;
    }

    /** {@code grpc-timeout} (1 to 8 digits and a unit: H, M, S, m, u, n) in milliseconds, at least 1; -1 if none. */
    static long timeoutMillis(String value) {
        if (value == null || value.length() < 2 || value.length() > 9) {
            return -1;
        }
        long amount = 0;
        for (int i = 0; i < value.length() - 1; i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            amount = amount * 10 + (c - '0');
        }
        TimeUnit unit = switch (value.charAt(value.length() - 1)) {
            case 'H' -> TimeUnit.HOURS;
            case 'M' -> TimeUnit.MINUTES;
            case 'S' -> TimeUnit.SECONDS;
            case 'm' -> TimeUnit.MILLISECONDS;
            case 'u' -> TimeUnit.MICROSECONDS;
            case 'n' -> TimeUnit.NANOSECONDS;
            default -> null;
        };
        if (unit == null) {
            return -1;
        }
        return Math.max(1, (unit.toNanos(amount) + 999_999) / 1_000_000);
    }

    /**
     * The gRPC status for an HTTP status the proxy answers with, after gRPC's {@code
     * http-grpc-status-mapping.md}, except that a gateway timeout is the call's deadline: 502 and 503 (and
     * 429) are UNAVAILABLE, 504 and 408 DEADLINE_EXCEEDED.
     */
    static int status(int httpStatus) {
        return switch (httpStatus) {
            case 400 -> 13; // INTERNAL
            case 401 -> 16; // UNAUTHENTICATED
            case 403 -> 7; // PERMISSION_DENIED
            case 404, 405, 501 -> 12; // UNIMPLEMENTED
            case 408, 504 -> DEADLINE_EXCEEDED;
            case 413, 431 -> 8; // RESOURCE_EXHAUSTED
            case 429, 502, 503 -> UNAVAILABLE;
            default -> 2; // UNKNOWN
        };
    }

    /** {@code grpc-message}'s percent-encoding: bytes outside printable ASCII, and '%'. */
    static String encodeMessage(String message) {
        byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder(bytes.length + 8);
        for (byte b : bytes) {
            int c = b & 0xff;
            if (c >= 0x20 && c <= 0x7e && c != '%') {
                out.append((char) c);
            } else {
                out.append('%')
                        .append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }
}
