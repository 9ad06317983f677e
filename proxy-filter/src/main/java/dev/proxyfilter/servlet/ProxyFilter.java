package dev.proxyfilter.servlet;

import dev.proxyfilter.config.ConfigException;
import dev.proxyfilter.forward.ProxyEngine;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.UnavailableException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy as a {@link Filter} for any Servlet 6 container: a request that matches a route is
 * forwarded to its pool asynchronously; everything else continues down the chain to the webapp.
 *
 * <p>Routes match the path inside the webapp (the context path removed), and that path is what the
 * backend receives. Declare it {@code <async-supported>true</async-supported>}. Configuration: see
 * {@link dev.proxyfilter.config.ConfigLoader}; the {@code config} init-param names a properties file
 * ({@code /WEB-INF/proxy.properties}, a file path or a classpath resource), any other init-param is a
 * key. A bad configuration fails {@link #init}, so the container marks the webapp unavailable.
 */
public class ProxyFilter implements Filter {
    private static final Logger LOG = LoggerFactory.getLogger(ProxyFilter.class);

    private volatile ProxyEngine engine;

    /** A filter configured from its init-params. */
    public ProxyFilter() {}

    /** A filter running a given engine (embedded use); init-params are then ignored. */
    public ProxyFilter(ProxyEngine engine) {
        this.engine = engine;
    }

    @Override
    public void init(FilterConfig filterConfig) throws ServletException {
        if (engine != null) {
            filterConfig.getServletContext().setAttribute(AdminServlet.ENGINE_ATTRIBUTE, engine);
            return;
        }
        try {
            ServletConfigs.Loading loading = ServletConfigs.loading(
                    filterConfig.getInitParameterNames(),
                    filterConfig::getInitParameter,
                    filterConfig.getServletContext());
            engine = ProxyEngine.start(loading.loader().get());
            ServletConfigs.enableReload(engine, loading, LOG);
        } catch (ConfigException e) {
            LOG.error("proxy filter '{}' not started: {}", filterConfig.getFilterName(), e.getMessage());
            throw new UnavailableException(e.getMessage());
        }
        filterConfig.getServletContext().setAttribute(AdminServlet.ENGINE_ATTRIBUTE, engine);
        LOG.info(
                "proxy filter '{}' started: {} route(s), {} pool(s) from {}",
                filterConfig.getFilterName(),
                engine.config().routes().size(),
                engine.config().pools().size(),
                engine.config().sources());
    }

    /** The running engine. */
    public ProxyEngine engine() {
        return engine;
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (request.getDispatcherType() != DispatcherType.REQUEST
                || !(request instanceof HttpServletRequest clientRequest)
                || !(response instanceof HttpServletResponse clientResponse)) {
            chain.doFilter(request, response);
            return;
        }
        if (!engine.handle(
                new ServletExchange(clientRequest, clientResponse, clientRequest.getContextPath()),
                ProxyEngine.Unrouted.PASS_ON)) {
            chain.doFilter(request, response);
        }
    }

    /**
     * Closes the engine gracefully when the webapp stops (undeploy, redeploy, container shutdown): the
     * container does not wait for async exchanges, so the engine does, up to {@code server.shutdown-timeout},
     * answering new ones 503; then its threads, connections, cache and JMX registrations are released.
     */
    @Override
    public void destroy() {
        ProxyEngine running = engine;
        if (running != null) {
            running.close(running.config().server().shutdownTimeout());
        }
    }
}
