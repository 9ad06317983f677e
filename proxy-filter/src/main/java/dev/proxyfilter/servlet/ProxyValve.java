package dev.proxyfilter.servlet;

import dev.proxyfilter.config.ConfigException;
import dev.proxyfilter.config.ConfigLoader;
import dev.proxyfilter.config.ConfigSource;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.forward.ProxyEngine;
import jakarta.servlet.ServletException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;

/**
 * The engine as a Tomcat {@code Valve}, installed once in {@code server.xml} at Engine or Host level
 * instead of in each webapp:
 * <pre>{@code <Valve className="dev.proxyfilter.servlet.ProxyValve" config="conf/proxy.properties"/>}</pre>
 * Routes match the full request path; a request that matches none goes on to the webapps. Put the
 * library jar and its dependencies in Tomcat's {@code lib/}.
 */
public class ProxyValve extends ValveBase {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ProxyValve.class);

    private String config;
    private ProxyConfig presetConfig;
    private volatile ProxyEngine engine;

    /** A valve that reads the file named by its {@code config} attribute. */
    public ProxyValve() {
        super(true);
    }

    /** A valve running a given configuration (embedded Tomcat). */
    public ProxyValve(ProxyConfig config) {
        super(true);
        this.presetConfig = config;
    }

    /** The {@code config} attribute: a properties file path or classpath resource. */
    public void setConfig(String config) {
        this.config = config;
    }

    /** The {@code config} attribute. */
    public String getConfig() {
        return config;
    }

    /** The running engine, once started. */
    public ProxyEngine engine() {
        return engine;
    }

    @Override
    protected void startInternal() throws LifecycleException {
        ProxyConfig proxyConfig = presetConfig;
        ServletConfigs.Loading loading = null;
        if (proxyConfig == null) {
            try {
                if (config == null || config.isBlank()) {
                    throw new ConfigException(
                            "config",
                            null,
                            "a properties file path or classpath resource",
                            "server.xml Valve attribute");
                }
                String location = config.trim();
                java.util.function.Supplier<ProxyConfig> loader = () -> {
                    List<ConfigSource> sources = new ArrayList<>();
                    sources.add(ConfigSource.ofLocation(location, ProxyValve.class.getClassLoader()));
                    sources.add(ConfigSource.ofSystemProperties(System.getProperties()));
                    return ConfigLoader.load(sources);
                };
                java.nio.file.Path file = location.startsWith("classpath:") ? null : java.nio.file.Path.of(location);
                loading = new ServletConfigs.Loading(
                        loader, file != null && java.nio.file.Files.isRegularFile(file) ? file : null);
                proxyConfig = loader.get();
            } catch (ConfigException | java.nio.file.InvalidPathException e) {
                throw new LifecycleException(e.getMessage(), e);
            }
        }
        try {
            engine = ProxyEngine.start(proxyConfig);
        } catch (ConfigException e) {
            // A users or JWKS file named by the configuration is unreadable or malformed.
            throw new LifecycleException(e.getMessage(), e);
        }
        if (loading != null) {
            ServletConfigs.enableReload(engine, loading, LOG);
        }
        super.startInternal();
    }

    /** Closes the engine, in-flight exchanges getting up to {@code server.shutdown-timeout} to end. */
    @Override
    protected void stopInternal() throws LifecycleException {
        super.stopInternal();
        ProxyEngine running = engine;
        if (running != null) {
            running.close(running.config().server().shutdownTimeout());
        }
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        if (request.getContext() == null || response.isError()) {
            // Tomcat refused the request itself (bad syntax, no context to run it in): its answer stands.
            getNext().invoke(request, response);
            return;
        }
        if (!engine.handle(
                new ServletExchange(request.getRequest(), response.getResponse(), ""), ProxyEngine.Unrouted.PASS_ON)) {
            getNext().invoke(request, response);
        }
    }
}
