package dev.proxyfilter.security;

import dev.proxyfilter.http.Header;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The security step's verdict on one request. Refused: the status, a short fixed message and the
 * headers to answer with. Admitted: who the client is, what to change in the upstream request, and
 * (with {@code security.max-concurrent-per-client}) a slot to {@link #release()} when the exchange ends.
 *
 * <p>Messages never contain request data, so an error page can never echo what a client sent.
 */
public final class Admission {
    /** Nothing configured: the peer is the client, nothing to change, nothing to release. */
    public static final Admission NONE = new Admission(0, null, List.of(), null, false, Set.of(), List.of(), null);

    private final int status;
    private final String message;
    private final List<Header> responseHeaders;
    private final String clientIp;
    private final boolean peerTrusted;
    private final Set<String> removedRequestHeaders;
    private final List<Header> upstreamHeaders;
    private final ConcurrencyLimiter permits;
    private final AtomicBoolean released;

    private Admission(
            int status,
            String message,
            List<Header> responseHeaders,
            String clientIp,
            boolean peerTrusted,
            Set<String> removedRequestHeaders,
            List<Header> upstreamHeaders,
            ConcurrencyLimiter permits) {
        this.status = status;
        this.message = message;
        this.responseHeaders = responseHeaders;
        this.clientIp = clientIp;
        this.peerTrusted = peerTrusted;
        this.removedRequestHeaders = removedRequestHeaders;
        this.upstreamHeaders = upstreamHeaders;
        this.permits = permits;
        this.released = permits == null ? null : new AtomicBoolean();
    }

    static Admission refused(int status, String message, List<Header> responseHeaders, String clientIp) {
        return new Admission(status, message, List.copyOf(responseHeaders), clientIp, false, Set.of(), List.of(), null);
    }

    static Admission admitted(
            String clientIp,
            boolean peerTrusted,
            Set<String> removedRequestHeaders,
            List<Header> upstreamHeaders,
            ConcurrencyLimiter permits) {
        return new Admission(
                0, null, List.of(), clientIp, peerTrusted, removedRequestHeaders, upstreamHeaders, permits);
    }

    /** Whether the request may go on to a backend. */
    public boolean admitted() {
        return status == 0;
    }

    /** The status to refuse with: 401, 403 or 429; 0 when admitted. */
    public int status() {
        return status;
    }

    /** The refusal's body text, fixed per reason; null when admitted. */
    public String message() {
        return message;
    }

    /** Headers of the refusal: {@code WWW-Authenticate}, {@code Retry-After}, {@code RateLimit*}. */
    public List<Header> responseHeaders() {
        return responseHeaders;
    }

    /** The client IP (see {@link ClientIdentity}); null for {@link #NONE}, where it is the peer. */
    public String clientIp() {
        return clientIp;
    }

    /**
     * Whether the peer is a trusted proxy. Only then are its {@code X-Forwarded-For} and {@code Forwarded}
     * passed on (with the peer appended); otherwise the backend gets a chain that starts at the peer.
     */
    public boolean peerTrusted() {
        return peerTrusted;
    }

    /** Whether the client's request header {@code lowerCaseName} must not reach the backend. */
    public boolean removesRequestHeader(String lowerCaseName) {
        return !removedRequestHeaders.isEmpty() && removedRequestHeaders.contains(lowerCaseName);
    }

    /** Whether any client request header is removed. */
    public boolean removesRequestHeaders() {
        return !removedRequestHeaders.isEmpty();
    }

    /** Headers to set on the upstream request: the claims of a validated token. */
    public List<Header> upstreamHeaders() {
        return upstreamHeaders;
    }

    /** Whether this request holds a per-client concurrency slot that {@link #release()} gives back. */
    public boolean holdsPermit() {
        return permits != null;
    }

    /** Gives back the concurrency slot, once; later calls do nothing. */
    public void release() {
        if (permits != null && released.compareAndSet(false, true)) {
            permits.release(clientIp);
        }
    }
}
