package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.proxyfilter.config.BalanceStrategy;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.TestConfigs;
import dev.proxyfilter.testing.WebSocketBackend;
import dev.proxyfilter.testing.WebSocketClients;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * WebSocket through the proxy, with a real WebSocket backend and a real client, in every adapter that can
 * switch protocols: the core handler, the filter in Jetty and in Tomcat, the valve, the proxy servlet.
 */
@Timeout(60)
class WebSocketTunnelIntegrationTest {
    private final List<AutoCloseable> resources = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private <T extends AutoCloseable> T track(T resource) {
        resources.add(resource);
        return resource;
    }

    private WebSocketBackend backend(String name) throws Exception {
        return track(new WebSocketBackend(name));
    }

    private ProxyAdapter.Running proxy(ProxyAdapter adapter, ProxyConfig config) {
        return track(adapter.start(config));
    }

    private static ProxyConfig config(WebSocketBackend... backends) {
        Object[] triples = new Object[backends.length * 3];
        for (int i = 0; i < backends.length; i++) {
            triples[i * 3] = backends[i].name;
            triples[i * 3 + 1] = backends[i].http();
            triples[i * 3 + 2] = 1;
        }
        return TestConfigs.builder()
                .pool("ws", BalanceStrategy.ROUND_ROBIN, triples)
                .route("ws", "/", "ws")
                .build();
    }

    @ParameterizedTest
    @EnumSource
    void echoesThroughTheTunnelAndPassesCloseCodesBothWays(ProxyAdapter adapter) throws Exception {
        WebSocketBackend backend = backend("a");
        ProxyAdapter.Running proxy = proxy(adapter, config(backend));
        WebSocketClients clients = track(new WebSocketClients());

        WebSocketClients.Socket socket = clients.connect(proxy.uri().resolve("/echo"));
        assertThat(socket.roundTrip("hello")).isEqualTo("hello");
        assertThat(socket.roundTrip("who")).isEqualTo("a");
        assertThat(proxy.engine().openTunnels()).isEqualTo(1);

        assertThat(socket.close(4002, "client-bye")).isEqualTo("4002 client-bye");
        assertThat(backend.closes.poll(10, java.util.concurrent.TimeUnit.SECONDS))
                .isEqualTo("4002 client-bye");

        WebSocketClients.Socket closing = clients.connect(proxy.uri().resolve("/close"));
        assertThat(closing.closed.get(10, java.util.concurrent.TimeUnit.SECONDS))
                .isEqualTo("4001 bye");
        await().atMost(Duration.ofSeconds(10)).until(() -> proxy.engine().openTunnels() == 0);
    }
}
