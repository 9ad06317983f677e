package dev.proxyfilter.sample;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.jetty.ee10.webapp.WebAppContext;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/** A webapp in Jetty 12 ee10, deployed as a {@link WebAppContext} the way jetty-home deploys it. */
final class JettyWar implements DeployedWar {
    private final Server server;
    private final ServerConnector connector;
    private final WebAppContext context;

    JettyWar(Path webapp, String contextPath, Path workDir) throws Exception {
        QueuedThreadPool threads = new QueuedThreadPool(32, 4);
        threads.setName("jetty-war");
        server = new Server(threads);
        connector = new ServerConnector(server, 1, 1);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        context = new WebAppContext();
        context.setContextPath(contextPath);
        context.setWar(webapp.toString());
        // Unpacks here rather than in java.io.tmpdir, so that the test's temp folder cleans it up.
        context.setTempDirectory(
                Files.createDirectories(workDir.resolve("jetty-work")).toFile());
        // Jetty's default: a webapp that fails to start answers 503 instead of failing the server.
        context.setThrowUnavailableOnStartupException(false);
        server.setHandler(context);
        try {
            server.start();
        } catch (Exception e) {
            server.stop();
            throw e;
        }
    }

    @Override
    public URI contextUri() {
        return URI.create("http://127.0.0.1:" + connector.getLocalPort() + context.getContextPath());
    }

    @Override
    public boolean available() {
        return context.isAvailable();
    }

    @Override
    public Throwable startupFailure() {
        return context.getUnavailableException();
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }
}
