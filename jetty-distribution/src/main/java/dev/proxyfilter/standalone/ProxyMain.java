package dev.proxyfilter.standalone;

import dev.proxyfilter.config.ConfigException;
import dev.proxyfilter.config.ConfigLoader;
import dev.proxyfilter.config.ConfigReference;
import dev.proxyfilter.config.ConfigSource;
import dev.proxyfilter.config.PoolConfig;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.config.ServerConfig;
import dev.proxyfilter.forward.ProxyEngine;
import dev.proxyfilter.jetty.JettyConnectors;
import dev.proxyfilter.jetty.ProxyHandler;
import dev.proxyfilter.jetty.ProxyThreadPool;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http2.server.HTTP2ServerConnectionFactory;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.server.handler.SecuredRedirectHandler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The standalone proxy's entry point, run by {@code bin/proxy-filter [--config FILE]}.
 *
 * <p>It loads the configuration file with {@code proxyfilter.*} system properties on top, starts the
 * demo backends ({@code demo.backend.NAME.port}), then a Jetty server on {@code server.host:server.port}
 * with the core {@link ProxyHandler} (no servlet layer). {@link #start(String...)} does all that and returns the running
 * servers, which is what the in-process tests call; {@link #main} adds the process concerns: exit
 * statuses, the shutdown hook and SIGTERM.
 *
 * <p>Exit statuses: 0 after SIGTERM, {@code --help} or {@code --list-keys}; 1 when it cannot start (configuration error,
 * port in use); 2 for a bad command line.
 *
 * <p>SIGTERM stops it gracefully (see {@link RunningProxy#stop()}): new connections are refused at once,
 * in-flight exchanges get {@code server.shutdown-timeout} to finish, then the admin listener stops and
 * the engine closes its upstream pools and its cache.
 */
public final class ProxyMain {
    private static final Logger LOG = LoggerFactory.getLogger(ProxyMain.class);

    private static final String PROXY_CONNECTOR = "proxy";
    private static final String REDIRECT_CONNECTOR = "https-redirect";

    private ProxyMain() {}

    /** Starts the proxy and blocks until it is stopped; exits non-zero if it cannot start. */
    public static void main(String[] args) {
        RunningProxy proxy;
        PidFile pidFile;
        Optional<ProcessHandle> previous;
        try {
            CommandLine commandLine =
                    CommandLine.parse(args, CommandLine.home(System.getProperty(CommandLine.HOME_PROPERTY)));
            if (commandLine.help()) {
                System.out.print(CommandLine.USAGE);
                return;
            }
            if (commandLine.listKeys()) {
                System.out.print(ConfigReference.keyList());
                return;
            }
            pidFile = commandLine.pidFile() == null ? null : new PidFile(commandLine.pidFile());
            previous = pidFile == null ? Optional.empty() : pidFile.runningProxy();
            if (previous.isPresent() && !commandLine.takeover()) {
                throw StartupException.failure(
                        "--pid-file: " + pidFile.path() + " names pid "
                                + previous.get().pid()
                                + ", a proxy-filter that still runs (expected: none running; --takeover replaces it)",
                        null);
            }
            // Signal handlers first: the listener accepts traffic, and operators send signals, as soon as it opens.
            TermSignal.exitZeroOnTerm();
            HangupSignal.install();
            proxy = start(commandLine, System.getProperties(), previous.isPresent());
        } catch (Exception | LinkageError e) {
            report(e, System.err);
            System.exit(exitStatus(e));
            return;
        }
        RunningProxy running = proxy;
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            running.stop();
                            if (pidFile != null) {
                                pidFile.removeIfCurrent();
                            }
                        },
                        "proxy-filter-stop"));
        HangupSignal.started(proxy.engine());
        try {
            if (previous.isPresent()) {
                Takeover.complete(proxy, pidFile, previous.get());
            } else if (pidFile != null) {
                pidFile.writeCurrent();
            }
        } catch (RuntimeException e) {
            report(e, System.err);
            System.exit(exitStatus(e)); // the shutdown hook stops the proxy, handing its connections back
            return;
        }
        try {
            proxy.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Starts the proxy as {@code bin/proxy-filter} would, without the process concerns of {@link #main}.
     *
     * @param args the command line, without {@code --help} or {@code --list-keys}
     * @throws ConfigException  for a bad or missing configuration file
     * @throws StartupException for a bad command line or a port in use
     */
    public static RunningProxy start(String... args) throws Exception {
        CommandLine commandLine =
                CommandLine.parse(args, CommandLine.home(System.getProperty(CommandLine.HOME_PROPERTY)));
        if (commandLine.help()) {
            throw StartupException.usage("--help: nothing to start");
        }
        if (commandLine.listKeys()) {
            throw StartupException.usage("--list-keys: nothing to start");
        }
        return start(commandLine, System.getProperties());
    }

    static RunningProxy start(CommandLine commandLine, Properties systemProperties) throws Exception {
        return start(commandLine, systemProperties, false);
    }

    /**
     * @param sharePorts a takeover: bind next to the running proxy's listeners ({@code server.reuse-port}
     *                   must be on) rather than refusing ports in use
     */
    static RunningProxy start(CommandLine commandLine, Properties systemProperties, boolean sharePorts)
            throws Exception {
        ProxyConfig config = load(commandLine.config(), systemProperties);
        boolean reusePort = config.server().reusePort();
        if (sharePorts && !reusePort) {
            throw StartupException.failure(
                    "--takeover: server.reuse-port is false (expected: true, here and in the running proxy)", null);
        }
        boolean exclusive = !sharePorts;
        Server demo = null;
        Map<String, Integer> demoBackends = new TreeMap<>(config.demo().backends());
        if (!demoBackends.isEmpty()) {
            demo = DemoBackends.start(demoBackends, reusePort, exclusive);
            for (String name : demoBackends.keySet()) {
                LOG.info("demo backend {} on http://{}:{}", name, DemoBackends.HOST, DemoBackends.port(demo, name));
            }
        }
        Server proxy = null;
        Server admin = null;
        ProxyEngine engine = null;
        try {
            // The engine outlives the proxy server's stop, so that the admin listener stops before it closes.
            engine = ProxyEngine.start(config);
            // Bound before the proxy listener, so that a port in use fails the start before the proxy listener
            // takes its first connection; it answers once the proxy listens.
            admin = AdminListener.bind(config.admin(), engine, reusePort, exclusive);
            proxy = newProxyServer(config, new ProxyHandler(engine), exclusive);
            ServerConnector connector = connector(proxy, PROXY_CONNECTOR);
            Servers.bind(connector, "server.port");
            ServerConnector redirect = connector(proxy, REDIRECT_CONNECTOR);
            if (redirect != null) {
                Servers.bind(redirect, "server.tls.redirect-port");
                redirect.getConnectionFactory(HttpConnectionFactory.class)
                        .getHttpConfiguration()
                        .setSecurePort(connector.getLocalPort());
            }
            enableReload(engine, commandLine.config(), systemProperties); // before the listener opens
            proxy.start();
            engine.metrics().startJmx("dev.proxyfilter");
            QueuedThreadPool threads = (QueuedThreadPool) proxy.getThreadPool();
            engine.metrics().gauge("proxy.server.threads.busy", threads::getBusyThreads);
            engine.metrics().gauge("proxy.server.threads.max", threads::getMaxThreads);
            engine.metrics().gauge("proxy.server.threads.queued", threads::getQueueSize);
            String scheme = config.server().tls() == null ? "http" : "https";
            LOG.info(
                    "proxy-filter listening on {}://{}:{}{}, {} route(s), pools: {}",
                    scheme,
                    config.server().host(),
                    connector.getLocalPort(),
                    redirect == null
                            ? ""
                            : " (http://" + config.server().host() + ":" + redirect.getLocalPort()
                                    + " redirects there)",
                    config.routes().size(),
                    describePools(config));
            if (admin != null) {
                AdminListener.start(admin);
                LOG.info(
                        "admin interface on http://{}:{}/ (dashboard, /metrics, /api/, /healthz, /readyz)",
                        config.admin().host(),
                        AdminListener.port(admin));
            }
            return new RunningProxy(config, engine, proxy, connector, redirect, demo, admin);
        } catch (Exception | Error e) {
            if (admin != null) {
                Servers.stopAndClose(admin);
            }
            if (proxy != null) {
                Servers.stopAndClose(proxy);
            }
            if (engine != null) {
                engine.close();
            }
            if (demo != null) {
                Servers.stopAndClose(demo);
            }
            throw e;
        }
    }

    /**
     * Lets the engine read {@code file} and the system properties again on SIGHUP and {@code POST /api/reload},
     * and, with {@code reload.watch}, when the file changes.
     */
    private static void enableReload(ProxyEngine engine, Path file, Properties systemProperties) {
        engine.configSource(() -> load(file, systemProperties));
        if (engine.config().reload().watch()) {
            try {
                engine.watch(file);
            } catch (IllegalStateException e) {
                LOG.warn("configuration file {} is not watched: {}", file, e.getMessage());
            }
        }
    }

    /**
     * Loads the file, then the {@code proxyfilter.*} system properties over it, through the one loader.
     *
     * @throws ConfigException naming the key, or {@code --config} when the file is missing
     */
    static ProxyConfig load(Path file, Properties systemProperties) {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new ConfigException("--config", file.toString(), "an existing, readable properties file", null);
        }
        // proxyfilter.home is set by bin/proxy-filter for this class, it is not a configuration key.
        Properties overrides = new Properties();
        for (String name : systemProperties.stringPropertyNames()) {
            if (!name.equals(CommandLine.HOME_PROPERTY)) {
                overrides.setProperty(name, systemProperties.getProperty(name));
            }
        }
        return ConfigLoader.load(List.of(ConfigSource.ofFile(file), ConfigSource.ofSystemProperties(overrides)));
    }

    /**
     * The proxy's Jetty server, made strict by {@link JettyConnectors} (compliance modes, limits, header
     * deadline). Plain, it speaks HTTP/1.1 and (with {@code server.h2c}) HTTP/2 in clear text. With {@code
     * server.tls.keystore}, {@code server.port} speaks HTTPS only, HTTP/2 and HTTP/1.1 over ALPN, and {@code server.tls.redirect-port} (if set) is a plain listener that only redirects there.
     */
    static Server newProxyServer(ProxyConfig config, ProxyHandler proxyHandler) {
        return newProxyServer(config, proxyHandler, true);
    }

    /**
     * @param exclusive with {@code server.reuse-port}: refuse ports another process holds (not a takeover)
     */
    static Server newProxyServer(ProxyConfig config, ProxyHandler proxyHandler, boolean exclusive) {
        // The listener's handlers never block: a connection whose proxied response completed resumes on
        // the completing thread rather than a pool thread.
        QueuedThreadPool threads = new ProxyThreadPool();
        threads.setName("proxy-server");
        Server server = new Server(threads);
        // Graceful stop: the connectors stop accepting and the GracefulHandler below counts requests until
        // their (async) response completes, up to this; then Jetty closes what is left. 0: no grace.
        server.setStopTimeout(config.server().shutdownTimeout().toMillis());

        ServerConfig listener = config.server();
        HttpConfiguration http = JettyConnectors.httpConfiguration(listener);
        ServerConnector connector;
        if (listener.tls() == null) {
            connector = new HandOverConnector(
                    server,
                    -1,
                    -1,
                    listener.reusePort(),
                    exclusive,
                    JettyConnectors.plainFactories(listener, http, proxyHandler::engine));
        } else {
            http.addCustomizer(new SecureRequestCustomizer());
            HttpConnectionFactory http1 = new HttpConnectionFactory(http);
            HTTP2ServerConnectionFactory http2 = JettyConnectors.http2(new HTTP2ServerConnectionFactory(http));
            ALPNServerConnectionFactory alpn = new ALPNServerConnectionFactory();
            alpn.setDefaultProtocol(http1.getProtocol());
            SslConnectionFactory tls =
                    new SslConnectionFactory(TlsSupport.serverContext(listener.tls()), alpn.getProtocol());
            connector = new HandOverConnector(server, -1, -1, listener.reusePort(), exclusive, tls, alpn, http2, http1);
        }
        connector.setName(PROXY_CONNECTOR);
        connector.setHost(listener.host());
        connector.setPort(listener.port());
        JettyConnectors.limit(connector, listener);
        server.addConnector(connector);

        Handler handler = new GracefulHandler(proxyHandler);
        if (listener.tls() != null && listener.tls().redirects()) {
            HttpConfiguration plain = JettyConnectors.httpConfiguration(listener);
            plain.setSecureScheme("https");
            plain.setSecurePort(listener.port()); // the bound port once known, see start()
            ServerConnector redirect = new HandOverConnector(
                    server, -1, -1, listener.reusePort(), exclusive, new HttpConnectionFactory(plain));
            redirect.setName(REDIRECT_CONNECTOR);
            redirect.setHost(listener.host());
            redirect.setPort(listener.tls().redirectPort());
            JettyConnectors.limit(redirect, listener);
            server.addConnector(redirect);
            handler = new SecuredRedirectHandler(handler, HttpStatus.PERMANENT_REDIRECT_308);
        }
        server.setHandler(JettyConnectors.handler(handler, listener));
        return server;
    }

    private static ServerConnector connector(Server server, String name) {
        for (var connector : server.getConnectors()) {
            if (name.equals(connector.getName())) {
                return (ServerConnector) connector;
            }
        }
        return null;
    }

    private static String describePools(ProxyConfig config) {
        return new TreeMap<>(config.pools())
                .values().stream().map(ProxyMain::describePool).collect(Collectors.joining("; "));
    }

    private static String describePool(PoolConfig pool) {
        return pool.name() + " (" + pool.strategy().configName() + ": "
                + pool.backends().stream()
                        .map(b -> b.name() + "=" + b.url() + " weight " + b.weight())
                        .collect(Collectors.joining(", "))
                + ")";
    }

    /**
     * The exit status for a failure to start: 2 for a bad command line, 1 for anything else (a bad
     * configuration, a port in use, an unexpected error).
     */
    static int exitStatus(Throwable failure) {
        if (failure instanceof StartupException startup) {
            return startup.exitStatus();
        }
        return StartupException.FAILURE_STATUS;
    }

    /**
     * Prints what the operator needs: the message alone for failures they can fix from it (with the
     * usage for a bad command line), a stack trace only for the unexpected.
     */
    static void report(Throwable failure, PrintStream err) {
        if (failure instanceof ConfigException) {
            err.println("proxy-filter: configuration error: " + failure.getMessage());
        } else if (failure instanceof StartupException startup) {
            err.println("proxy-filter: " + startup.getMessage());
            if (startup.isUsage()) {
                err.println();
                err.print(CommandLine.USAGE);
            }
        } else {
            err.println("proxy-filter: cannot start: " + failure);
            failure.printStackTrace(err);
        }
    }

    /** The innermost cause's message, e.g. "Address already in use". */
    static String rootMessage(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }
}
