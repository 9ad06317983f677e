package dev.proxyfilter.cache;

import org.eclipse.jetty.http.HttpDateTime;

/** HTTP-date parsing (RFC 9110 §5.6.7) through Jetty, which reads all three historical formats. */
final class HttpDates {
    /** What {@link #parse} returns for an absent or invalid date. */
    static final long INVALID = Long.MIN_VALUE;

    private HttpDates() {}

    /** Epoch millis of an HTTP-date, or {@link #INVALID}; {@code "0"} and other garbage are invalid. */
    static long parse(String value) {
        if (value == null || value.isEmpty()) {
            return INVALID;
        }
        try {
            long millis = HttpDateTime.parseToEpoch(value);
            return millis == -1 ? INVALID : millis;
        } catch (RuntimeException e) {
            return INVALID;
        }
    }
}
