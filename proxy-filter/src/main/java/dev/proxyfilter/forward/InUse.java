package dev.proxyfilter.forward;

/**
 * What an engine holds for exchanges now ({@link ProxyEngine#inUse()}): all zero once every exchange ended,
 * however it ended. Tests check it after each test, as OkHttp's {@code ensureAllConnectionsReleased} does.
 *
 * @param exchanges exchanges in flight (forwarded, answered from the cache, refused, not ended yet)
 * @param backendRequests requests counted in flight on a backend of the serving generation
 * @param queued requests waiting in a pool's queue for a backend with room
 * @param busyConnections upstream connections carrying an exchange or opening for one
 * @param waitingForConnection exchanges waiting for an upstream connection (or an HTTP/2 stream)
 * @param tunnels WebSocket tunnels open (each also counts as a request in flight on its backend), or opening
 *     for an upgrade in flight
 * @param streams HTTP/2 streams open to backends
 */
public record InUse(
        int exchanges,
        int backendRequests,
        int queued,
        int busyConnections,
        int waitingForConnection,
        int tunnels,
        int streams) {
    /** Whether nothing is held. */
    public boolean none() {
        return exchanges == 0
                && backendRequests == 0
                && queued == 0
                && busyConnections == 0
                && waitingForConnection == 0
                && tunnels == 0
                && streams == 0;
    }
}
