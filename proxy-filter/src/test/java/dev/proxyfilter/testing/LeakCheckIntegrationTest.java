package dev.proxyfilter.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.proxyfilter.config.StrategyName;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** The leak check itself: it names what a proxy holds for an exchange that has not ended. */
class LeakCheckIntegrationTest {
    @Test
    void anExchangeStillWaitingOnItsBackendIsReported() throws Exception {
        Backends.Stall stall = new Backends.Stall();
        try (TestBackend backend = TestBackend.start("stall", stall);
                ProxyAdapter.Running proxy = ProxyAdapter.HANDLER_IN_JETTY.start(TestConfigs.builder()
                        .pool("web", StrategyName.ROUND_ROBIN, "a", backend.url(), 1)
                        .route("main", "/", "web")
                        .build())) {
            HttpClient client = HttpClient.newHttpClient();
            client.sendAsync(
                    HttpRequest.newBuilder(URI.create(proxy.uri() + "/stalled")).build(),
                    HttpResponse.BodyHandlers.discarding());
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> stall.requests.get() == 1);

            assertThatThrownBy(() -> LeakCheck.assertReleased(Duration.ofMillis(200)))
                    .isInstanceOf(AssertionError.class)
                    .hasMessageContaining("exchanges=1")
                    .hasMessageContaining("backendRequests=1")
                    .hasMessageContaining("busyConnections=1");
            assertThat(proxy.engine().inUse().none()).isFalse();
            backend.close(); // the stalled exchange ends with a 502, so the proxy stops at once
        }
    }
}
