package dev.proxyfilter.sample;

import jakarta.servlet.ServletException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.scan.StandardJarScanner;

/** A webapp in embedded Tomcat 11, added with {@link Tomcat#addWebapp(String, String)}. */
final class TomcatWar implements DeployedWar {
    /**
     * Tomcat logs a failed filter start through JULI, which is java.util.logging here, and keeps no
     * other trace of the exception: capture it from the loggers of the container hierarchy.
     */
    private static final String CONTAINER_LOGGER = "org.apache.catalina.core.ContainerBase";

    private final Tomcat tomcat;
    private final Connector connector;
    private final Context context;
    private final Logger containerLogger = Logger.getLogger(CONTAINER_LOGGER);
    private final List<Throwable> errors = new CopyOnWriteArrayList<>();
    private final Handler errorCapture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            // ServletException: a filter's or servlet's init failure, not the ClassNotFoundException of
            // the JSP servlet that Tomcat.addWebapp declares but tomcat-embed-core does not contain.
            if (record.getLevel().intValue() >= Level.SEVERE.intValue()
                    && record.getThrown() instanceof ServletException) {
                errors.add(record.getThrown());
            }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    private boolean closed;

    TomcatWar(Path webapp, String contextPath, Path workDir) throws Exception {
        Path baseDir = workDir.resolve("tomcat");
        // addWebapp unpacks the WAR into the host's appBase, which must exist.
        Files.createDirectories(baseDir.resolve("webapps"));
        tomcat = new Tomcat();
        tomcat.setBaseDir(baseDir.toString());
        connector = new Connector();
        connector.setPort(0);
        connector.setProperty("address", "127.0.0.1");
        tomcat.setConnector(connector);
        containerLogger.addHandler(errorCapture);
        context = tomcat.addWebapp(contextPath, webapp.toAbsolutePath().toString());
        // Only WEB-INF/lib, as in a real Tomcat: not the test class path.
        ((StandardJarScanner) context.getJarScanner()).setScanClassPath(false);
        try {
            tomcat.start();
        } catch (Exception e) {
            close();
            throw e;
        }
    }

    @Override
    public URI contextUri() {
        return URI.create("http://127.0.0.1:" + connector.getLocalPort() + context.getPath());
    }

    @Override
    public boolean available() {
        return context.getState().isAvailable();
    }

    @Override
    public Throwable startupFailure() {
        return errors.isEmpty() ? null : errors.get(0);
    }

    @Override
    public void close() throws Exception {
        if (closed) {
            return;
        }
        closed = true;
        try {
            tomcat.stop();
            tomcat.destroy();
        } finally {
            containerLogger.removeHandler(errorCapture);
        }
    }
}
