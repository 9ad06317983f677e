package dev.proxyfilter.balance;

/** How a request to a backend failed, as the engine reports it to {@link BackendHealth#onFailure}. */
public enum FailureKind {
    /** No connection: refused, unreachable, or the connect timed out. */
    CONNECT,
    /** The connection failed or closed before the response headers. */
    RESET,
    /** No response headers in time. */
    TIMEOUT,
    /** The backend answered 502, 503 or 504: it says it cannot serve. */
    GATEWAY_ERROR;

    /** Whether a response status counts as {@link #GATEWAY_ERROR}. */
    public static boolean isGatewayError(int status) {
        return status == 502 || status == 503 || status == 504;
    }
}
