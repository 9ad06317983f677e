package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.RequestLimits;
import dev.proxyfilter.config.RouteConfig;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.RawHttp;
import dev.proxyfilter.testing.RecordingBackend;
import dev.proxyfilter.testing.TestConfigs;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.assertj.core.api.SoftAssertions;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Hostile requests over raw sockets, through every adapter, against a backend that records exactly
 * what reached it. Each attack must be refused (the status is checked) and the backend must have
 * received nothing, or one clean request: one framing header, a clean body, nothing smuggled after it.
 */
@Timeout(120)
class StrictHttpIntegrationTest {
    private final List<AutoCloseable> resources = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private <T extends AutoCloseable> T track(T resource) {
        resources.add(resource);
        return resource;
    }

    /**
     * One hostile request and the acceptable answers in Jetty and in Tomcat: 200 only where the container
     * normalises the request into one unambiguous message, -1 where it closes the connection without an
     * answer (Tomcat does that for a malformed chunked body).
     */
    private record Attack(String name, String request, Set<Integer> jetty, Set<Integer> tomcat) {
        Set<Integer> statuses(ProxyAdapter adapter) {
            return adapter.name().contains("TOMCAT") ? tomcat : jetty;
        }
    }

    private static final String HEAD = "POST /x HTTP/1.1\r\nHost: h\r\n";

    static List<Attack> attacks() {
        Set<Integer> bad = Set.of(400);
        Set<Integer> badOrUnknownCoding = Set.of(400, 501);
        Set<Integer> normalised = Set.of(400, 200);
        Set<Integer> closed = Set.of(400, -1);
        return List.of(
                // Tomcat lets Transfer-Encoding win, drops Content-Length and closes the connection afterwards.
                new Attack(
                        "CL and TE",
                        HEAD + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                        bad,
                        normalised),
                new Attack(
                        "CL.TE smuggling a request",
                        HEAD + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
                                + "5\r\nhello\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n",
                        bad,
                        normalised),
                new Attack(
                        "two equal Content-Lengths",
                        HEAD + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
                        bad,
                        bad),
                new Attack(
                        "two differing Content-Lengths",
                        HEAD + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
                        bad,
                        bad),
                new Attack("Content-Length list", HEAD + "Content-Length: 5, 5\r\n\r\nhello", bad, bad),
                new Attack("signed Content-Length", HEAD + "Content-Length: +5\r\n\r\nhello", bad, bad),
                new Attack(
                        "xchunked",
                        HEAD + "Transfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                        badOrUnknownCoding,
                        badOrUnknownCoding),
                new Attack(
                        "chunked, identity",
                        HEAD + "Transfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                        badOrUnknownCoding,
                        badOrUnknownCoding),
                new Attack(
                        "chunked twice",
                        HEAD + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
                                + "5\r\nhello\r\n0\r\n\r\n",
                        badOrUnknownCoding,
                        badOrUnknownCoding),
                new Attack(
                        "space before colon",
                        HEAD + "Transfer-Encoding : chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                        bad,
                        bad),
                new Attack(
                        "tab before colon",
                        HEAD + "Transfer-Encoding\t: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                        bad,
                        bad),
                // Tomcat unfolds obs-fold into a space (RFC 9112 section 5.2 allows that).
                new Attack(
                        "TE folded onto the next line",
                        HEAD + "Transfer-Encoding:\r\n chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                        badOrUnknownCoding,
                        Set.of(400, 501, 200)),
                new Attack("obs-fold", "GET /x HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n", bad, normalised),
                new Attack(
                        "invalid chunk size",
                        HEAD + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
                        bad,
                        closed),
                new Attack(
                        "negative chunk size",
                        HEAD + "Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
                        bad,
                        closed),
                new Attack(
                        "overflowing chunk size",
                        HEAD + "Transfer-Encoding: chunked\r\n\r\n" + "10000000000000005\r\nhello\r\n0\r\n\r\n",
                        bad,
                        closed),
                new Attack(
                        "unterminated chunk extension",
                        HEAD + "Transfer-Encoding: chunked\r\n\r\n" + "5;x=\"open\r\nhello\r\n0\r\n\r\n",
                        normalised,
                        Set.of(400, 200, -1)),
                new Attack(
                        "chunk data longer than its size",
                        HEAD + "Transfer-Encoding: chunked\r\n\r\n" + "5\r\nhello world\r\n0\r\n\r\n",
                        bad,
                        closed),
                new Attack(
                        "bare LF in chunks", HEAD + "Transfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n", bad, closed),
                new Attack(
                        "bare LF in the head",
                        "POST /x HTTP/1.1\nHost: h\nContent-Length: 5\n\nhello",
                        bad,
                        normalised),
                new Attack("NUL in a header value", "GET /x HTTP/1.1\r\nHost: h\r\nX-A: a\u0000b\r\n\r\n", bad, bad),
                new Attack("CR in a header value", "GET /x HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n", bad, bad),
                new Attack("NUL in a header name", "GET /x HTTP/1.1\r\nHost: h\r\nX-\u0000A: b\r\n\r\n", bad, bad),
                new Attack("DEL in a header name", "GET /x HTTP/1.1\r\nHost: h\r\nX-\u007fA: b\r\n\r\n", bad, bad),
                new Attack("header without colon", "GET /x HTTP/1.1\r\nHost: h\r\nX-A b\r\n\r\n", bad, bad),
                new Attack("two Host headers", "GET /x HTTP/1.1\r\nHost: h\r\nHost: evil.example\r\n\r\n", bad, bad));
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void ambiguousFramingNeverReachesTheBackend(ProxyAdapter adapter) throws Exception {
        RecordingBackend backend = track(new RecordingBackend());
        ProxyAdapter.Running proxy = track(adapter.start(TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "a", backend.url(), 1)
                .route("main", "/", "web")
                .build()));

        SoftAssertions softly = new SoftAssertions();
        for (Attack attack : attacks()) {
            int before = backend.received().size();
            int status = statusOf(proxy.uri(), attack.request());
            awaitEnded(proxy); // the engine ended every exchange: anything it forwarded was answered
            List<RecordingBackend.Received> received = backend.received();
            List<RecordingBackend.Received> reached = received.subList(before, received.size());
            softly.assertThat(status)
                    .as("%s: %s status", adapter, attack.name())
                    .isIn(attack.statuses(adapter));
            softly.assertThat(reached.size())
                    .as("%s: %s requests at the backend", adapter, attack.name())
                    .isLessThanOrEqualTo(status == 200 ? 1 : 0);
            for (RecordingBackend.Received request : reached) {
                assertClean(softly, adapter + ": " + attack.name(), request);
            }
        }
        softly.assertAll();
    }

