package dev.proxyfilter.servlet;

import dev.proxyfilter.tunnel.TunnelEnd;
import jakarta.servlet.http.HttpUpgradeHandler;
import jakarta.servlet.http.WebConnection;
import java.io.IOException;
import org.eclipse.jetty.util.Promise;

/**
 * The servlet container's side of a WebSocket tunnel: {@code HttpServletRequest.upgrade} makes one (hence a
 * public class with a public no-argument constructor), the adapter hands it the tunnel's promise, and the
 * container calls {@link #init} with the connection once the 101 is out, in whichever order.
 */
public final class TunnelUpgradeHandler implements HttpUpgradeHandler {
    private Promise<TunnelEnd> promise;
    private WebConnection connection;
    private volatile ServletTunnelEnd end;

    /** For the container, which instantiates the handler itself. */
    public TunnelUpgradeHandler() {}

    /** The tunnel that waits for this connection. */
    void handOver(Promise<TunnelEnd> waiting) {
        boolean open;
        synchronized (this) {
            promise = waiting;
            open = connection != null;
        }
        if (open) {
            open();
        }
    }

    @Override
    public void init(WebConnection webConnection) {
        boolean open;
        synchronized (this) {
            connection = webConnection;
            open = promise != null;
        }
        if (open) {
            open();
        }
    }

    private void open() {
        try {
            ServletTunnelEnd opened = new ServletTunnelEnd(connection);
            end = opened;
            promise.succeeded(opened);
        } catch (IOException | RuntimeException e) {
            try {
                connection.close();
            } catch (Exception ignored) {
                // closing what could not be opened
            }
            promise.failed(e);
        }
    }

    /** The container closed the connection: the tunnel hears it as a failure of both directions. */
    @Override
    public void destroy() {
        ServletTunnelEnd opened = end;
        if (opened != null) {
            opened.destroyed();
        }
    }
}
