package dev.proxyfilter.cache;

import dev.proxyfilter.http.Header;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The byte form of a {@link StoreEntry}, for stores that keep entries off the Java heap or on disk.
 *
 * <pre>
 * entry     = version(1 byte = 1) kind(1 byte) (response / varyIndex)
 * response  = kind 1: status(varint) requestTime(8) responseTime(8)
 *             count(varint) *(name value)          ; header fields, in order
 *             count(varint) *(name nullableValue)  ; vary selection
 *             length(varint) body
 * varyIndex = kind 2: generation(8) count(varint) *name
 * name, value     = length(varint) UTF-8 bytes
 * nullableValue   = (length + 1)(varint) UTF-8 bytes, 0 for null
 * </pre>
 *
 * Compact on purpose (no class names, no field tags) and versioned, so that a disk tier written by an
 * older format is refused rather than misread: {@link #decode} throws {@link IllegalArgumentException}.
 */
public final class ResponseCodec {
    private static final byte VERSION = 1;
    private static final byte RESPONSE = 1;
    private static final byte VARY_INDEX = 2;

    private ResponseCodec() {}

    /** The entry's bytes, in a buffer positioned at 0 with its limit at the end. */
    public static ByteBuffer encode(StoreEntry entry) {
        if (entry instanceof StoredResponse response) {
            return encodeResponse(response);
        }
        VaryIndex index = (VaryIndex) entry;
        byte[][] names = new byte[index.names().size()][];
        int size = 2 + 8 + varintSize(names.length);
        for (int i = 0; i < names.length; i++) {
            names[i] = utf8(index.names().get(i));
            size += varintSize(names[i].length) + names[i].length;
        }
        ByteBuffer out = ByteBuffer.allocate(size);
        out.put(VERSION).put(VARY_INDEX).putLong(index.generation());
        putVarint(out, names.length);
        for (byte[] name : names) {
            putBytes(out, name);
        }
        return out.flip();
    }

    private static ByteBuffer encodeResponse(StoredResponse response) {
        List<Header> headers = response.headers();
        List<Header> selection = response.varySelection();
        byte[][] strings = new byte[2 * (headers.size() + selection.size())][];
        int size = 2 + varintSize(response.status()) + 16 + varintSize(headers.size()) + varintSize(selection.size());
        int s = 0;
        for (Header header : headers) {
            strings[s] = utf8(header.name());
            size += varintSize(strings[s].length) + strings[s++].length;
            strings[s] = utf8(header.value());
            size += varintSize(strings[s].length) + strings[s++].length;
        }
        for (Header header : selection) {
            strings[s] = utf8(header.name());
            size += varintSize(strings[s].length) + strings[s++].length;
            strings[s] = header.value() == null ? null : utf8(header.value());
            size += strings[s] == null ? 1 : varintSize(strings[s].length + 1) + strings[s].length;
            s++;
        }
        byte[] body = response.bodyArray();
        size += varintSize(body.length) + body.length;

        ByteBuffer out = ByteBuffer.allocate(size);
        out.put(VERSION).put(RESPONSE);
        putVarint(out, response.status());
        out.putLong(response.requestTimeMillis()).putLong(response.responseTimeMillis());
        s = 0;
        putVarint(out, headers.size());
        for (int i = 0; i < headers.size(); i++) {
            putBytes(out, strings[s++]);
            putBytes(out, strings[s++]);
        }
        putVarint(out, selection.size());
        for (int i = 0; i < selection.size(); i++) {
            putBytes(out, strings[s++]);
            byte[] value = strings[s++];
            if (value == null) {
                putVarint(out, 0);
            } else {
                putVarint(out, value.length + 1);
                out.put(value);
            }
        }
        putBytes(out, body);
        return out.flip();
    }

    /**
     * Reads an entry from {@code in}'s position up to its limit; the buffer's position moves.
     *
     * @throws IllegalArgumentException when the bytes are not an entry of this format version
     */
    public static StoreEntry decode(ByteBuffer in) {
        try {
            byte version = in.get();
            if (version != VERSION) {
                throw new IllegalArgumentException("cache entry format " + version + " (expected: " + VERSION + ")");
            }
            byte kind = in.get();
            if (kind == VARY_INDEX) {
                long generation = in.getLong();
                int count = getLength(in);
                List<String> names = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    names.add(getString(in));
                }
                return new VaryIndex(names, generation);
            }
            if (kind != RESPONSE) {
                throw new IllegalArgumentException("cache entry kind " + kind + " (expected: 1 or 2)");
            }
            int status = getLength(in);
            long requestTime = in.getLong();
            long responseTime = in.getLong();
            int headerCount = getLength(in);
            List<Header> headers = new ArrayList<>(headerCount);
            for (int i = 0; i < headerCount; i++) {
                headers.add(new Header(getString(in), getString(in)));
            }
            int selectionCount = getLength(in);
            List<Header> selection = new ArrayList<>(selectionCount);
            for (int i = 0; i < selectionCount; i++) {
                String name = getString(in);
                int lengthPlusOne = getLength(in);
                String value = null;
                if (lengthPlusOne > 0) {
                    value = new String(getBytes(in, lengthPlusOne - 1), StandardCharsets.UTF_8);
                }
                selection.add(new Header(name, value));
            }
            byte[] body = getBytes(in, getLength(in));
            return new StoredResponse(status, headers, body, requestTime, responseTime, selection);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("cache entry truncated", e);
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void putBytes(ByteBuffer out, byte[] bytes) {
        putVarint(out, bytes.length);
        out.put(bytes);
    }

    private static String getString(ByteBuffer in) {
        return new String(getBytes(in, getLength(in)), StandardCharsets.UTF_8);
    }

    private static byte[] getBytes(ByteBuffer in, int length) {
        if (length > in.remaining()) {
            throw new IllegalArgumentException(
                    "cache entry truncated: " + length + " bytes announced, " + in.remaining() + " left");
        }
        byte[] bytes = new byte[length];
        in.get(bytes);
        return bytes;
    }

    static int varintSize(int value) {
        int size = 1;
        while ((value & ~0x7f) != 0) {
            value >>>= 7;
            size++;
        }
        return size;
    }

    private static void putVarint(ByteBuffer out, int value) {
        while ((value & ~0x7f) != 0) {
            out.put((byte) ((value & 0x7f) | 0x80));
            value >>>= 7;
        }
        out.put((byte) value);
    }

    /** A non-negative varint of at most 5 bytes. */
    private static int getLength(ByteBuffer in) {
        int value = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            byte b = in.get();
            value |= (b & 0x7f) << shift;
            if (b >= 0) {
                if (value < 0) {
                    break;
                }
                return value;
            }
        }
        throw new IllegalArgumentException("cache entry has a malformed length");
    }
}
