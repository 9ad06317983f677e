package dev.proxyfilter.servlet;

import dev.proxyfilter.config.ConfigException;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.forward.ProxyEngine;
import jakarta.servlet.ServletException;
import jakarta.servlet.UnavailableException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.eclipse.jetty.ee10.proxy.AsyncProxyServlet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine as a Jetty {@link AsyncProxyServlet}, for Jetty deployments that expect a proxy servlet
 * (the standalone distribution mounts it at "/"). A request that matches no route gets 404.
 *
 * <p>It keeps the servlet's place in Jetty's proxy family but hands each exchange to the engine
 * instead of {@code AbstractProxyServlet}'s flow: that flow commits to one backend per request and
 * has no place to fail over before the response starts, which the engine does. Configured like
 * {@link ProxyFilter}, through init-params.
 */
public class JettyProxyServlet extends AsyncProxyServlet {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(JettyProxyServlet.class);

    private transient volatile ProxyEngine engine;
    private final transient ProxyConfig presetConfig;
    /** Whether {@link #destroy()} closes the engine: not when the caller handed it over and closes it. */
    private final boolean ownsEngine;

    /** A servlet configured from its init-params. */
    public JettyProxyServlet() {
        this.presetConfig = null;
        this.ownsEngine = true;
    }

    /** A servlet running a given configuration; init-params are then ignored. */
    public JettyProxyServlet(ProxyConfig config) {
        this.presetConfig = config;
        this.ownsEngine = true;
    }

    /**
     * A servlet running a started engine, which the caller closes: the standalone proxy does, after the
     * server stopped and its admin listener too (see {@code RunningProxy.stop()}).
     */
    public JettyProxyServlet(ProxyEngine engine) {
        this.presetConfig = engine.config();
        this.engine = engine;
        this.ownsEngine = false;
    }

    @Override
    public void init() throws ServletException {
        if (engine != null) {
            return;
        }
        try {
            if (presetConfig != null) {
                // The embedder loaded the configuration; it gives the engine a source to reload from.
                engine = ProxyEngine.start(presetConfig);
            } else {
                ServletConfigs.Loading loading =
                        ServletConfigs.loading(getInitParameterNames(), this::getInitParameter, getServletContext());
                engine = ProxyEngine.start(loading.loader().get());
                ServletConfigs.enableReload(engine, loading, LOG);
            }
        } catch (ConfigException e) {
            LOG.error("proxy servlet not started: {}", e.getMessage());
            throw new UnavailableException(e.getMessage());
        }
    }

    /** The running engine. */
    public ProxyEngine engine() {
        return engine;
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response)
            throws ServletException, IOException {
        engine.handle(new ServletExchange(request, response, request.getContextPath()), ProxyEngine.Unrouted.ANSWER);
    }

    /**
     * Closes the engine it started, giving in-flight exchanges up to {@code server.shutdown-timeout}: a
     * servlet container may destroy the servlet while async exchanges still stream.
     */
    @Override
    public void destroy() {
        ProxyEngine running = engine;
        if (running != null && ownsEngine) {
            running.close(running.config().server().shutdownTimeout());
        }
    }
}
