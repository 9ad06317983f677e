package dev.proxyfilter.config;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * When a failed exchange is tried again on another backend ({@code route.NAME.retries},
 * {@code .per-try-timeout}, {@code .retry-on}, defaults from {@code proxy.*}).
 *
 * <p>Whatever the conditions, a retry only happens before any response byte reached the client, never
 * after a request body started to be sent, and for a non-idempotent method only when the request
 * never reached the backend (a connect failure).
 *
 * @param retries       tries after the first, 0..10
 * @param perTryTimeout limit of one try, {@link Duration#ZERO} for none (the route's total timeout still applies)
 * @param retryOn       the failures that allow a retry
 */
public record RetryConfig(int retries, Duration perTryTimeout, Set<RetryOn> retryOn) {
    /** What {@code proxy.retries} and friends default to: one retry on a connect failure or a reset. */
    public static final RetryConfig DEFAULT =
            new RetryConfig(1, Duration.ZERO, EnumSet.of(RetryOn.CONNECT_FAILURE, RetryOn.RESET));

    /** The failures {@code retry-on} can name. */
    public enum RetryOn {
        /** The connection to the backend could not be opened (refused, unreachable, connect timeout). */
        CONNECT_FAILURE("connect-failure"),
        /** The connection failed before the response headers (reset, closed, a stale keep-alive connection). */
        RESET("reset"),
        /** A try ran out of its {@code per-try-timeout}; idempotent methods only. */
        TIMEOUT("timeout"),
        /** The backend answered 502; idempotent methods only. */
        STATUS_502("502"),
        /** The backend answered 503; idempotent methods only. */
        STATUS_503("503"),
        /** The backend answered 504; idempotent methods only. */
        STATUS_504("504");

        private final String configName;

        RetryOn(String configName) {
            this.configName = configName;
        }

        /** The name used in {@code retry-on}. */
        public String configName() {
            return configName;
        }

        /** The condition with this configuration name, or null. */
        public static RetryOn fromConfigName(String name) {
            for (RetryOn on : values()) {
                if (on.configName.equals(name)) {
                    return on;
                }
            }
            return null;
        }

        /** The retry-on condition for a backend status, or null when that status never allows a retry. */
        public static RetryOn forStatus(int status) {
            return switch (status) {
                case 502 -> STATUS_502;
                case 503 -> STATUS_503;
                case 504 -> STATUS_504;
                default -> null;
            };
        }
    }

    public RetryConfig {
        Objects.requireNonNull(perTryTimeout, "perTryTimeout");
        if (retries < 0 || retries > 10) {
            throw new IllegalArgumentException("retries: " + retries + " (expected: 0..10)");
        }
        if (perTryTimeout.isNegative()) {
            throw new IllegalArgumentException("perTryTimeout: " + perTryTimeout + " (expected: >= 0)");
        }
        retryOn = retryOn.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(retryOn));
    }

    /** Whether {@code on} allows a retry. */
    public boolean on(RetryOn on) {
        return retryOn.contains(on);
    }
}
