package dev.proxyfilter.health;

import dev.proxyfilter.balance.Backend;
import dev.proxyfilter.balance.FailureKind;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.util.concurrent.TimeoutException;

/**
 * What each attempt tells its backend's health (outlier ejection, {@link dev.proxyfilter.balance.BackendHealth}):
 * the status of a response, or a failure before any response. Kept out of {@link Forwarding}, which calls it
 * once per outcome, so that the pipeline stays about forwarding.
 */
public final class PassiveHealth {
    private PassiveHealth() {}

    /** The backend answered {@code status}: 502, 503 and 504 count as failures, anything else as a success. */
    public static void responded(Backend backend, int status) {
        backend.health().onResponseStatus(status);
    }

    /**
     * The attempt failed before the response headers. Not the backend's fault, and not counted, when the
     * proxy aborted the request itself because the client went away; a timeout is counted even though
     * Jetty reports it as an abort.
     */
    public static void failed(Backend backend, boolean abortedByProxy, Throwable failure) {
        if (abortedByProxy && !isTimeout(failure)) {
            return;
        }
        String message = failure.getMessage();
        backend.health()
                .onFailure(kindOf(failure), message == null ? failure.getClass().getSimpleName() : message);
    }

    static FailureKind kindOf(Throwable failure) {
        // As Forwarding's neverReachedBackend: these failures happen before a byte reaches the backend.
        if (failure instanceof ConnectException
                || failure instanceof NoRouteToHostException
                || failure instanceof UnresolvedAddressException
                || (failure instanceof SocketTimeoutException
                        && String.valueOf(failure.getMessage()).contains("Connect"))) {
            return FailureKind.CONNECT;
        }
        return isTimeout(failure) ? FailureKind.TIMEOUT : FailureKind.RESET;
    }

    private static boolean isTimeout(Throwable failure) {
        return failure instanceof TimeoutException || failure instanceof SocketTimeoutException;
    }
}