    /** One framing, a clean head, the body the client meant. */
    /**
     * Waits for the positive signal that everything the proxy forwarded has reached the backend: the engine
     * ended every exchange, and it ends a forwarded one only once the backend answered it.
     */
    private static void awaitEnded(ProxyAdapter.Running proxy) {
        Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .until(() -> proxy.engine().inFlightExchanges() == 0);
    }

    private static void assertClean(SoftAssertions softly, String name, RecordingBackend.Received request) {
        if (request.requestLine().startsWith("GET ")) {
            softly.assertThat(request.requestLine()).as(name).isEqualTo("GET /x HTTP/1.1");
            softly.assertThat(request.body()).as(name).isEmpty();
            softly.assertThat(request.head()).as(name).doesNotContain("\u0000").doesNotContain("\r\n ");
            return;
        }
        softly.assertThat(request.requestLine()).as(name).isEqualTo("POST /x HTTP/1.1");
        int framings = request.headers("Content-Length").size()
                + request.headers("Transfer-Encoding").size();
        softly.assertThat(framings).as("%s framing headers", name).isEqualTo(1);
        request.headers("Transfer-Encoding")
                .forEach(te -> softly.assertThat(te.toLowerCase(Locale.ROOT)).isEqualTo("chunked"));
        softly.assertThat(request.bodyText()).as(name).isEqualTo("hello");
        softly.assertThat(request.head()).as(name).doesNotContain("\u0000").doesNotContain("smuggled");
    }

