package dev.proxyfilter.servlet;

import jakarta.servlet.ServletResponse;
import java.lang.reflect.Field;
import org.apache.catalina.connector.Response;
import org.apache.catalina.connector.ResponseFacade;
import org.apache.coyote.ActionCode;
import org.apache.coyote.ContinueResponseTiming;

/** Tomcat: loaded only when the request is Tomcat's. */
final class TomcatSupport {
    private static final Field FACADE_RESPONSE;

    static {
        Field field;
        try {
            field = ResponseFacade.class.getDeclaredField("response");
            field.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            field = null;
        }
        FACADE_RESPONSE = field;
    }

    private static final Field UPGRADED_SOCKET;

    static {
        Field field;
        try {
            field = org.apache.coyote.http11.upgrade.UpgradeServletInputStream.class.getDeclaredField("socketWrapper");
            field.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            field = null;
        }
        UPGRADED_SOCKET = field;
    }

    private TomcatSupport() {}

    /**
     * Closes the socket of an upgraded connection now. Closing a {@code WebConnection}'s streams only marks them
     * closed; Tomcat closes the socket at the connection's next I/O event, which a quiet client never causes.
     */
    static boolean closeUpgraded(jakarta.servlet.ServletInputStream input) {
        if (UPGRADED_SOCKET == null
                || !(input instanceof org.apache.coyote.http11.upgrade.UpgradeServletInputStream upgraded)) {
            return false;
        }
        try {
            ((org.apache.tomcat.util.net.SocketWrapperBase<?>) UPGRADED_SOCKET.get(upgraded)).close();
            return true;
        } catch (IllegalAccessException | RuntimeException e) {
            return false;
        }
    }

    static boolean abort(ServletResponse response, Throwable failure) {
        Response connectorResponse = connectorResponse(response);
        if (connectorResponse == null) {
            return false;
        }
        abort(connectorResponse, failure);
        return true;
    }

    /** Sends {@code 100 Continue} whatever the connector's {@code continueResponseTiming}; Tomcat sends one at most. */
    static void acknowledge(ServletResponse response) {
        Response connectorResponse = connectorResponse(response);
        if (connectorResponse != null) {
            connectorResponse.sendAcknowledgement(ContinueResponseTiming.ALWAYS);
        }
    }

    private static Response connectorResponse(ServletResponse response) {
        if (response instanceof Response r) {
            return r;
        }
        if (response instanceof ResponseFacade facade && FACADE_RESPONSE != null) {
            try {
                return (Response) FACADE_RESPONSE.get(facade);
            } catch (IllegalAccessException e) {
                return null;
            }
        }
        return null;
    }

    static void abort(Response response, Throwable failure) {
        response.setError();
        response.getCoyoteResponse().action(ActionCode.CLOSE_NOW, failure);
    }
}
