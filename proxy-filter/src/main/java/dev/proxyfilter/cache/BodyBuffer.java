package dev.proxyfilter.cache;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Collects a response body for storing while it streams to the client, up to the per-entry limit. Once a
 * chunk would pass the limit the buffer lets go of what it holds and ignores the rest: the response keeps
 * streaming, and it is not stored.
 *
 * <p>Not thread-safe: one exchange appends its chunks in order.
 */
public final class BodyBuffer {
    private static final int INITIAL = 8 * 1024;

    private final long maxBytes;
    private byte[] bytes;
    private int size;
    private boolean overflowed;

    /**
     * @param maxBytes       the per-entry limit
     * @param expectedLength the {@code Content-Length}, or -1 when unknown; above {@code maxBytes} the buffer
     *                       starts overflowed and copies nothing
     */
    public BodyBuffer(long maxBytes, long expectedLength) {
        if (maxBytes < 0 || maxBytes > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException(
                    "maxBytes: " + maxBytes + " (expected: 0.." + (Integer.MAX_VALUE - 64) + ")");
        }
        this.maxBytes = maxBytes;
        if (expectedLength > maxBytes) {
            overflowed = true;
            bytes = null;
        } else {
            bytes = new byte[(int) (expectedLength >= 0 ? expectedLength : Math.min(INITIAL, maxBytes))];
        }
    }

    /**
     * Copies the chunk's remaining bytes without moving its position.
     *
     * @return {@code false} once the body is larger than the limit (from then on, always)
     */
    public boolean append(ByteBuffer chunk) {
        if (overflowed) {
            return false;
        }
        int length = chunk.remaining();
        if ((long) size + length > maxBytes) {
            overflowed = true;
            bytes = null;
            return false;
        }
        if (size + length > bytes.length) {
            long grown = Math.max((long) size + length, Math.min(maxBytes, 2L * Math.max(bytes.length, 1)));
            bytes = Arrays.copyOf(bytes, (int) grown);
        }
        chunk.duplicate().get(bytes, size, length);
        size += length;
        return true;
    }

    /** Whether the body passed the limit. */
    public boolean overflowed() {
        return overflowed;
    }

    /** Bytes collected so far. */
    public int size() {
        return size;
    }

    /**
     * The whole body, to hand to {@link HttpCache#store}.
     *
     * @throws IllegalStateException when the body passed the limit
     */
    public byte[] toByteArray() {
        if (overflowed) {
            throw new IllegalStateException("the body passed the limit of " + maxBytes + " bytes and was not kept");
        }
        return size == bytes.length ? bytes : Arrays.copyOf(bytes, size);
    }
}
