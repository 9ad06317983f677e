package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.RouteConfig;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.testing.Backends;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.RawHttp;
import dev.proxyfilter.testing.TestBackend;
import dev.proxyfilter.testing.TestConfigs;
import java.time.Duration;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Routing by {@code Host} to different pools over real sockets, through every adapter (README, "What the proxy
 * does with a request", step 1: Host case-insensitive, port ignored; no route for the host at all is 403 on a
 * proxy listener and passed on down the chain in a webapp).
 */
@Timeout(60)
class HostRoutingIntegrationTest {
    private static RouteConfig hostRoute(String name, String host) {
        return new RouteConfig(
                name, host, "/", name, false, true, Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ZERO);
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void eachHostGoesToItsPoolAndAnUnknownHostToNone(ProxyAdapter adapter) throws Exception {
        Backends.Echo one = new Backends.Echo("one");
        Backends.Echo two = new Backends.Echo("two");
        try (TestBackend b1 = TestBackend.start("one", one);
                TestBackend b2 = TestBackend.start("two", two);
                ProxyAdapter.Running proxy = adapter.start(TestConfigs.builder()
                        .pool("one", StrategyName.ROUND_ROBIN, "a", b1.url(), 1)
                        .pool("two", StrategyName.ROUND_ROBIN, "a", b2.url(), 1)
                        .route(hostRoute("one", "one.example"))
                        .route(hostRoute("two", "two.example"))
                        .build())) {
            RawHttp.Response first = get(proxy, "one.example", "/page");
            assertThat(first.status()).isEqualTo(200);
            assertThat(first.bodyText()).isEqualTo("one");
            assertThat(first.header("X-Echo-Host"))
                    .as("the client's Host is kept")
                    .isEqualTo("one.example");

            RawHttp.Response second = get(proxy, "TWO.Example:8080", "/page");
            assertThat(second.status()).isEqualTo(200);
            assertThat(second.bodyText()).isEqualTo("two");

            RawHttp.Response unknown = get(proxy, "three.example", "/page");
            if (adapter.passesOn()) {
                assertThat(unknown.status()).isEqualTo(200);
                assertThat(unknown.bodyText()).isEqualTo("local /page");
            } else {
                assertThat(unknown.status()).isEqualTo(403);
            }
            assertThat(one.requests.get()).as("requests that reached pool one").isEqualTo(1);
            assertThat(two.requests.get()).as("requests that reached pool two").isEqualTo(1);
        }
    }

    private static RawHttp.Response get(ProxyAdapter.Running proxy, String host, String path) throws Exception {
        return RawHttp.exchange(
                proxy.uri(), "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
    }
}
