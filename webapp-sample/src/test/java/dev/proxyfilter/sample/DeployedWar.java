package dev.proxyfilter.sample;

import java.net.URI;
import java.nio.file.Path;

/** A webapp deployed in a real container, listening on 127.0.0.1 on a free port. */
interface DeployedWar extends AutoCloseable {

    /** The containers the suite runs in. */
    enum Container {
        TOMCAT {
            @Override
            DeployedWar deploy(Path webapp, String contextPath, Path workDir) throws Exception {
                return new TomcatWar(webapp, contextPath, workDir);
            }
        },
        JETTY {
            @Override
            DeployedWar deploy(Path webapp, String contextPath, Path workDir) throws Exception {
                return new JettyWar(webapp, contextPath, workDir);
            }
        };

        /**
         * Starts the container with the webapp (a WAR file or an unpacked directory) under
         * {@code contextPath}. A webapp that fails to start does not fail this: check
         * {@link DeployedWar#available()}.
         */
        abstract DeployedWar deploy(Path webapp, String contextPath, Path workDir) throws Exception;
    }

    /** {@code http://127.0.0.1:PORT} plus the context path, without a trailing slash. */
    URI contextUri();

    /** Whether the container started the webapp and serves it. */
    boolean available();

    /** Why the webapp did not start, as the container reported it; {@code null} if it started. */
    Throwable startupFailure();

    /** Stops the container and the webapp; does nothing the second time. */
    @Override
    void close() throws Exception;
}
