package dev.proxyfilter.upstream;

import java.io.IOException;

/**
 * An HTTP/2 backend did not process the request: it refused the stream ({@code REFUSED_STREAM}) or the stream
 * was above the last one its {@code GOAWAY} let through, or the session took no new stream. RFC 9113 §8.7
 * makes such a request safe to send again, whatever its method, as a request on a connection that was never
 * made is.
 */
public final class StreamRefusedException extends IOException {
    private static final long serialVersionUID = 1L;

    StreamRefusedException(String message, Throwable cause) {
        super(message, cause);
    }
}
