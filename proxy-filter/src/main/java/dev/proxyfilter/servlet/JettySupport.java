package dev.proxyfilter.servlet;

import jakarta.servlet.ServletRequest;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;

/** Jetty 12 ee10: loaded only when the request is Jetty's. */
final class JettySupport {
    private JettySupport() {
    }

    static boolean abort(ServletRequest request, Throwable failure) {
        ServletContextRequest contextRequest = ServletContextRequest.getServletContextRequest(request);
        if (contextRequest == null) {
            return false;
        }
        contextRequest.getServletChannel().abort(failure);
        return true;
    }
}
