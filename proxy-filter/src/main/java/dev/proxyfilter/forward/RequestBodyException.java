package dev.proxyfilter.forward;

import java.util.concurrent.TimeoutException;

/** The client's request body broke a limit (413) or a deadline (408): the client's fault, not the backend's. */
final class RequestBodyException extends Exception {
    private static final long serialVersionUID = 1L;
    final int status;

    RequestBodyException(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    RequestBodyException(int status, String message, Throwable cause) {
        super(message, cause, false, false);
        this.status = status;
    }

    /** The client's body failed to arrive: 408 after a timeout, else 400; the message echoes nothing. */
    static RequestBodyException unreadable(Throwable cause) {
        RequestBodyException known = find(cause);
        if (known != null) {
            return known;
        }
        return timedOut(cause)
                ? new RequestBodyException(408, "Request Timeout: the request body stopped arriving", cause)
                : new RequestBodyException(400, "Bad Request: the request body could not be read", cause);
    }

    static RequestBodyException find(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof RequestBodyException found) {
                return found;
            }
        }
        return null;
    }

    private static boolean timedOut(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof TimeoutException) {
                return true;
            }
        }
        return false;
    }
}
