package dev.proxyfilter.forward;

import dev.proxyfilter.route.PathNormalizer;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.PreEncodedHttpField;

/**
 * Step 1 of the pipeline, before routing, the same in every adapter: {@code CONNECT} is refused (the proxy
 * opens no tunnels to an address the client names, whatever the routes say) unless it is RFC 8441's extended
 * {@code CONNECT} for WebSocket ({@link ExtendedConnect}), which goes on to routing; and the path is normalised
 * by {@link PathNormalizer}, so that routes, access rules and the backend all see one path. Also the answers to
 * a request no route takes.
 */
final class StrictChecks {
    /** The methods the proxy forwards, for the {@code Allow} header of a 405. */
    static final String ALLOW = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE";

    private static final HttpFields ALLOW_FIELDS = HttpFields.build()
            .add(new PreEncodedHttpField(HttpHeader.ALLOW, ALLOW))
            .asImmutable();

    private StrictChecks() {}

    static boolean isTunnel(String method) {
        return "CONNECT".equals(method);
    }

    /** The normalised path, or {@code null} when it cannot be normalised safely. */
    static String normalisedPath(String rawPath) {
        return PathNormalizer.normalize(rawPath == null || rawPath.isEmpty() ? "/" : rawPath);
    }

    /**
     * 405 for a plain {@code CONNECT}; 501 for an extended one ({@code protocol} not null) whose protocol is not
     * WebSocket, as RFC 9220 §3 asks of a server that advertises extended {@code CONNECT}.
     */
    static void refuseTunnel(ClientExchange exchange, String protocol) {
        if (protocol == null) {
            exchange.sendError(405, "Method Not Allowed: this proxy opens no tunnels", ALLOW_FIELDS);
        } else {
            exchange.sendError(501, "Not Implemented: extended CONNECT tunnels WebSocket only");
        }
    }

    static void refusePath(ClientExchange exchange) {
        exchange.sendError(400, "Bad Request: the request path cannot be normalised safely");
    }

    /** 404 when some route serves the host, else 403: this proxy is no open proxy. */
    static void refuseUnrouted(ClientExchange exchange, boolean hostServed) {
        if (hostServed) {
            exchange.sendError(404, "Not Found: no route for this host and path");
        } else {
            exchange.sendError(403, "Forbidden: no route serves this host; this is no open proxy");
        }
    }
}
