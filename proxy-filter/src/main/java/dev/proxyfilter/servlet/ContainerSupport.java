package dev.proxyfilter.servlet;

import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestWrapper;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.ServletResponseWrapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the Servlet API cannot say: closing a client connection in the middle of a committed response,
 * so that a backend failure reaches the client as a truncated response instead of a complete-looking
 * one, and sending {@code 100 Continue} when the proxy starts reading a body. Jetty and Tomcat each have
 * their own way; the classes for each load only where they run.
 */
final class ContainerSupport {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerSupport.class);
    private static volatile boolean warned;

    private ContainerSupport() {}

    /**
     * Sends {@code 100 Continue} to a client that asked for it, before the first read of its body: Tomcat sends it
     * itself only from a webapp's pipeline ({@code continueResponseTiming="immediately"}, its default) or when a
     * blocking read starts ({@code "onRead"}), so a {@link ProxyValve} request, which never enters a webapp, and a
     * non-blocking read would wait for it forever. At most one 100 goes out, and none once a response started.
     * Jetty sends it itself from {@code getInputStream()}.
     */
    static void acknowledge(ServletResponse response) {
        ServletResponse resp = response;
        while (resp instanceof ServletResponseWrapper wrapper) {
            resp = wrapper.getResponse();
        }
        if (!resp.getClass().getName().startsWith("org.apache.catalina.")) {
            return;
        }
        try {
            TomcatSupport.acknowledge(resp);
        } catch (LinkageError | RuntimeException e) {
            LOG.debug("cannot send 100 Continue on {}", resp.getClass().getName(), e);
        }
    }

    /**
     * Closes an upgraded connection's socket at once where the container needs telling (Tomcat); elsewhere
     * closing the {@code WebConnection} does.
     */
    static void closeUpgraded(jakarta.servlet.http.WebConnection connection) {
        try {
            jakarta.servlet.ServletInputStream input = connection.getInputStream();
            if (input.getClass().getName().startsWith("org.apache.coyote.")) {
                TomcatSupport.closeUpgraded(input);
            }
        } catch (java.io.IOException | LinkageError | RuntimeException e) {
            LOG.debug("cannot close the upgraded connection {}", connection, e);
        }
    }

    /** Aborts the connection; returns false if this container is not supported. */
    static boolean abort(ServletRequest request, ServletResponse response, Throwable failure) {
        ServletRequest req = request;
        while (req instanceof ServletRequestWrapper wrapper) {
            req = wrapper.getRequest();
        }
        ServletResponse resp = response;
        while (resp instanceof ServletResponseWrapper wrapper) {
            resp = wrapper.getResponse();
        }
        String type = req.getClass().getName();
        try {
            if (type.startsWith("org.eclipse.jetty.ee10.")) {
                return JettySupport.abort(req, failure);
            }
            if (type.startsWith("org.apache.catalina.")) {
                return TomcatSupport.abort(resp, failure);
            }
        } catch (LinkageError | RuntimeException e) {
            LOG.debug("cannot abort on {}", type, e);
        }
        if (!warned) {
            warned = true;
            LOG.warn(
                    "cannot abort a committed response on {}: a failed backend response may look complete to the client",
                    type);
        }
        return false;
    }
}
