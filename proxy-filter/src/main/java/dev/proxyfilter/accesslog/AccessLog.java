package dev.proxyfilter.accesslog;

import dev.proxyfilter.config.AccessLogFormat;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per request through the SLF4J logger {@code dev.proxyfilter.access}: NCSA combined plus the
 * proxy's own fields, or a JSON object. Nothing is formatted when the logger is off.
 */
public final class AccessLog {
    static final Logger LOG = LoggerFactory.getLogger("dev.proxyfilter.access");
    private static final DateTimeFormatter NCSA =
            DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT).withZone(ZoneOffset.UTC);

    private AccessLog() {}

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

    public static boolean enabled(AccessLogFormat format) {
        return format != AccessLogFormat.OFF && LOG.isInfoEnabled();
    }

    public static void log(AccessLogFormat format, Entry e) {
        LOG.info(format == AccessLogFormat.JSON ? json(e) : combined(e));
    }

    static String combined(Entry e) {
        StringBuilder line = new StringBuilder(200);
        line.append(e.clientIp())
                .append(" - - [")
                .append(NCSA.format(e.time()))
                .append("] \"")
                .append(e.method())
                .append(' ')
                .append(escapeQuoted(e.path()));
        if (e.query() != null) {
            line.append('?').append(escapeQuoted(e.query()));
        }
        line.append(' ')
                .append(e.protocol())
                .append("\" ")
                .append(e.status())
                .append(' ')
                .append(e.bytes() > 0 ? Long.toString(e.bytes()) : "-")
                .append(" \"")
                .append(e.referer() == null ? "-" : escapeQuoted(e.referer()))
                .append("\" \"")
                .append(e.userAgent() == null ? "-" : escapeQuoted(e.userAgent()))
                .append('"')
                .append(" rt=")
                .append(seconds(e.totalNanos()))
                .append(" backend=")
                .append(e.backend())
                .append(" urt=")
                .append(e.upstreamNanos() < 0 ? "-" : seconds(e.upstreamNanos()))
                .append(" retries=")
                .append(e.retries())
                .append(" cache=")
                .append(e.cache() == null ? "-" : e.cache());
        return line.toString();
    }

    static String json(Entry e) {
        StringBuilder json = new StringBuilder(256).append('{');
        field(json, "time", e.time().toString()).append(',');
        field(json, "client", e.clientIp()).append(',');
        field(json, "method", e.method()).append(',');
        field(json, "path", e.path()).append(',');
        field(json, "query", e.query()).append(',');
        field(json, "protocol", e.protocol()).append(',');
        json.append("\"status\":").append(e.status()).append(',');
        json.append("\"bytes\":").append(e.bytes()).append(',');
        json.append("\"duration_ms\":").append(millis(e.totalNanos())).append(',');
        field(json, "backend", e.backend()).append(',');
        json.append("\"upstream_ms\":")
                .append(e.upstreamNanos() < 0 ? "null" : millis(e.upstreamNanos()))
                .append(',');
        json.append("\"retries\":").append(e.retries()).append(',');
        field(json, "cache", e.cache()).append(',');
        field(json, "referer", e.referer()).append(',');
        field(json, "user_agent", e.userAgent());
        return json.append('}').toString();
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

    private static String seconds(long nanos) {
        return String.format(Locale.ROOT, "%.3f", nanos / 1e9);
    }

    private static String millis(long nanos) {
        return String.format(Locale.ROOT, "%.3f", nanos / 1e6);
    }
}
