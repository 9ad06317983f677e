package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.ConfigLoader;
import dev.proxyfilter.config.ConfigSource;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.RawHttp;
import dev.proxyfilter.testing.RecordingBackend;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code Expect: 100-continue} through every adapter, over raw sockets (README, "What the proxy does with a
 * request", step 3). The client sends the head and waits, as curl does. A request the proxy forwards gets its
 * 100 when the proxy starts reading the body, and the backend gets the whole body and no {@code Expect}; a
 * request refused from its head (a {@code Content-Length} over the route's {@code max-body-bytes}, an access
 * rule) gets its status with no 100 before it, so the client never sends the body, and nothing reaches the
 * backend.
 *
 * <p>The one exception is the filter in a Tomcat with its default {@code continueResponseTiming="immediately"}:
 * Tomcat sends the 100 before any filter runs, so the client sends the body; it still gets the refusal and the
 * backend still sees nothing. With {@code continueResponseTiming="onRead"} the filter behaves as the others.
 */
@Timeout(60)
class ExpectContinueIntegrationTest {
    private static final int BODY_BYTES = 64 * 1024;
    private static final Map<String, String> ON_READ = Map.of("continueResponseTiming", "onRead");

    private final RecordingBackend backend = new RecordingBackend();
    private ProxyAdapter.Running proxy;

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        backend.close();
    }

    private ProxyConfig config() {
        return ConfigLoader.load(List.of(new ConfigSource(
                "test",
                Map.of(
                        "pool.web.backend.a.url", backend.url().toString(),
                        "route.up.path", "/up",
                        "route.up.pool", "web",
                        "route.small.path", "/small",
                        "route.small.pool", "web",
                        "route.small.max-body-bytes", "1024",
                        "route.deny.path", "/deny",
                        "route.deny.pool", "web",
                        "route.deny.deny", "127.0.0.0/8"))));
    }

    private static byte[] head(String path, int contentLength) {
        return ("POST " + path + " HTTP/1.1\r\nHost: app.example\r\nContent-Type: application/octet-stream\r\n"
                        + "Content-Length: " + contentLength + "\r\nExpect: 100-continue\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] body(int length) {
        byte[] body = new byte[length];
        Arrays.fill(body, (byte) 'e');
        return body;
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void theBodyIsSentAfterThe100AndReachesTheBackendWhole(ProxyAdapter adapter) throws Exception {
        proxy = adapter.start(config());
        assertForwardedAfter100();
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void aBodyOverTheRouteLimitIsRefusedFromTheHead(ProxyAdapter adapter) throws Exception {
        proxy = adapter.start(config());
        if (adapter == ProxyAdapter.FILTER_IN_TOMCAT) {
            assertRefusedAfterTomcatsImmediate100("/small/file", 4096, 413);
        } else {
            assertRefusedWithout100("/small/file", 1_000_000, 413);
        }
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void aDeniedClientIsRefusedFromTheHead(ProxyAdapter adapter) throws Exception {
        proxy = adapter.start(config());
        if (adapter == ProxyAdapter.FILTER_IN_TOMCAT) {
            assertRefusedAfterTomcatsImmediate100("/deny/file", BODY_BYTES, 403);
        } else {
            assertRefusedWithout100("/deny/file", BODY_BYTES, 403);
        }
    }

    @Test
    void theFilterInATomcatThatAnswersOnReadForwardsAfterThe100AndRefusesWithoutOne() throws Exception {
        proxy = ProxyAdapter.FILTER_IN_TOMCAT.startInTomcat(config(), ON_READ);
        assertRefusedWithout100("/small/file", 1_000_000, 413);
        assertRefusedWithout100("/deny/file", BODY_BYTES, 403);
        assertForwardedAfter100();
    }

    @Test
    void theValveInATomcatThatAnswersOnReadForwardsAfterThe100() throws Exception {
        proxy = ProxyAdapter.VALVE_IN_TOMCAT.startInTomcat(config(), ON_READ);
        assertRefusedWithout100("/small/file", 1_000_000, 413);
        assertForwardedAfter100();
    }

    private Socket connect() throws IOException {
        Socket socket = new Socket(proxy.uri().getHost(), proxy.uri().getPort());
        socket.setSoTimeout(10_000);
        return socket;
    }

    /** Reads the next response (interim or final); a silent proxy fails the test instead of hanging it. */
    private static RawHttp.Response next(InputStream in, String waitingFor) throws IOException {
        try {
            return RawHttp.read(in, false);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no answer within 10 s while waiting for " + waitingFor, e);
        }
    }

    private void assertForwardedAfter100() throws IOException {
        int before = backend.received().size();
        byte[] body = body(BODY_BYTES);
        try (Socket socket = connect()) {
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            out.write(head("/up/file", BODY_BYTES));
            out.flush();

            RawHttp.Response interim = next(in, "the 100");
            assertThat(interim.status()).as("the answer to the head alone").isEqualTo(100);
            assertThat(backend.received())
                    .as("nothing complete reached the backend yet")
                    .hasSize(before);

            out.write(body);
            out.flush();
            RawHttp.Response response = next(in, "the backend's answer");
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.bodyText()).isEqualTo("ok");
        }
        assertThat(backend.received()).hasSize(before + 1);
        RecordingBackend.Received received = backend.received().get(before);
        assertThat(received.requestLine()).isEqualTo("POST /up/file HTTP/1.1");
        assertThat(received.body()).isEqualTo(body);
        assertThat(received.headers("Expect"))
                .as("hop-by-hop: the proxy answered it")
                .isEmpty();
    }

    /** Sends the head only: the refusal is the first answer, and the body is never sent. */
    private void assertRefusedWithout100(String path, int contentLength, int status) throws IOException {
        try (Socket socket = connect()) {
            socket.getOutputStream().write(head(path, contentLength));
            socket.getOutputStream().flush();
            RawHttp.Response response = next(socket.getInputStream(), "the refusal");
            assertThat(response.status()).as("the first answer to the head").isEqualTo(status);
        }
        assertThat(backend.received()).as("nothing reached the backend").isEmpty();
    }

    /** Tomcat's default: a 100 before the filter runs, so the client sends the body, then gets the refusal. */
    private void assertRefusedAfterTomcatsImmediate100(String path, int contentLength, int status) throws IOException {
        try (Socket socket = connect()) {
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            out.write(head(path, contentLength));
            out.flush();
            assertThat(next(in, "Tomcat's 100").status()).isEqualTo(100);
            try {
                out.write(body(contentLength));
                out.flush();
            } catch (IOException e) {
                // the refusal may close the connection before the whole body is written
            }
            assertThat(next(in, "the refusal").status()).isEqualTo(status);
        }
        assertThat(backend.received()).as("nothing reached the backend").isEmpty();
    }
}
