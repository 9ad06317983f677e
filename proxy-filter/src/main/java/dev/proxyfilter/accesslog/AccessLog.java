package dev.proxyfilter.accesslog;

import dev.proxyfilter.config.AccessLogFormat;
import dev.proxyfilter.config.AccessLogTarget;
import dev.proxyfilter.metrics.ProxyMetrics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per request, NCSA combined plus the proxy's own fields or a JSON object, through the SLF4J logger
 * {@code dev.proxyfilter.access} or written directly to stdout, stderr or a file ({@link AccessLogTarget},
 * {@code log.access.to}); one instance per engine.
 *
 * <p><b>Why a queue.</b> Formatting a line (a date, numbers, escaping) and writing it (an appender's lock, a
 * write to a pipe or a file, which blocks when the reader or the disk is slow) costs microseconds, sometimes
 * milliseconds, and the thread that ends an exchange is a selector or request thread with other work waiting.
 * So {@link #log} only offers the {@link Entry}, made of values that no longer change, to a bounded queue; one
 * daemon thread per engine formats and writes. When the queue is full (the writer or its disk cannot keep up)
 * the line is dropped and counted ({@code proxyfilter_access_log_dropped_total}): the access log never blocks or
 * slows a request, and holds at most {@link #DEFAULT_CAPACITY} entries.
 *
 * <p><b>Batches.</b> After writing what is queued, the writer sleeps {@link #BATCH_WINDOW} before it looks again,
 * so under load it wakes a few hundred times a second whatever the request rate, and a request's offer never has
 * to wake it (an {@link ArrayBlockingQueue} signals only a waiting taker). Idle, it waits on the queue.
 *
 * <p><b>Sinks.</b> Through the logger, each line is a logging event that the provider lays out and writes (with
 * Logback's console appender, one {@code write} per line). Written directly ({@link DirectSink}), lines are
 * encoded into one reused buffer and written once per batch: the writer thread then costs a fraction of a
 * microsecond per line instead of several.
 *
 * <p><b>Lifecycle.</b> The engine starts it ({@link #start}) and closes it after its in-flight exchanges ended:
 * {@link #close} writes what is queued within {@link #CLOSE_TIMEOUT}. A line logged after that (an exchange cut
 * by the close that ends late) is written on the caller's thread.
 */
public final class AccessLog implements AutoCloseable {
    static final Logger LOG = LoggerFactory.getLogger("dev.proxyfilter.access");
    private static final Logger SELF = LoggerFactory.getLogger(AccessLog.class);
    private static final DateTimeFormatter NCSA =
            DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT).withZone(ZoneOffset.UTC);

    /** Entries the queue holds: about 0.4 s of 20,000 requests/s, a few MiB of heap at worst. */
    public static final int DEFAULT_CAPACITY = 8192;

    /** How long the writer lets lines gather after a batch. */
    static final Duration BATCH_WINDOW = Duration.ofMillis(2);

    /** How long {@link #close} waits for the writer to write what is queued. */
    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(2);

    private static final int BATCH = 256;
    /** Room for a usual line: the writer's builder starts this large, so that it rarely grows. */
    private static final int LINE_CAPACITY = 256;

    private static final AtomicInteger WRITERS = new AtomicInteger();

    /** A queued line: its format and its entry. */
    private record Line(AccessLogFormat format, Entry entry) {}

    /** Wakes the writer at close. */
    private static final Line CLOSE = new Line(AccessLogFormat.OFF, null);

    /**
     * Where the writer puts formatted lines: {@link #line} may gather them, {@link #flush} ends a batch. Used by
     * one thread at a time (the writer, then whoever writes after {@link #close}).
     */
    interface Sink {
        void line(CharSequence text);

        default void flush() {}

        default void close() {}
    }

    /** Through the SLF4J logger: one logging event per line. */
    private static final Sink LOGGER = text -> LOG.info(text.toString());

    private final BlockingQueue<Line> queue;
    private final Sink sink;
    /** Whether lines are written whatever the logger's level: the target is not the logger. */
    private final boolean direct;

    private final LongAdder dropped = new LongAdder();
    private final AtomicBoolean warnedOfFailure = new AtomicBoolean();
    /** Lines a direct sink gathered since its last flush: lost with it if that write fails. */
    private int gathered;

    private final Thread writer;
    private volatile boolean closed;
    /** Set once the writer ended at close: a direct sink may then be used by other threads, one at a time. */
    private volatile boolean writerEnded;

    /** A log of {@code capacity} queued lines whose writer hands each formatted line to {@code sink}. */
    AccessLog(int capacity, Consumer<String> sink) {
        this(capacity, text -> sink.accept(text.toString()), false);
    }

    AccessLog(int capacity, Sink sink, boolean direct) {
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.sink = sink;
        this.direct = direct;
        this.writer = new Thread(this::writeUntilClosed, "proxy-access-log-" + WRITERS.incrementAndGet());
        writer.setDaemon(true);
        writer.start();
    }

    /**
     * Starts the access log of an engine, writing to {@code target}, and registers its metrics
     * ({@code proxy.access_log.dropped}, {@code proxy.access_log.queued}).
     *
     * @throws UncheckedIOException when the target is a file that cannot be opened for appending
     */
    public static AccessLog start(ProxyMetrics metrics, AccessLogTarget target) {
        AccessLog log;
        if (target.kind() == AccessLogTarget.Kind.LOGGER) {
            log = new AccessLog(DEFAULT_CAPACITY, LOGGER, false);
        } else {
            try {
                log = new AccessLog(DEFAULT_CAPACITY, new DirectSink(target), true);
            } catch (IOException e) {
                throw new UncheckedIOException(
                        "log.access.to=" + target.configName() + ": cannot open the file for appending (" + e + ")", e);
            }
        }
        metrics.gauge("proxy.access_log.dropped", log::dropped);
        metrics.gauge("proxy.access_log.queued", log::queued);
        return log;
    }

    /**
     * What one exchange did. {@code time} is when it ended, on the engine's clock; {@code backend} is
     * "pool/name" or "-"; durations are in nanoseconds, -1 if none.
     */
    public record Entry(
            Instant time,
            String clientIp,
            String method,
            String path,
            String query,
            String protocol,
            int status,
            long bytes,
            long totalNanos,
            String backend,
            long upstreamNanos,
            int retries,
            String cache,
            String referer,
            String userAgent) {}

    /**
     * Whether a line of this format would be written: the format is not {@code off}, and the lines are written
     * directly or the logger logs INFO.
     */
    public boolean enabled(AccessLogFormat format) {
        return format != AccessLogFormat.OFF && (direct || LOG.isInfoEnabled());
    }

    /**
     * Queues one line, to be formatted and written by the writer thread; never blocks. A full queue drops it and
     * counts it in {@link #dropped}.
     */
    public void log(AccessLogFormat format, Entry entry) {
        Line line = new Line(format, entry);
        if (closed && (writerEnded || !direct)) {
            write(line);
        } else if (!queue.offer(line)) { // a direct sink is the writer's until it ended: close() writes the rest
            dropped.increment();
        }
    }

    /** Lines lost so far: dropped on a full queue, or refused by the logging backend. */
    public long dropped() {
        return dropped.sum();
    }

    /** Lines waiting for the writer now. */
    public int queued() {
        return queue.size();
    }

    /**
     * Writes what is queued and stops the writer, waiting at most {@link #CLOSE_TIMEOUT}; later lines are written
     * on their caller's thread through the logger or to stdout/stderr, and counted as lost for a file, which is
     * closed by now. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        queue.offer(CLOSE); // when the queue is full the writer is busy, and sees closed after its batch
        LockSupport.unpark(writer); // cut its batch window short
        try {
            writer.join(CLOSE_TIMEOUT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (writer.isAlive()) {
            SELF.warn(
                    "access log writer still busy after {} ms (a blocked log appender?); {} line(s) not written",
                    CLOSE_TIMEOUT.toMillis(),
                    queue.stream().filter(line -> line != CLOSE).count());
            return;
        }
        writerEnded = true;
        // Lines offered between the writer's last look and the closed flag.
        for (Line line = queue.poll(); line != null; line = queue.poll()) {
            write(line);
        }
        try {
            sink.close();
        } catch (RuntimeException e) {
            SELF.warn("access log could not be closed cleanly", e);
        }
    }

    private void writeUntilClosed() {
        List<Line> batch = new ArrayList<>(BATCH);
        // The writer's own builder, reused line after line: a line then allocates only its String.
        StringBuilder text = new StringBuilder(LINE_CAPACITY);
        while (true) {
            Line first;
            try {
                first = queue.take();
            } catch (InterruptedException e) {
                continue; // nobody but close() stops the writer, and close() does not interrupt
            }
            write(first, text);
            while (queue.drainTo(batch, BATCH) > 0) {
                for (Line line : batch) {
                    write(line, text);
                }
                batch.clear();
            }
            flush();
            if (closed) {
                return;
            }
            LockSupport.parkNanos(BATCH_WINDOW.toNanos());
        }
    }

    /** A line written after {@link #close}, on the caller's thread, at once. */
    private synchronized void write(Line line) {
        write(line, new StringBuilder(LINE_CAPACITY));
        flush();
    }

    /** Ends a batch: a direct sink writes what it gathered. */
    private void flush() {
        try {
            sink.flush();
        } catch (RuntimeException e) {
            lost(0, e);
        }
        gathered = 0;
    }

    /** Counts the lines a failed write lost: {@code failed} more than those gathered since the last flush. */
    private void lost(int failed, RuntimeException e) {
        dropped.add(failed + (direct ? gathered : 0));
        gathered = 0;
        if (warnedOfFailure.compareAndSet(false, true)) {
            SELF.warn("access log line(s) could not be written; counting lost lines from now on", e);
        }
    }

    /** Formats into {@code text} (cleared first) and writes the line. */
    private void write(Line line, StringBuilder text) {
        if (line == CLOSE) {
            return;
        }
        try {
            text.setLength(0);
            if (line.format() == AccessLogFormat.JSON) {
                json(text, line.entry());
            } else {
                combined(text, line.entry());
            }
            sink.line(text);
            gathered++;
            if (text.length() > LINE_CAPACITY * 4) {
                // one long line (a long URI) does not keep its builder for the writer's lifetime
                text.setLength(0);
                text.trimToSize();
                text.ensureCapacity(LINE_CAPACITY);
            }
        } catch (RuntimeException e) {
            lost(1, e);
        }
    }

    static String combined(Entry e) {
        return combined(new StringBuilder(LINE_CAPACITY), e).toString();
    }

    /** Appends the combined line of {@code e} to {@code line}. */
    static StringBuilder combined(StringBuilder line, Entry e) {
        line.append(e.clientIp())
                .append(" - - [")
                .append(ncsaTime(e.time()))
                .append("] \"")
                .append(e.method())
                .append(' ')
                .append(escapeQuoted(e.path()));
        if (e.query() != null) {
            line.append('?').append(escapeQuoted(e.query()));
        }
        line.append(' ').append(e.protocol()).append("\" ").append(e.status()).append(' ');
        if (e.bytes() > 0) {
            line.append(e.bytes());
        } else {
            line.append('-');
        }
        line.append(" \"")
                .append(e.referer() == null ? "-" : escapeQuoted(e.referer()))
                .append("\" \"")
                .append(e.userAgent() == null ? "-" : escapeQuoted(e.userAgent()))
                .append('"')
                .append(" rt=");
        thousandths(line, e.totalNanos(), 1_000_000);
        line.append(" backend=").append(e.backend()).append(" urt=");
        if (e.upstreamNanos() < 0) {
            line.append('-');
        } else {
            thousandths(line, e.upstreamNanos(), 1_000_000);
        }
        line.append(" retries=").append(e.retries()).append(" cache=").append(e.cache() == null ? "-" : e.cache());
        return line;
    }

    static String json(Entry e) {
        return json(new StringBuilder(LINE_CAPACITY), e).toString();
    }

    /** Appends the JSON object of {@code e} to {@code json}. */
    static StringBuilder json(StringBuilder json, Entry e) {
        json.append('{');
        field(json, "time", isoTime(e.time())).append(',');
        field(json, "client", e.clientIp()).append(',');
        field(json, "method", e.method()).append(',');
        field(json, "path", e.path()).append(',');
        field(json, "query", e.query()).append(',');
        field(json, "protocol", e.protocol()).append(',');
        json.append("\"status\":").append(e.status()).append(',');
        json.append("\"bytes\":").append(e.bytes()).append(',');
        json.append("\"duration_ms\":");
        thousandths(json, e.totalNanos(), 1_000).append(',');
        field(json, "backend", e.backend()).append(',');
        json.append("\"upstream_ms\":");
        if (e.upstreamNanos() < 0) {
            json.append("null");
        } else {
            thousandths(json, e.upstreamNanos(), 1_000);
        }
        json.append(',');
        json.append("\"retries\":").append(e.retries()).append(',');
        field(json, "cache", e.cache()).append(',');
        field(json, "referer", e.referer()).append(',');
        field(json, "user_agent", e.userAgent());
        return json.append('}');
    }

    private static StringBuilder field(StringBuilder json, String name, String value) {
        json.append('"').append(name).append("\":");
        if (value == null) {
            return json.append("null");
        }
        json.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> json.append("\\\"");
                case '\\' -> json.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        json.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        json.append(c);
                    }
                }
            }
        }
        return json.append('"');
    }

    /** Quotes and control characters in a logged field would let a client forge log lines. */
    private static String escapeQuoted(String text) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f) {
                if (out == null) {
                    out = new StringBuilder(text.length() + 8).append(text, 0, i);
                }
                out.append(String.format(Locale.ROOT, "\\x%02x", (int) c));
            } else if (out != null) {
                out.append(c);
            }
        }
        return out == null ? text : out.toString();
    }

    /**
     * Appends {@code nanos / (1000 * unitNanos)} with three decimals, rounded half up, as {@code %.3f} would
     * print it: seconds for {@code unitNanos} 1,000,000, milliseconds for 1,000. No {@code String.format},
     * which cost about a microsecond per field, on the writer thread, for every line.
     */
    static StringBuilder thousandths(StringBuilder out, long nanos, long unitNanos) {
        if (nanos < 0) {
            return out.append(String.format(Locale.ROOT, "%.3f", nanos / (unitNanos * 1000.0)));
        }
        long units = nanos / unitNanos + (nanos % unitNanos >= unitNanos / 2 ? 1 : 0);
        long fraction = units % 1000;
        out.append(units / 1000).append('.');
        if (fraction < 100) {
            out.append(fraction < 10 ? "00" : "0");
        }
        return out.append(fraction);
    }

    /** The last second formatted, reused by the lines of the same second: formatting a date costs more. */
    private record FormattedSecond(long epochSecond, String text) {}

    private static volatile FormattedSecond lastSecond = new FormattedSecond(Long.MIN_VALUE, "");

    private static volatile FormattedSecond lastIsoSecond = new FormattedSecond(Long.MIN_VALUE, "");

    /** {@link Instant#toString()}, with the whole second formatted once per second. */
    static String isoTime(Instant time) {
        FormattedSecond last = lastIsoSecond;
        long second = time.getEpochSecond();
        if (last.epochSecond() != second) {
            String whole = Instant.ofEpochSecond(second).toString(); // ends with 'Z'
            last = new FormattedSecond(second, whole.substring(0, whole.length() - 1));
            lastIsoSecond = last;
        }
        int nanos = time.getNano();
        if (nanos == 0) {
            return last.text() + 'Z';
        }
        // As Instant.toString: 3, 6 or 9 digits, whichever shows every nonzero one.
        StringBuilder out =
                new StringBuilder(last.text().length() + 11).append(last.text()).append('.');
        if (nanos % 1_000_000 == 0) {
            pad(out, nanos / 1_000_000, 3);
        } else if (nanos % 1000 == 0) {
            pad(out, nanos / 1000, 6);
        } else {
            pad(out, nanos, 9);
        }
        return out.append('Z').toString();
    }

    private static void pad(StringBuilder out, int value, int digits) {
        String text = Integer.toString(value);
        for (int i = text.length(); i < digits; i++) {
            out.append('0');
        }
        out.append(text);
    }

    static String ncsaTime(Instant time) {
        FormattedSecond last = lastSecond;
        long second = time.getEpochSecond();
        if (last.epochSecond() != second) {
            last = new FormattedSecond(second, NCSA.format(time));
            lastSecond = last;
        }
        return last.text();
    }
}