    /** The status the proxy answers, or -1 when it closed the connection without one. */
    private static int statusOf(URI proxy, String request) throws IOException {
        try {
            return RawHttp.exchange(proxy, request.replace("Host: h\r\n", "Host: h\r\nConnection: close\r\n"))
                    .status();
        } catch (IOException e) {
            return -1;
        }
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void aNormalisedRequestReachesTheBackendClean(ProxyAdapter adapter) throws Exception {
        RecordingBackend backend = track(new RecordingBackend());
        ProxyAdapter.Running proxy = track(adapter.start(TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "a", backend.url(), 1)
                .route("main", "/", "web")
                .build()));

        RawHttp.Response chunked = RawHttp.exchange(
                proxy.uri(),
                HEAD + "Connection: close\r\n"
                        + "Transfer-Encoding: CHUNKED\r\n\r\n2;ext=1\r\nhe\r\n3\r\nllo\r\n0\r\nX-Trailer: t\r\n\r\n");
        RawHttp.Response tab =
                RawHttp.exchange(proxy.uri(), HEAD + "Connection: close\r\n" + "Content-Length:\t5\t\r\n\r\nhello");

        assertThat(chunked.status()).isEqualTo(200);
        assertThat(tab.status()).isEqualTo(200);
        List<RecordingBackend.Received> received = backend.received();
        assertThat(received).hasSize(2);
        SoftAssertions softly = new SoftAssertions();
        received.forEach(r -> assertClean(softly, adapter.toString(), r));
        softly.assertAll();
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void pathTraversalIsNormalisedBeforeRouting(ProxyAdapter adapter) throws Exception {
        RecordingBackend publicBackend = track(new RecordingBackend());
        RecordingBackend adminBackend = track(new RecordingBackend());
        ProxyAdapter.Running proxy = track(adapter.start(TestConfigs.builder()
                .pool("public", StrategyName.ROUND_ROBIN, "p", publicBackend.url(), 1)
                .pool("admin", StrategyName.ROUND_ROBIN, "a", adminBackend.url(), 1)
                .route("public", "/public", "public")
                .route("admin", "/admin", "admin")
                .build()));

        int dotDot = get(proxy.uri(), "/public/../admin/users");
        int encoded = get(proxy.uri(), "/public/%2e%2e/admin/users");
        int slashes = get(proxy.uri(), "/public//a/./b");
        int encodedSlash = get(proxy.uri(), "/public/..%2Fadmin/users");
        int dotDotParam = get(proxy.uri(), "/public/..;/admin/users");
        int aboveRoot = get(proxy.uri(), "/../admin/users");

        // Containers reject some of these themselves; where they pass, the engine normalises or refuses.
        assertThat(dotDot).isEqualTo(200);
        assertThat(encoded).isIn(200, 400);
        assertThat(slashes).isIn(200, 400);
        assertThat(encodedSlash).isEqualTo(400);
        assertThat(dotDotParam).isEqualTo(400);
        assertThat(aboveRoot).isEqualTo(400);
        awaitEnded(proxy); // the engine ended every exchange: anything it forwarded was answered
        assertThat(adminBackend.received())
                .extracting(RecordingBackend.Received::requestLine)
                .containsOnly("GET /admin/users HTTP/1.1")
                .hasSize(encoded == 200 ? 2 : 1);
        assertThat(publicBackend.received())
                .extracting(RecordingBackend.Received::requestLine)
                .containsExactlyElementsOf(slashes == 200 ? List.of("GET /public/a/b HTTP/1.1") : List.of());
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void connectIsRefusedAndNothingIsTunnelled(ProxyAdapter adapter) throws Exception {
        RecordingBackend backend = track(new RecordingBackend());
        ProxyAdapter.Running proxy = track(adapter.start(TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "a", backend.url(), 1)
                .route("main", "/", "web")
                .build()));

        int connect = statusOf(proxy.uri(), "CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n");

        // Jetty hands CONNECT to the adapter (405); Tomcat refuses it itself (501).
        assertThat(connect).isEqualTo(adapter.name().contains("TOMCAT") ? 501 : 405);
        assertThat(backend.received()).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void headerCountAndBodySizeLimits(ProxyAdapter adapter) throws Exception {
        RecordingBackend backend = track(new RecordingBackend());
        ProxyAdapter.Running proxy = track(adapter.start(TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "a", backend.url(), 1)
                .route("main", "/", "web")
                .route(new RouteConfig(
                        "small",
                        null,
                        "/small",
                        "web",
                        false,
                        true,
                        Duration.ofSeconds(2),
                        Duration.ofSeconds(10),
                        Duration.ZERO,
                        dev.proxyfilter.config.RetryConfig.DEFAULT,
                        10))
                .limits(new RequestLimits(20, 4096, Duration.ZERO))
                .build()));

        StringBuilder many = new StringBuilder("GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n");
        for (int i = 0; i < 30; i++) {
            many.append("X-H").append(i).append(": v\r\n");
        }
        int tooManyHeaders =
                RawHttp.exchange(proxy.uri(), many.append("\r\n").toString()).status();
        int tooLarge = RawHttp.exchange(
                        proxy.uri(), HEAD + "Connection: close\r\nContent-Length: 5000\r\n\r\n" + "x".repeat(5000))
                .status();
        int routeLimit = RawHttp.exchange(
                        proxy.uri(),
                        "POST /small HTTP/1.1\r\nHost: h\r\nConnection: close\r\n"
                                + "Content-Length: 11\r\n\r\nhello world")
                .status();
        int fits = RawHttp.exchange(proxy.uri(), HEAD + "Connection: close\r\nContent-Length: 5\r\n\r\nhello")
                .status();

        assertThat(tooManyHeaders).isEqualTo(431);
        assertThat(tooLarge).isEqualTo(413);
        assertThat(routeLimit).isEqualTo(413);
        assertThat(fits).isEqualTo(200);
        awaitEnded(proxy); // the engine ended every exchange: anything it forwarded was answered
        assertThat(backend.received()).hasSize(1);
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void aChunkedBodyIsCutOffWhenItCrossesTheLimitMidStream(ProxyAdapter adapter) throws Exception {
        RecordingBackend backend = track(new RecordingBackend());
        ProxyAdapter.Running proxy = track(adapter.start(TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "a", backend.url(), 1)
                .route("main", "/", "web")
                .limits(new RequestLimits(100, 4096, Duration.ZERO))
                .build()));

        try (Socket socket = new Socket(proxy.uri().getHost(), proxy.uri().getPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(ascii(HEAD + "Transfer-Encoding: chunked\r\n\r\n"));
            String chunk = "3e8\r\n" + "y".repeat(1000) + "\r\n";
            for (int i = 0; i < 5; i++) {
                out.write(ascii(chunk));
                out.flush();
                Thread.sleep(20);
            }
            // No last chunk: the proxy must answer without waiting for the rest of the body.
            RawHttp.Response response = RawHttp.read(socket.getInputStream(), false);
            assertThat(response.status()).isEqualTo(413);
        }
        awaitEnded(proxy); // the engine ended every exchange: anything it forwarded was answered
        assertThat(backend.received()).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void aSlowBodyIsCutOffAfterTheBodyTimeout(ProxyAdapter adapter) throws Exception {
        RecordingBackend backend = track(new RecordingBackend());
        ProxyAdapter.Running proxy = track(adapter.start(TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "a", backend.url(), 1)
                .route("main", "/", "web")
                .limits(new RequestLimits(100, 0, Duration.ofMillis(800)))
                .build()));

        long start = System.nanoTime();
        try (Socket socket = new Socket(proxy.uri().getHost(), proxy.uri().getPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(ascii(HEAD + "Content-Length: 100\r\n\r\nabc"));
            out.flush();
            InputStream in = socket.getInputStream();
            // Trickle a byte every 200 ms: never idle, never done.
            for (int i = 0; i < 50 && in.available() == 0; i++) {
                Thread.sleep(200);
                try {
                    out.write('d');
                    out.flush();
                } catch (IOException closed) {
                    break;
                }
            }
            RawHttp.Response response = RawHttp.read(in, false);
            assertThat(response.status()).isEqualTo(408);
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        assertThat(backend.received()).isEmpty();
    }

    private static int get(URI proxy, String path) throws IOException {
        return statusOf(proxy, "GET " + path + " HTTP/1.1\r\nHost: h\r\n\r\n");
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }
}
