package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.balance.Backend;
import dev.proxyfilter.balance.BackendState;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.metrics.ProxyMetrics;
import dev.proxyfilter.testing.Backends;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.TestBackend;
import dev.proxyfilter.testing.TestConfigs;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A client that goes away in the middle of a download is the client's doing, not the backend's: the
 * exchange ends, and the backend's error count and health stay as they were (nginx logs such a request
 * as 499, not 502). A write to the gone client used to be reported as "backend failed after the
 * response started" and counted as a reset of the backend.
 */
@Timeout(60)
class ClientGoneIntegrationTest {
    private static final long BODY_BYTES = 64L * 1024 * 1024;

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void aClientThatResetsMidDownloadIsNoBackendFailure(ProxyAdapter adapter) throws Exception {
        try (TestBackend a = TestBackend.start("a", new Backends.Digest());
                ProxyAdapter.Running proxy = adapter.start(TestConfigs.builder()
                        .pool("web", StrategyName.ROUND_ROBIN, "a", a.url(), 1)
                        .route("main", "/", "web")
                        .build())) {
            Backend backend = proxy.engine().pools().get("web").backend("a").orElseThrow();
            for (int i = 0; i < 3; i++) {
                try (Socket socket =
                        new Socket(proxy.uri().getHost(), proxy.uri().getPort())) {
                    socket.setSoTimeout(10_000);
                    socket.getOutputStream()
                            .write(("GET /?size=" + BODY_BYTES + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                                    .getBytes(StandardCharsets.ISO_8859_1));
                    InputStream in = socket.getInputStream();
                    assertThat(in.readNBytes(256 * 1024))
                            .as("the head and the start of the body")
                            .hasSize(256 * 1024);
                    socket.setSoLinger(true, 0); // closed with a reset, as by a client killed mid-download
                }
            }

            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> backend.inFlight() == 0);
            ProxyMetrics.BackendMetrics metrics = proxy.engine().metrics().backend("web", "a");
            for (ProxyMetrics.ErrorKind kind : ProxyMetrics.ErrorKind.values()) {
                assertThat(metrics.errors(kind))
                        .as("backend errors of kind %s", kind)
                        .isZero();
            }
            assertThat(backend.state()).isEqualTo(BackendState.UP);
        }
    }
}
