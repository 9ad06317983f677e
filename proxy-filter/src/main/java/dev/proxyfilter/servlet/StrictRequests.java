package dev.proxyfilter.servlet;

import dev.proxyfilter.route.PathNormalizer;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * What every adapter checks before routing, the same way: {@code CONNECT} is refused (the proxy opens no
 * tunnels, whatever the routes say) and the path is normalised by {@link PathNormalizer}, so that routes,
 * access rules and the backend all see one path. The engine checks framing and limits after routing.
 */
final class StrictRequests {
    /** The methods the proxy forwards, for the {@code Allow} header of a 405. */
    static final String ALLOW = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE";

    private StrictRequests() {}

    /**
     * The normalised path to route and forward, or {@code null} when the request was refused here: 405 for
     * {@code CONNECT}, 400 for a path that cannot be normalised safely.
     *
     * @param rawPath the percent-encoded path as received (inside the webapp for the filter)
     */
    static String admit(HttpServletRequest request, HttpServletResponse response, String rawPath) throws IOException {
        if ("CONNECT".equals(request.getMethod())) {
            response.setHeader("Allow", ALLOW);
            plainError(
                    response,
                    HttpServletResponse.SC_METHOD_NOT_ALLOWED,
                    "Method Not Allowed: this proxy opens no tunnels");
            return null;
        }
        String path = PathNormalizer.normalize(rawPath);
        if (path == null) {
            plainError(
                    response,
                    HttpServletResponse.SC_BAD_REQUEST,
                    "Bad Request: the request path cannot be normalised safely");
        }
        return path;
    }

    /**
     * One of the proxy's own errors, as plain text with a fixed message: a container's HTML error page
     * would echo the request URI.
     */
    static void plainError(HttpServletResponse response, int status, String message) throws IOException {
        byte[] body = (message + "\n").getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        response.setContentType("text/plain;charset=utf-8");
        response.setHeader("X-Content-Type-Options", "nosniff");
        response.setHeader("Cache-Control", "no-store");
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }
}
