package dev.proxyfilter.servlet;

import dev.proxyfilter.config.ConfigException;
import dev.proxyfilter.config.ConfigLoader;
import dev.proxyfilter.config.ConfigSource;
import dev.proxyfilter.config.ProxyConfig;
import jakarta.servlet.ServletContext;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Builds a {@link ProxyConfig} from init-params, the same way for the filter and the servlet: the
 * {@code config} init-param names a file, a webapp resource ({@code /WEB-INF/...}) or a classpath
 * resource; every other init-param is a configuration key; {@code proxyfilter.*} system properties
 * override both.
 */
final class ServletConfigs {
    /** The init-param that names a properties file instead of being a key itself. */
    static final String CONFIG_PARAM = "config";
    static final String INIT_PARAM_SOURCE = "WEB-INF/web.xml init-param";

    private ServletConfigs() {
    }

    static ProxyConfig load(Enumeration<String> names, Function<String, String> param, ServletContext context) {
        List<ConfigSource> sources = new ArrayList<>();
        Map<String, String> inline = new HashMap<>();
        String location = null;
        while (names.hasMoreElements()) {
            String name = names.nextElement();
            if (CONFIG_PARAM.equals(name)) {
                location = param.apply(name).trim();
            } else {
                inline.put(name, param.apply(name));
            }
        }
        if (location != null && !location.isEmpty()) {
            sources.add(locate(location, context));
        }
        if (!inline.isEmpty()) {
            sources.add(new ConfigSource(INIT_PARAM_SOURCE, inline));
        }
        sources.add(ConfigSource.ofSystemProperties(System.getProperties()));
        return ConfigLoader.load(sources);
    }

    static ConfigSource locate(String location, ServletContext context) {
        if (context != null && (location.startsWith("/WEB-INF/") || location.startsWith("WEB-INF/"))) {
            String resource = location.startsWith("/") ? location : "/" + location;
            try (InputStream in = context.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new ConfigException(CONFIG_PARAM, location, "an existing file, webapp resource or classpath resource", INIT_PARAM_SOURCE);
                }
                return ConfigSource.ofStream(resource.substring(1), in);
            } catch (IOException e) {
                throw new ConfigException("cannot read configuration", location, e);
            }
        }
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        return ConfigSource.ofLocation(location, loader == null ? ServletConfigs.class.getClassLoader() : loader);
    }
}
