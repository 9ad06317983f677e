package dev.proxyfilter.config;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The whole, validated configuration of one proxy instance. Built by {@link ConfigLoader} from any
 * mix of sources; every instance is consistent (each route names an existing pool).
 *
 * @param server  the standalone listener
 * @param pools   pools by name
 * @param routes  routes in declaration-name order
 * @param demo    demo backends for the standalone proxy
 * @param via     the pseudonym this proxy adds to {@code Via}, e.g. {@code 1.1 proxy-filter}
 * @param sources where the values came from, for reports and error messages
 */
public record ProxyConfig(ServerConfig server, Map<String, PoolConfig> pools, List<RouteConfig> routes,
        DemoConfig demo, String via, List<String> sources) {
    public ProxyConfig {
        Objects.requireNonNull(server, "server");
        pools = Map.copyOf(pools);
        routes = List.copyOf(routes);
        Objects.requireNonNull(demo, "demo");
        Objects.requireNonNull(via, "via");
        sources = List.copyOf(sources);
        for (RouteConfig route : routes) {
            if (!pools.containsKey(route.pool())) {
                throw new IllegalArgumentException("route " + route.name() + " names unknown pool " + route.pool());
            }
        }
    }
}
