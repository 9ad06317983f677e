package dev.proxyfilter.balance;

/**
 * What a backend is doing, as {@link BackendHealth#state()} reports it. When several apply, the first in
 * this order's reverse wins: a disabled backend that also fails its checks is {@link #DISABLED}.
 */
public enum BackendState {
    /** Takes new requests. */
    UP,
    /** Out by ejection: too many failed requests in a row; readmitted when the ejection time is over. */
    EJECTED,
    /** Out by active health checks: {@code fall} failed checks in a row; back after {@code rise} passed ones. */
    DOWN,
    /** Finishes the requests it has, takes no new one and no new sticky session: {@link Backend#drain()}. */
    DRAINING,
    /** Out by the operator: {@link Backend#disable()}. */
    DISABLED
}
