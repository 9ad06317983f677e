package dev.proxyfilter.accesslog;

import dev.proxyfilter.config.AccessLogTarget;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;

/**
 * The access log's lines written straight to a file descriptor, as nginx writes its own: each line encoded as
 * UTF-8 into one reused buffer, and the buffer written once per batch of the writer (or when it fills), so a line
 * costs no logging event, no layout, no {@code String} of its bytes and no system call of its own.
 *
 * <p>A file is appended to ({@code O_APPEND}), and opened again, created if need be, once its path no longer
 * names the open file: a log rotator's rename (or delete) is noticed within {@link #REOPEN_CHECK_NANOS} of the
 * next batch, without a signal; the lines written before that went to the renamed file, which rotators expect
 * ({@code delaycompress}). The identity is read by path just after opening, so a rotation in that instant goes
 * unnoticed until the next one. Standard output and error are written to but never closed; a batch larger than
 * the pipe's atomic size ({@code PIPE_BUF}, 4 KiB) may interleave with another writer of the same pipe, which
 * in the standalone proxy has none (its diagnostics go to stderr).
 *
 * <p>Used by the access log's writer thread alone, and by the thread that closes the log after the writer ended;
 * not thread-safe otherwise.
 */
final class DirectSink implements AccessLog.Sink {
    /** How often a file's path is checked against the open file: one {@code stat} per second at most. */
    static final long REOPEN_CHECK_NANOS = 1_000_000_000L;

    /** Bytes gathered before a write: a batch of about 200 usual lines. */
    private static final int BUFFER_BYTES = 64 * 1024;

    private final AccessLogTarget target;
    private final ByteBuffer buffer = ByteBuffer.allocate(BUFFER_BYTES);
    private WritableByteChannel channel;
    /** The open file's identity (inode and device on Linux), to notice a rename; null for stdout and stderr. */
    private Object openFileKey;

    private long lastCheckNanos;

    /** A sink for {@code target}, which is not {@link AccessLogTarget.Kind#LOGGER}; opens a file target now. */
    DirectSink(AccessLogTarget target) throws IOException {
        this.target = Objects.requireNonNull(target, "target");
        switch (target.kind()) {
            case STDOUT -> channel = new FileOutputStream(FileDescriptor.out).getChannel();
            case STDERR -> channel = new FileOutputStream(FileDescriptor.err).getChannel();
            case FILE -> open();
            case LOGGER -> throw new IllegalArgumentException("target: logger (expected: stdout, stderr or a file)");
        }
        lastCheckNanos = System.nanoTime();
    }

    private void open() throws IOException {
        FileChannel file = FileChannel.open(
                target.file(), StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        channel = file;
        openFileKey = fileKey(target.file());
    }

    private static Object fileKey(Path path) throws IOException {
        return Files.readAttributes(path, BasicFileAttributes.class).fileKey();
    }

    @Override
    public void line(CharSequence text) {
        int length = text.length();
        if (buffer.remaining() < length * 3 + 1) {
            flush();
            if (buffer.remaining() < length * 3 + 1) {
                // A line larger than the buffer (a very long URI): written in slices.
                encodeLarge(text);
                return;
            }
        }
        encode(text, 0, length);
        buffer.put((byte) '\n');
    }

    private void encodeLarge(CharSequence text) {
        int slice = (BUFFER_BYTES - 1) / 3;
        int from = 0;
        while (from < text.length()) {
            int to = Math.min(text.length(), from + slice);
            if (to < text.length() && Character.isHighSurrogate(text.charAt(to - 1))) {
                to--; // keep a surrogate pair in one slice
            }
            encode(text, from, to);
            flush();
            from = to;
        }
        buffer.put((byte) '\n');
    }

    /** UTF-8, with room checked by the caller (3 bytes per char at most); a lone surrogate becomes '?'. */
    private void encode(CharSequence text, int from, int to) {
        byte[] bytes = buffer.array();
        int at = buffer.position();
        for (int i = from; i < to; i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                bytes[at++] = (byte) c;
            } else if (c < 0x800) {
                bytes[at++] = (byte) (0xc0 | (c >> 6));
                bytes[at++] = (byte) (0x80 | (c & 0x3f));
            } else if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < to && Character.isLowSurrogate(text.charAt(i + 1))) {
                    int cp = Character.toCodePoint(c, text.charAt(++i));
                    bytes[at++] = (byte) (0xf0 | (cp >> 18));
                    bytes[at++] = (byte) (0x80 | ((cp >> 12) & 0x3f));
                    bytes[at++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
                    bytes[at++] = (byte) (0x80 | (cp & 0x3f));
                } else {
                    bytes[at++] = '?';
                }
            } else {
                bytes[at++] = (byte) (0xe0 | (c >> 12));
                bytes[at++] = (byte) (0x80 | ((c >> 6) & 0x3f));
                bytes[at++] = (byte) (0x80 | (c & 0x3f));
            }
        }
        buffer.position(at);
    }

    /** Writes what is gathered; then, at most once per second, opens the file again if it was rotated away. */
    @Override
    public void flush() {
        buffer.flip();
        try {
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("access log: cannot write to " + target.configName(), e);
        } finally {
            buffer.clear();
        }
        if (openFileKey != null) {
            long now = System.nanoTime();
            if (now - lastCheckNanos >= REOPEN_CHECK_NANOS) {
                lastCheckNanos = now;
                reopenIfRotated();
            }
        }
    }

    private void reopenIfRotated() {
        Object current;
        try {
            current = fileKey(target.file());
        } catch (NoSuchFileException e) {
            current = null;
        } catch (IOException e) {
            return; // cannot tell: keep writing where we are
        }
        if (openFileKey.equals(current)) {
            return;
        }
        WritableByteChannel rotated = channel;
        try {
            open();
        } catch (IOException e) {
            channel = rotated; // keep writing to the renamed file rather than nowhere
            throw new UncheckedIOException("access log: cannot open " + target.file() + " again after rotation", e);
        }
        try {
            rotated.close();
        } catch (IOException e) {
            // its lines were written; nothing left to lose
        }
    }

    @Override
    public void close() {
        try {
            flush();
        } finally {
            if (openFileKey != null) {
                try {
                    channel.close();
                } catch (IOException e) {
                    // the lines were written; nothing left to lose
                }
            }
        }
    }
}
