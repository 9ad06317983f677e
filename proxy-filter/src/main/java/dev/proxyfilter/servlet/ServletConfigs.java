package dev.proxyfilter.servlet;

import dev.proxyfilter.config.ConfigException;
import dev.proxyfilter.config.ConfigLoader;
import dev.proxyfilter.config.ConfigSource;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.forward.ProxyEngine;
import jakarta.servlet.ServletContext;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;

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

    private ServletConfigs() {}

    static ProxyConfig load(Enumeration<String> names, Function<String, String> param, ServletContext context) {
        return loading(names, param, context).loader().get();
    }

    /**
     * Where a configuration comes from, to read it again on a reload.
     *
     * @param loader reads every source again and loads them; throws {@link ConfigException} when invalid
     * @param file   the properties file on disk to watch, or null when there is none (classpath resource,
     *               init-params only, a webapp not unpacked)
     */
    record Loading(Supplier<ProxyConfig> loader, Path file) {}

    /**
     * The loading of the configuration from init-params: the init-params are read now (they never change),
     * the file they name and the system properties each time the loader runs.
     */
    static Loading loading(Enumeration<String> names, Function<String, String> param, ServletContext context) {
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
        String config = location == null || location.isEmpty() ? null : location;
        Map<String, String> params = Map.copyOf(inline);
        Supplier<ProxyConfig> loader = () -> {
            List<ConfigSource> sources = new ArrayList<>();
            if (config != null) {
                sources.add(locate(config, context));
            }
            if (!params.isEmpty()) {
                sources.add(new ConfigSource(INIT_PARAM_SOURCE, params));
            }
            sources.add(ConfigSource.ofSystemProperties(System.getProperties()));
            return ConfigLoader.load(sources);
        };
        return new Loading(loader, config == null ? null : fileOf(config, context));
    }

    /** The file on disk a {@code config} location names, or null. */
    private static Path fileOf(String location, ServletContext context) {
        String path = location;
        if (location.startsWith("classpath:")) {
            return null;
        }
        if (context != null && (location.startsWith("/WEB-INF/") || location.startsWith("WEB-INF/"))) {
            path = context.getRealPath(location.startsWith("/") ? location : "/" + location);
            if (path == null) {
                return null;
            }
        }
        try {
            Path file = Path.of(path);
            return Files.isRegularFile(file) ? file : null;
        } catch (InvalidPathException e) {
            return null;
        }
    }

    /**
     * Lets {@code engine} reload from where its configuration came from ({@code POST /api/reload}), and, with
     * {@code reload.watch}, when its file changes. A file that cannot be watched is logged, not fatal.
     */
    static void enableReload(ProxyEngine engine, Loading loading, Logger log) {
        engine.configSource(loading.loader());
        if (loading.file() != null && engine.config().reload().watch()) {
            try {
                engine.watch(loading.file());
            } catch (IllegalStateException e) {
                log.warn("configuration file {} is not watched: {}", loading.file(), e.getMessage());
            }
        }
    }

    static ConfigSource locate(String location, ServletContext context) {
        if (context != null && (location.startsWith("/WEB-INF/") || location.startsWith("WEB-INF/"))) {
            String resource = location.startsWith("/") ? location : "/" + location;
            // The file itself where the webapp is unpacked: Tomcat serves resources from a cache it looks at
            // again only every 5 s, so an edit right after a reload would be read stale and never applied.
            Path file = fileOf(location, context);
            try (InputStream in = file != null ? Files.newInputStream(file) : context.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new ConfigException(
                            CONFIG_PARAM,
                            location,
                            "an existing file, webapp resource or classpath resource",
                            INIT_PARAM_SOURCE);
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
