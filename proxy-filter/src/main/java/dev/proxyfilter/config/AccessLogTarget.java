package dev.proxyfilter.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where the access log's lines go ({@code log.access.to}): through the SLF4J logger {@code dev.proxyfilter.access}
 * (the logging provider's appenders, layout and rotation), or written directly, as bare lines in batches, to the
 * process's standard output or error or to a file, which costs a request far less (no logging event, no layout,
 * one {@code write} per batch instead of per line).
 *
 * @param kind where
 * @param file the file, absolute, for {@link Kind#FILE}; null otherwise
 */
public record AccessLogTarget(Kind kind, Path file) {
    /** Where the lines go. */
    public enum Kind {
        /** The SLF4J logger {@code dev.proxyfilter.access}. */
        LOGGER,
        /** The process's standard output, directly. */
        STDOUT,
        /** The process's standard error, directly. */
        STDERR,
        /** A file, appended to directly, and opened again when it is renamed or deleted (log rotation). */
        FILE
    }

    public static final AccessLogTarget LOGGER = new AccessLogTarget(Kind.LOGGER, null);
    public static final AccessLogTarget STDOUT = new AccessLogTarget(Kind.STDOUT, null);
    public static final AccessLogTarget STDERR = new AccessLogTarget(Kind.STDERR, null);

    public AccessLogTarget {
        Objects.requireNonNull(kind, "kind");
        if ((kind == Kind.FILE) != (file != null)) {
            throw new IllegalArgumentException("file: " + file + " (expected: a file for FILE alone)");
        }
        if (file != null && !file.isAbsolute()) {
            throw new IllegalArgumentException("file: " + file + " (expected: an absolute path)");
        }
    }

    /** A file target. */
    public static AccessLogTarget file(Path file) {
        return new AccessLogTarget(Kind.FILE, file);
    }

    /** The value of {@code log.access.to} that names this target. */
    public String configName() {
        return kind == Kind.FILE ? file.toString() : kind.name().toLowerCase(java.util.Locale.ROOT);
    }
}
