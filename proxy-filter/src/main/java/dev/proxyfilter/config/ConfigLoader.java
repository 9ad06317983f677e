package dev.proxyfilter.config;

import java.util.List;

/**
 * The one loader for every source. TODO: document every key here.
 */
public final class ConfigLoader {
    private ConfigLoader() {
    }

    /**
     * Merges the sources (later ones win, key by key), validates everything and builds the config.
     *
     * @throws ConfigException naming the first bad key, its value, what was expected and its source
     */
    public static ProxyConfig load(List<ConfigSource> sources) {
        throw new UnsupportedOperationException("TODO");
    }
}
