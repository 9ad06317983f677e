package dev.proxyfilter.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Limits the engine applies to every client request, in every adapter ({@code proxy.max-header-count},
 * {@code proxy.max-body-bytes}, {@code proxy.body-timeout}). The container's own limits (header bytes,
 * URI length) come first; these hold where no container does them.
 *
 * @param maxHeaderCount most request header fields; past it 431
 * @param maxBodyBytes   most request body bytes, 0 for no limit; past it 413 (a route may override it)
 * @param bodyTimeout    time to receive the whole request body, {@link Duration#ZERO} for none; past it 408
 */
public record RequestLimits(int maxHeaderCount, long maxBodyBytes, Duration bodyTimeout) {
    /** Tomcat's {@code maxHeaderCount} default. */
    public static final int DEFAULT_MAX_HEADER_COUNT = 100;
    /** The body is streamed, never buffered whole, so by default its size is the backend's business. */
    public static final long DEFAULT_MAX_BODY_BYTES = 0;

    public static final RequestLimits DEFAULT =
            new RequestLimits(DEFAULT_MAX_HEADER_COUNT, DEFAULT_MAX_BODY_BYTES, Duration.ZERO);

    public RequestLimits {
        if (maxHeaderCount < 1) {
            throw new IllegalArgumentException("maxHeaderCount: " + maxHeaderCount + " (expected: > 0)");
        }
        if (maxBodyBytes < 0) {
            throw new IllegalArgumentException("maxBodyBytes: " + maxBodyBytes + " (expected: >= 0)");
        }
        Objects.requireNonNull(bodyTimeout, "bodyTimeout");
    }
}
