package dev.proxyfilter.testing;

import dev.proxyfilter.config.AccessLogFormat;
import dev.proxyfilter.config.AdminConfig;
import dev.proxyfilter.config.BackendConfig;
import dev.proxyfilter.config.DemoConfig;
import dev.proxyfilter.config.HashKey;
import dev.proxyfilter.config.HealthConfig;
import dev.proxyfilter.config.PoolConfig;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.config.RequestLimits;
import dev.proxyfilter.config.RouteConfig;
import dev.proxyfilter.config.SecurityConfig;
import dev.proxyfilter.config.ServerConfig;
import dev.proxyfilter.config.StickyConfig;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.config.UpstreamTlsConfig;
import dev.proxyfilter.config.WebSocketConfig;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds configurations for tests without going through a properties file. */
public final class TestConfigs {
    private final Map<String, PoolConfig> pools = new LinkedHashMap<>();
    private final List<RouteConfig> routes = new ArrayList<>();
    private ServerConfig server = new ServerConfig("127.0.0.1", 0);
    private RequestLimits limits = RequestLimits.DEFAULT;
    private UpstreamTlsConfig upstreamTls = UpstreamTlsConfig.DEFAULT;
    private String via = "proxy-filter";
    private WebSocketConfig websocket = WebSocketConfig.DEFAULT;

    public static TestConfigs builder() {
        return new TestConfigs();
    }

    /** A pool of backends given as name, url, weight triples. */
    public TestConfigs pool(String name, StrategyName strategy, Object... nameUrlWeight) {
        return pool(name, strategy, null, null, nameUrlWeight);
    }

    /** A pool with a hash key and session affinity (either may be null), backends as name, url, weight triples. */
    public TestConfigs pool(
            String name, StrategyName strategy, HashKey hashKey, StickyConfig sticky, Object... nameUrlWeight) {
        List<BackendConfig> backends = new ArrayList<>();
        for (int i = 0; i < nameUrlWeight.length; i += 3) {
            backends.add(
                    new BackendConfig((String) nameUrlWeight[i], URI.create(nameUrlWeight[i + 1].toString()), (Integer)
                            nameUrlWeight[i + 2]));
        }
        pools.put(name, new PoolConfig(name, strategy, backends, hashKey, sticky));
        return this;
    }

    /** Speaks {@code protocol} to the backends of pool {@code name}, defined before. */
    public TestConfigs protocol(String name, dev.proxyfilter.config.UpstreamProtocol protocol) {
        pools.put(name, pools.get(name).withProtocol(protocol));
        return this;
    }

    /** Replaces the health configuration of pool {@code name}, defined before. */
    public TestConfigs health(String name, HealthConfig health) {
        PoolConfig pool = pools.get(name);
        pools.put(name, new PoolConfig(name, pool.strategy(), pool.backends(), pool.hashKey(), pool.sticky(), health));
        return this;
    }

    /** A route with default timeouts (connect 2 s, idle 10 s, total none). */
    public TestConfigs route(String name, String path, String pool) {
        return route(new RouteConfig(
                name, null, path, pool, false, true, Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ZERO));
    }

    public TestConfigs route(RouteConfig route) {
        routes.add(route);
        return this;
    }

    /** The listener settings Jetty-hosted adapters apply (limits, timeouts). */
    public TestConfigs server(ServerConfig server) {
        this.server = server;
        return this;
    }

    public TestConfigs limits(RequestLimits limits) {
        this.limits = limits;
        return this;
    }

    public TestConfigs upstreamTls(UpstreamTlsConfig upstreamTls) {
        this.upstreamTls = upstreamTls;
        return this;
    }

    /** {@code proxy.via}: the pseudonym the proxy adds to {@code Via}. */
    public TestConfigs via(String pseudonym) {
        this.via = pseudonym;
        return this;
    }

    /** {@code proxy.websocket-idle-timeout} and {@code proxy.max-tunnels}. */
    public TestConfigs websocket(WebSocketConfig websocket) {
        this.websocket = websocket;
        return this;
    }

    public ProxyConfig build() {
        return new ProxyConfig(
                        server,
                        pools,
                        routes,
                        DemoConfig.none(),
                        via,
                        List.of("test"),
                        ProxyConfig.DEFAULT_RETRY_BUDGET_PERCENT,
                        AdminConfig.defaults(),
                        AccessLogFormat.COMBINED,
                        SecurityConfig.NONE,
                        limits,
                        upstreamTls)
                .withWebSocket(websocket);
    }
}
