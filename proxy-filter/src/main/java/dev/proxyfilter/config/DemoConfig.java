package dev.proxyfilter.config;

import java.util.Map;

/**
 * Built-in demo backends the standalone proxy starts for a first run ({@code demo.backend.NAME.port}).
 * Each answers every request with its name. Empty unless configured.
 *
 * @param backends backend name to the loopback port it listens on
 */
public record DemoConfig(Map<String, Integer> backends) {
    public DemoConfig {
        backends = Map.copyOf(backends);
    }

    /** No demo backends. */
    public static DemoConfig none() {
        return new DemoConfig(Map.of());
    }
}
