package dev.proxyfilter.standalone;

import java.util.Map;
import java.util.TreeMap;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The demo backends of {@code demo.backend.NAME.port}: each answers every request on
 * {@code 127.0.0.1:PORT} with 200 and the body {@code backend NAME}, so a first run shows the balancing
 * without any other server.
 *
 * <p>All of them share one Jetty server, one connector per backend named after it, so they cost a few
 * threads in total rather than a thread pool each.
 */
public final class DemoBackends {
    /** Demo backends listen on loopback only: they are not meant to be reached from outside. */
    public static final String HOST = "127.0.0.1";
    /** The response header naming the backend that answered. */
    public static final String BACKEND_HEADER = "X-Backend";

    private DemoBackends() {}

    /**
     * Starts one server with a connector per backend.
     *
     * @param backends backend name to port; must not be empty
     * @throws StartupException naming {@code demo.backend.NAME.port} when a port cannot be bound
     */
    public static Server start(Map<String, Integer> backends) throws Exception {
        return start(backends, false, true);
    }

    /**
     * Starts them with {@code server.reuse-port}, so that a takeover's new process starts its own next to
     * these.
     *
     * @param reusePort bind with {@code SO_REUSEPORT}
     * @param exclusive with {@code reusePort}: refuse ports that another process holds (no takeover)
     */
    static Server start(Map<String, Integer> backends, boolean reusePort, boolean exclusive) throws Exception {
        QueuedThreadPool threads = new QueuedThreadPool(8 + 2 * backends.size(), 2);
        threads.setName("demo-backends");
        Server server = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        try {
            for (Map.Entry<String, Integer> backend : new TreeMap<>(backends).entrySet()) {
                ServerConnector connector =
                        new HandOverConnector(server, 0, 1, reusePort, exclusive, new HttpConnectionFactory(http));
                connector.setName(backend.getKey());
                connector.setHost(HOST);
                connector.setPort(backend.getValue());
                server.addConnector(connector);
                Servers.bind(connector, "demo.backend." + backend.getKey() + ".port");
            }
            server.setHandler(new NameHandler());
            server.start();
            return server;
        } catch (Exception | Error e) {
            Servers.stopAndClose(server);
            throw e;
        }
    }

    /** The local port of a started backend. */
    public static int port(Server server, String name) {
        for (var connector : server.getConnectors()) {
            if (name.equals(connector.getName()) && connector instanceof ServerConnector serverConnector) {
                return serverConnector.getLocalPort();
            }
        }
        throw new IllegalArgumentException("no demo backend " + name);
    }

    /** Answers with the name of the connector the request came in on. */
    private static final class NameHandler extends Handler.Abstract.NonBlocking {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            String name = request.getConnectionMetaData().getConnector().getName();
            response.setStatus(HttpStatus.OK_200);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain;charset=utf-8");
            response.getHeaders().put(BACKEND_HEADER, name);
            Content.Sink.write(response, true, "backend " + name + "\n", callback);
            return true;
        }
    }
}
