package dev.proxyfilter.cache;

import java.nio.ByteBuffer;
import java.util.Objects;
import org.eclipse.jetty.http.HttpFields;

/**
 * A response made from a stored one, ready for the client: 200, 203, ..., 206 for a range, 304 or 412 for
 * the client's own conditions, 416 for a range beyond the end.
 *
 * @param status  the status to send
 * @param headers the stored fields plus {@code Age}, {@code Content-Length} and {@code Content-Range} as
 *                needed; the pipeline adds its {@code Via} and {@code Cache-Status}
 * @param body    the bytes to send (empty for {@code HEAD}, 304, 412, 416); often the stored body itself,
 *                shared by every hit: it must only be read, never written to (it is not a read-only
 *                buffer so that the container can write from its array without a copy)
 */
public record CacheAnswer(int status, HttpFields.Mutable headers, ByteBuffer body) {
    public CacheAnswer {
        Objects.requireNonNull(headers, "headers");
        Objects.requireNonNull(body, "body");
    }
}
