package dev.proxyfilter.servlet;

import dev.proxyfilter.route.PathNormalizer;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * What every adapter checks before routing, the same way: {@code CONNECT} is refused (the proxy opens no
 * tunnels, whatever the routes say) and the path is normalised by {@link PathNormalizer}, so that routes,
 * access rules and the backend all see one path. The engine checks framing and limits after routing.
 */
final class StrictRequests {
    /** The methods the proxy forwards, for the {@code Allow} header of a 405. */
    static final String ALLOW = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE";

    private StrictRequests() {
    }

    /**
     * The normalised path to route and forward, or {@code null} when the request was refused here: 405 for
     * {@code CONNECT}, 400 for a path that cannot be normalised safely.
     *
     * @param rawPath the percent-encoded path as received (inside the webapp for the filter)
     */
    static String admit(HttpServletRequest request, HttpServletResponse response, String rawPath) throws IOException {
        if ("CONNECT".equals(request.getMethod())) {
            response.setHeader("Allow", ALLOW);
            response.sendError(HttpServletResponse.SC_METHOD_NOT_ALLOWED, "this proxy opens no tunnels");
            return null;
        }
        String path = PathNormalizer.normalize(rawPath);
        if (path == null) {
            response.sendError(HttpServletResponse.SC_BAD_REQUEST, "the request path cannot be normalised safely");
        }
        return path;
    }
}
