package dev.proxyfilter.servlet;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterRegistration;
import jakarta.servlet.ServletContainerInitializer;
import jakarta.servlet.ServletContext;
import java.net.MalformedURLException;
import java.util.EnumSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drop-in installation: with the library jar in {@code WEB-INF/lib} and a
 * {@code WEB-INF/proxy-filter.properties} (or a {@code proxyfilter.config} context-param naming a
 * configuration), the {@link ProxyFilter} is installed for {@code /*} without editing {@code web.xml}.
 * A {@code ProxyFilter} declared in {@code web.xml} wins: then this initializer does nothing.
 */
public class ProxyFilterInitializer implements ServletContainerInitializer {
    private static final Logger LOG = LoggerFactory.getLogger(ProxyFilterInitializer.class);

    /** The webapp resource looked for when no context-param names a configuration. */
    public static final String DEFAULT_CONFIG = "/WEB-INF/proxy-filter.properties";
    /** Context-param naming the configuration, like the filter's {@code config} init-param. */
    public static final String CONFIG_CONTEXT_PARAM = "proxyfilter.config";

    @Override
    public void onStartup(Set<Class<?>> classes, ServletContext context) {
        for (FilterRegistration registration : context.getFilterRegistrations().values()) {
            String className = registration.getClassName();
            if (className != null && isProxyFilter(className, context.getClassLoader())) {
                LOG.debug(
                        "ProxyFilter declared in web.xml as '{}': drop-in installation skipped",
                        registration.getName());
                return;
            }
        }
        String location = context.getInitParameter(CONFIG_CONTEXT_PARAM);
        if (location == null) {
            try {
                if (context.getResource(DEFAULT_CONFIG) == null) {
                    return;
                }
            } catch (MalformedURLException e) {
                return;
            }
            location = DEFAULT_CONFIG;
        }
        FilterRegistration.Dynamic filter = context.addFilter("proxy-filter", ProxyFilter.class);
        if (filter == null) {
            return;
        }
        filter.setAsyncSupported(true);
        filter.setInitParameter(ServletConfigs.CONFIG_PARAM, location);
        filter.addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/*");
        LOG.info("proxy filter installed for /* with configuration {}", location);
    }

    private static boolean isProxyFilter(String className, ClassLoader loader) {
        if (className.equals(ProxyFilter.class.getName())) {
            return true;
        }
        try {
            return ProxyFilter.class.isAssignableFrom(Class.forName(className, false, loader));
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}
