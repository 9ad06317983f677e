package dev.proxyfilter.servlet;

import dev.proxyfilter.tunnel.EndPointTunnelEnd;
import dev.proxyfilter.tunnel.TunnelEnd;
import jakarta.servlet.ServletRequest;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.util.Promise;

/**
 * Switching protocols in Jetty 12 ee10, through Jetty's core instead of {@code HttpServletRequest.upgrade}: the
 * ee10 upgrade (12.1.14) hands its handler an input stream that is already at its end for a request without a
 * body, as every WebSocket handshake is, so no byte of the client's would reach the tunnel. Jetty's core
 * installs a connection of ours on the client's endpoint once the 101 is out ({@link
 * HttpStream#UPGRADE_CONNECTION_ATTRIBUTE}), as its own WebSocket implementation and {@code ConnectHandler} do.
 *
 * <p>That needs the server's Jetty classes to be ours: true when the proxy is embedded in Jetty (the standalone
 * distribution's servlet, a test), false in a Jetty webapp with the library in {@code WEB-INF/lib}, which
 * hides the server's classes. This class links against Jetty's server and loads only in the first case.
 */
final class JettyUpgrade {
    private JettyUpgrade() {}

    /** Marks the request so that Jetty hands its endpoint to a tunnel end once the response (a 101) completes. */
    static void upgrade(ServletRequest request, Promise<TunnelEnd> promise) {
        ServletContextRequest core = ServletContextRequest.getServletContextRequest(request);
        EndPoint endPoint = core.getConnectionMetaData().getConnection().getEndPoint();
        EndPointTunnelEnd end = new EndPointTunnelEnd(
                endPoint,
                core.getComponents().getExecutor(),
                core.getComponents().getByteBufferPool(),
                null,
                promise::succeeded);
        core.setAttribute(HttpStream.UPGRADE_CONNECTION_ATTRIBUTE, end);
    }
}
