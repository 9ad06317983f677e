package dev.proxyfilter.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Active health checks of a pool, {@code pool.NAME.health.*}: every {@code interval} each backend gets
 * {@code GET <url><path>} with its own Host; a check passes when the status is in
 * {@code expectedStatus} within {@code timeout}. As in HAProxy, a backend starts UP, goes DOWN after
 * {@code fall} failed checks in a row and comes back UP after {@code rise} passed checks in a row.
 *
 * @param path           path (and optional query) of the check, starting with "/"
 * @param interval       time between the start of two checks of one backend, &gt; 0
 * @param timeout        longest a check may take, connect included, &gt; 0
 * @param expectedStatus the statuses that pass
 * @param rise           passed checks in a row that bring a DOWN backend back, &gt;= 1
 * @param fall           failed checks in a row that take an UP backend down, &gt;= 1
 */
public record ActiveCheckConfig(
        String path, Duration interval, Duration timeout, StatusRange expectedStatus, int rise, int fall) {
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);
    public static final StatusRange DEFAULT_EXPECTED_STATUS = new StatusRange(200, 399);
    public static final int DEFAULT_RISE = 2;
    public static final int DEFAULT_FALL = 3;

    public ActiveCheckConfig {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(interval, "interval");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(expectedStatus, "expectedStatus");
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("path: " + path + " (expected: starts with /)");
        }
        if (interval.isNegative() || interval.isZero() || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException(
                    "interval and timeout: " + interval + ", " + timeout + " (expected: > 0)");
        }
        if (rise < 1 || fall < 1) {
            throw new IllegalArgumentException("rise and fall: " + rise + ", " + fall + " (expected: >= 1)");
        }
    }

    /** Checks of {@code path} with every other setting at its default. */
    public static ActiveCheckConfig of(String path) {
        return new ActiveCheckConfig(
                path, DEFAULT_INTERVAL, DEFAULT_TIMEOUT, DEFAULT_EXPECTED_STATUS, DEFAULT_RISE, DEFAULT_FALL);
    }

    /**
     * The statuses a check accepts, {@code pool.NAME.health.expected-status}: {@code 200-399} or a single
     * {@code 204}.
     *
     * @param min lowest accepted status, 100..599
     * @param max highest accepted status, {@code min}..599
     */
    public record StatusRange(int min, int max) {
        public StatusRange {
            if (min < 100 || max > 599 || min > max) {
                throw new IllegalArgumentException(
                        "status range: " + min + "-" + max + " (expected: 100..599, min <= max)");
            }
        }

        /** Whether {@code status} is in the range. */
        public boolean contains(int status) {
            return status >= min && status <= max;
        }

        /** The configuration form: {@code 200-399}, or {@code 204} for a single status. */
        @Override
        public String toString() {
            return min == max ? Integer.toString(min) : min + "-" + max;
        }
    }
}
