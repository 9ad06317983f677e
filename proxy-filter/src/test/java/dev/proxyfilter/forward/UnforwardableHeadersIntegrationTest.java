package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.RawHttp;
import dev.proxyfilter.testing.SocketBackend;
import dev.proxyfilter.testing.TestConfigs;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A backend response that the upstream client accepts but whose head the client side cannot send as it is
 * (over the container's response-head limit, 8 KiB by default) must not fail in the container (Jetty's 500,
 * Tomcat's closed connection): the largest non-essential fields are dropped, and logged, and the rest arrives.
 * Through every adapter, from a raw backend.
 */
@Timeout(60)
class UnforwardableHeadersIntegrationTest {

    private static RawHttp.Response through(ProxyAdapter adapter, String headers) throws Exception {
        try (SocketBackend raw = SocketBackend.start(socket -> {
                    SocketBackend.readHead(socket.getInputStream());
                    OutputStream out = socket.getOutputStream();
                    out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n" + headers
                                    + "Content-Length: 4\r\nConnection: close\r\n\r\nbody")
                            .getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                });
                var proxy = adapter.start(TestConfigs.builder()
                        .pool("web", StrategyName.ROUND_ROBIN, "a", raw.url().toString(), 1)
                        .route("main", "/", "web")
                        .build())) {
            return RawHttp.exchange(proxy.uri(), "GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        }
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void aSingleHeaderLargerThanTheClientSideCanSendIsDropped(ProxyAdapter adapter) throws Exception {
        var response = through(adapter, "X-Trace: " + "x".repeat(20_000) + "\r\nX-Small: kept\r\n");

        assertThat(response.status()).isEqualTo(200);
        assertThat(response.bodyText()).isEqualTo("body");
        assertThat(response.header("X-Trace")).isNull();
        assertThat(response.header("X-Small")).isEqualTo("kept");
        assertThat(response.header("Content-Type")).startsWith("text/plain");
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void manyHeadersThatTogetherPassTheLimitLoseTheLargestUntilTheyFit(ProxyAdapter adapter) throws Exception {
        StringBuilder many = new StringBuilder();
        for (int i = 0; i < 150; i++) {
            many.append("X-More-").append(i).append(": ").append("z".repeat(60)).append("\r\n");
        }
        many.append("X-Big: ").append("b".repeat(3000)).append("\r\n");

        var response = through(adapter, many.toString());

        assertThat(response.status()).isEqualTo(200);
        assertThat(response.bodyText()).isEqualTo("body");
        assertThat(response.header("X-Big")).isNull(); // the largest went first
        assertThat(response.header("X-More-0")).isNotNull();
        assertThat(response.header("Content-Type")).startsWith("text/plain");
    }
}
