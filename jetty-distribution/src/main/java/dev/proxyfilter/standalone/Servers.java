package dev.proxyfilter.standalone;

import java.io.Closeable;
import java.io.IOException;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.IO;

/** Binding and releasing a Jetty server's ports, so that a failed start leaves no port bound. */
final class Servers {
    private Servers() {}

    /**
     * Binds the connector now, before {@code Server.start()}, so a port in use is reported with its
     * configuration key rather than as a start failure of the whole server.
     *
     * @param key the configuration key of the port, e.g. {@code server.port}
     */
    static void bind(ServerConnector connector, String key) {
        try {
            connector.open();
        } catch (IOException e) {
            boolean sharing =
                    connector instanceof HandOverConnector handOver && handOver.reusesPort() && !handOver.exclusive();
            String expected = sharing
                    ? "a port the running proxy holds with server.reuse-port=true, or a free one, on "
                    : "a free port on ";
            throw StartupException.failure(
                    key + ": " + connector.getPort() + " (expected: " + expected + connector.getHost() + "; "
                            + ProxyMain.rootMessage(e) + ")",
                    e);
        }
    }

    /** Stops a server that failed to start and unbinds every port it had opened. */
    static void stopAndClose(Server server) {
        try {
            server.stop();
        } catch (Exception ignored) {
            // It is already failing; the caller rethrows the original exception.
        }
        for (Connector connector : server.getConnectors()) {
            if (connector instanceof ServerConnector serverConnector) {
                serverConnector.close();
                // With no acceptor thread, close() leaves the channel to the selector, which never started.
                if (serverConnector.getTransport() instanceof Closeable channel) {
                    IO.close(channel);
                }
            }
        }
    }
}
