package dev.proxyfilter.forward;

import dev.proxyfilter.config.RetryConfig;
import dev.proxyfilter.upstream.UpstreamExchange;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * Step 9 of the pipeline, as pure rules: whether a failed try may be tried again on another backend, and
 * which status a failure that is not retried becomes. No state of its own beyond the route's {@code retry-on},
 * {@code retries} and {@code per-try-timeout}; the caller says what happened so far. Whether a retry happens
 * also needs the pool's retry budget and a backend with room, which {@link Forwarding} asks {@link PoolGate}.
 *
 * <ul>
 *   <li>A connection that was never made ({@code connect-failure}) may be retried for any method, POST
 *       included: the request cannot have reached the backend. So may an HTTP/2 stream the backend did not
 *       process (refused, or above its {@code GOAWAY}'s last stream), once the upstream's own resends ran out.
 *   <li>Otherwise only idempotent methods (RFC 9110 section 9.2.2) are retried: after a reset
 *       ({@code reset}), after the try's own per-try timeout ({@code timeout}), or after a backend's 502, 503
 *       or 504 ({@code 502}, {@code 503}, {@code 504}).
 *   <li>Never once a request body byte was read, once the route's total timeout passed, or past
 *       {@code retries} tries after the first.
 * </ul>
 */
final class RetryPolicy {
    private final RetryConfig config;

    RetryPolicy(RetryConfig config) {
        this.config = config;
    }

    /** The route's retry settings. */
    RetryConfig config() {
        return config;
    }

    /**
     * Whether a try that failed with {@code failure} before the response started may be retried.
     *
     * @param tries tries made so far, the failed one included
     * @param bodyStarted whether a byte of the request body was read
     * @param deadlinePassed whether the route's total timeout passed
     * @param perTryTimeout whether a timeout of this try was its per-try timeout (not the total one)
     */
    boolean retriesFailure(
            String method,
            int tries,
            boolean bodyStarted,
            boolean deadlinePassed,
            Throwable failure,
            boolean perTryTimeout) {
        if (tries > config.retries() || bodyStarted || deadlinePassed) {
            return false;
        }
        if (neverReachedBackend(failure)) {
            return config.on(RetryConfig.RetryOn.CONNECT_FAILURE); // safe for any method, POST included
        }
        if (!UpstreamExchange.isIdempotent(method)) {
            return false;
        }
        if (failure instanceof TimeoutException) {
            return perTryTimeout && config.on(RetryConfig.RetryOn.TIMEOUT);
        }
        return config.on(RetryConfig.RetryOn.RESET);
    }

    /**
     * Whether a backend's {@code status} is given up for another try, as far as the rules go (the caller adds
     * the retry budget and whether an untried backend is left).
     */
    boolean retriesStatus(int status, String method, int tries, boolean bodyStarted, boolean deadlinePassed) {
        RetryConfig.RetryOn on = RetryConfig.RetryOn.forStatus(status);
        return on != null
                && config.on(on)
                && UpstreamExchange.isIdempotent(method)
                && tries <= config.retries()
                && !bodyStarted
                && !deadlinePassed;
    }

    /**
     * Whether a retry may go back to a backend already tried: only after a failure that says nothing about the
     * backend itself (a reset of a reused connection), never after a connect failure or a timeout.
     */
    static boolean mayRetrySameBackend(Throwable failure) {
        return !neverReachedBackend(failure) && !(failure instanceof TimeoutException);
    }

    /** Whether the failure happened before the request could reach the backend: no connection was made. */
    static boolean neverReachedBackend(Throwable failure) {
        return failure instanceof ConnectException
                || failure instanceof dev.proxyfilter.upstream.StreamRefusedException // HTTP/2: not processed
                || failure instanceof NoRouteToHostException
                || failure instanceof UnresolvedAddressException
                || (failure instanceof SocketTimeoutException
                        && String.valueOf(failure.getMessage()).contains("Connect"));
    }

    /** Jetty's {@code proxyResponseStatus}: 504 for a timeout, 503 for a full queue, else 502. */
    static int statusFor(Throwable failure) {
        if (failure instanceof TimeoutException || failure instanceof SocketTimeoutException) {
            return 504;
        }
        if (failure instanceof RejectedExecutionException) {
            return 503;
        }
        return 502;
    }
}
