package dev.proxyfilter.jetty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.config.ServerConfig;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.testing.Backends;
import dev.proxyfilter.testing.RawHttp;
import dev.proxyfilter.testing.TestBackend;
import dev.proxyfilter.testing.TestConfigs;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The HTTP/1.1 fast path ({@code server.fast-path}) over real sockets, with the factory's counters to tell
 * which requests it took and which it handed to Jetty's own connection: the behaviour suites run over it too
 * ({@code FAST_PATH}), this checks what only it does.
 */
@Timeout(60)
class FastPathIntegrationTest {
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

    /** A running standalone-style server with the fast path, its factory and its engine. */
    private record Proxy(URI uri, FastPathConnectionFactory fastPath, dev.proxyfilter.forward.ProxyEngine engine) {
        long gauge(String name) {
            return ((Number) engine.metrics().registry().getGauges().get(name).getValue()).longValue();
        }
    }

    private Proxy start(ProxyConfig config) throws Exception {
        return start(config, true);
    }

    /** With {@code fastPath} false: the same listener on Jetty's own HTTP/1.1 connection, and no factory. */
    private Proxy start(ProxyConfig config, boolean fastPath) throws Exception {
        Server server = new Server(new ProxyThreadPool(64, 4));
        ServerConfig listener = config.server().withFastPath(fastPath);
        ProxyHandler handler = new ProxyHandler(config);
        ServerConnector connector = new ServerConnector(
                server,
                1,
                1,
                JettyConnectors.plainFactories(listener, JettyConnectors.httpConfiguration(listener), handler::engine));
        JettyConnectors.limit(connector, listener);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(JettyConnectors.handler(handler, listener));
        server.start();
        track(server::stop);
        FastPathConnectionFactory factory = connector.getConnectionFactory(FastPathConnectionFactory.class);
        assertThat(factory != null)
                .as("the connector's HTTP/1.1 is the fast path")
                .isEqualTo(fastPath);
        return new Proxy(URI.create("http://127.0.0.1:" + connector.getLocalPort()), factory, handler.engine());
    }

    private Proxy start(TestBackend backend) throws Exception {
        return start(TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "a", backend.url(), 1)
                .route("main", "/", "web")
                .build());
    }

    /** One route to {@code backend} on a listener with this idle timeout (and a 10 s header timeout). */
    private static ProxyConfig withIdleTimeout(TestBackend backend, Duration idleTimeout) {
        return TestConfigs.builder()
                .server(new ServerConfig(
                        "127.0.0.1",
                        0,
                        ServerConfig.DEFAULT_MAX_HEADER_BYTES,
                        ServerConfig.DEFAULT_MAX_URI_BYTES,
                        Duration.ofSeconds(10),
                        idleTimeout,
                        null))
                .pool("web", StrategyName.ROUND_ROBIN, "a", backend.url(), 1)
                .route("main", "/", "web")
                .build();
    }

    private static void send(OutputStream out, String request) throws IOException {
        out.write(request.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    @Test
    void repeatedChangedAndReorderedHeaderLinesReachTheBackendAsSentOnOneConnection() throws Exception {
        TestBackend backend = track(TestBackend.start("a", new Backends.Echo("alpha")));
        Proxy proxy = start(backend);
        String[][] heads = {
            {"Host: a.test", "X-A: 1", "X-B: same", "User-Agent: ua/1"},
            {"Host: a.test", "X-A: 2", "X-B: same", "User-Agent: ua/1"},
            {"User-Agent: ua/1", "X-B: same", "Host: a.test", "X-A: 1"},
            {"Host: b.test", "X-A: 1", "X-B: same  ", "X-C: new", "User-Agent: ua/1"},
            {"Host: b.test", "X-B: same"}
        };
        try (Socket socket = new Socket(proxy.uri().getHost(), proxy.uri().getPort())) {
            socket.setSoTimeout(10_000);
            for (String[] lines : heads) {
                send(socket.getOutputStream(), "GET /h HTTP/1.1\r\n" + String.join("\r\n", lines) + "\r\n\r\n");
                RawHttp.Response response = RawHttp.read(socket.getInputStream(), false);
                String head = String.join(", ", lines);
                assertThat(response.status()).as(head).isEqualTo(200);
                assertThat(response.header("X-Echo-Host")).as(head).isEqualTo(valueOf(lines, "Host"));
                assertThat(response.header("X-Echo-X-A")).as(head).isEqualTo(valueOf(lines, "X-A"));
                assertThat(response.header("X-Echo-X-B")).as(head).isEqualTo("same");
                assertThat(response.header("X-Echo-X-C")).as(head).isEqualTo(valueOf(lines, "X-C"));
                assertThat(response.header("X-Echo-User-Agent")).as(head).isEqualTo(valueOf(lines, "User-Agent"));
            }
        }
        assertThat(proxy.fastPath().exchanges()).isEqualTo(heads.length);
        assertThat(proxy.fastPath().headsReadDirectly()).isEqualTo(heads.length);
        assertThat(proxy.fastPath().fallBacks()).isZero();
    }

    private static String valueOf(String[] lines, String name) {
        for (String line : lines) {
            if (line.startsWith(name + ":")) {
                return line.substring(name.length() + 1).trim();
            }
        }
        return null;
    }

    /**
     * Heads that are not plain are not read directly: Jetty's parser reads them, and each gets the answer it gets
     * without the fast path (the same status, the same header reaching the backend).
     */
    @Test
    void headsThatAreNotPlainGetTheAnswerJettysOwnConnectionGives() throws Exception {
        TestBackend backend = track(TestBackend.start("a", new Backends.Echo("alpha")));
        ProxyConfig config = TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "a", backend.url(), 1)
                .route("main", "/", "web")
                .build();
        Proxy fast = start(config, true);
        Proxy jetty = start(config, false);
        String[] heads = {
            "GET /p HTTP/1.1\r\nHost: a\r\nX-A : 1\r\n\r\n",
            "GET /p HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n 2\r\n\r\n",
            "GET /p HTTP/1.1\r\nHost: a\r\nX-A: caf\u00e9\r\n\r\n",
            "GET /p HTTP/1.1\r\nHost: a\r\nX-A: a\u0001b\r\n\r\n",
            "GET /p HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
            "GET /p HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
            "GET /p HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n",
            "GET /p HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "GET /p HTTP/1.1\r\nHost: a:99999\r\n\r\n",
            "GET /p HTTP/1.1\r\nX-A: 1\r\n\r\n",
            "GET /p HTTP/1.1\nHost: a\n\n",
            "GET /p HTTP/1.1\r\nHost: a\nX-A: 1\r\n\r\n",
            "get /p HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET  /p HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /p HTTP/1.1 \r\nHost: a\r\n\r\n",
            "GET /p HTTP/1.0\r\nHost: a\r\n\r\n",
            "GET /p\r\nHost: a\r\n\r\n",
            "GET /p HTTP/1.1\r\nHost: a\r\nX-A:\r\n\r\n",
            "\r\nGET /p HTTP/1.1\r\nHost: a\r\n\r\n",
            "MKCOL /p HTTP/1.1\r\nHost: a\r\n\r\n",
            "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"
        };
        for (String head : heads) {
            RawHttp.Response expected = RawHttp.exchange(jetty.uri(), head);
            RawHttp.Response actual = RawHttp.exchange(fast.uri(), head);
            String shown = head.replace("\r", "\\r").replace("\n", "\\n");
            assertThat(actual.status()).as(shown).isEqualTo(expected.status());
            assertThat(actual.header("X-Echo-X-A")).as(shown).isEqualTo(expected.header("X-Echo-X-A"));
            assertThat(actual.header("X-Received-Method")).as(shown).isEqualTo(expected.header("X-Received-Method"));
        }
        assertThat(fast.fastPath().headsReadDirectly())
                .as("the empty value and MKCOL only")
                .isEqualTo(2);
    }

    @Test
    void plainRequestsTakeTheFastPathOnAKeptAliveConnectionWithEveryHeaderRight() throws Exception {
        Backends.Echo echo = new Backends.Echo("alpha");
        TestBackend backend = track(TestBackend.start("a", echo));
        Proxy proxy = start(backend);

        try (Socket socket = new Socket(proxy.uri().getHost(), proxy.uri().getPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            for (String method : List.of("GET", "HEAD", "GET", "DELETE")) {
                send(out, method + " /x/y?q=1&r=a%20b HTTP/1.1\r\nHost: example.test:8080\r\nX-Custom: v\r\n\r\n");
                RawHttp.Response response = RawHttp.read(in, method.equals("HEAD"));
                assertThat(response.status()).as(method).isEqualTo(200);
                assertThat(response.header("Content-Length")).as(method).isEqualTo("5");
                assertThat(response.all("Date")).as(method).hasSize(1);
                assertThat(response.header("Connection")).as(method).isNull();
                assertThat(response.header("Via")).as(method).contains("proxy-filter");
                assertThat(response.header("X-Received-Method")).isEqualTo(method);
                assertThat(response.header("X-Received-Path")).isEqualTo("/x/y");
                assertThat(response.header("X-Received-Query")).isEqualTo("q=1&r=a%20b");
                assertThat(response.header("X-Echo-X-Custom")).isEqualTo("v");
                assertThat(response.header("X-Echo-X-Forwarded-For")).isEqualTo("127.0.0.1");
                assertThat(response.header("X-Echo-X-Forwarded-Host")).isEqualTo("example.test:8080");
                assertThat(response.header("X-Echo-X-Forwarded-Proto")).isEqualTo("http");
                if (!method.equals("HEAD")) {
                    assertThat(response.bodyText()).isEqualTo("alpha");
                }
            }
        }
        assertThat(proxy.fastPath().exchanges()).isEqualTo(4);
        assertThat(proxy.fastPath().fallBacks()).isZero();
        assertThat(proxy.gauge("proxy.fast_path.requests")).as("the metric").isEqualTo(4);
        assertThat(echo.requests).hasValue(4);
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        TestBackend backend = track(TestBackend.start("a", new Backends.Echo("alpha")));
        Proxy proxy = start(backend);
        try (Socket socket = new Socket(proxy.uri().getHost(), proxy.uri().getPort())) {
            socket.setSoTimeout(10_000);
            StringBuilder three = new StringBuilder();
            for (int i = 1; i <= 3; i++) {
                three.append("GET /p").append(i).append(" HTTP/1.1\r\nHost: h\r\n\r\n");
            }
            send(socket.getOutputStream(), three.toString());
            InputStream in = socket.getInputStream();
            for (int i = 1; i <= 3; i++) {
                RawHttp.Response response = RawHttp.read(in, false);
                assertThat(response.status()).isEqualTo(200);
                assertThat(response.header("X-Received-Path")).isEqualTo("/p" + i);
            }
        }
        assertThat(proxy.fastPath().exchanges()).isEqualTo(3);
    }

    @Test
    void connectionCloseIsHonouredAndTheConnectionEnds() throws Exception {
        TestBackend backend = track(TestBackend.start("a", new Backends.Echo("alpha")));
        Proxy proxy = start(backend);
        try (Socket socket = new Socket(proxy.uri().getHost(), proxy.uri().getPort())) {
            socket.setSoTimeout(10_000);
            send(socket.getOutputStream(), "GET /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
            InputStream in = socket.getInputStream();
            RawHttp.Response response = RawHttp.read(in, false);
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.header("Connection")).isEqualTo("close");
            assertThat(response.bodyText()).isEqualTo("alpha");
            assertThat(in.read()).as("the proxy closed the connection").isEqualTo(-1);
        }
        assertThat(proxy.fastPath().exchanges()).isEqualTo(1);
    }

    @Test
    void aResponseWithoutLengthIsChunkedAndALargeOneArrivesWhole() throws Exception {
        byte[] large = new byte[3 * 1024 * 1024 + 17];
        Backends.Digest.pattern(large, 0, large.length);
        TestBackend backend = track(TestBackend.start("a", new HttpServlet() {
            @Override
            protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
                if (req.getRequestURI().equals("/chunked")) {
                    resp.getOutputStream().write("part one,".getBytes(StandardCharsets.US_ASCII));
                    resp.flushBuffer();
                    resp.getOutputStream().write(" part two".getBytes(StandardCharsets.US_ASCII));
                } else {
                    resp.setContentLength(large.length);
                    resp.getOutputStream().write(large);
                }
            }
        }));
        Proxy proxy = start(backend);
        try (Socket socket = new Socket(proxy.uri().getHost(), proxy.uri().getPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            send(out, "GET /chunked HTTP/1.1\r\nHost: h\r\n\r\n");
            RawHttp.Response chunked = RawHttp.read(in, false);
            assertThat(chunked.header("Transfer-Encoding")).isEqualTo("chunked");
            assertThat(chunked.bodyText()).isEqualTo("part one, part two");

            send(out, "GET /large HTTP/1.1\r\nHost: h\r\n\r\n");
            RawHttp.Response whole = RawHttp.read(in, false);
            assertThat(whole.header("Content-Length")).isEqualTo(Integer.toString(large.length));
            assertThat(sha256(whole.body())).isEqualTo(sha256(large));
        }
        assertThat(proxy.fastPath().exchanges()).isEqualTo(2);
        assertThat(proxy.fastPath().fallBacks()).isZero();
    }

    @Test
    void whatTheFastPathDoesNotCoverFallsBackToJettyWithItsBytes() throws Exception {
        Backends.Echo echo = new Backends.Echo("alpha");
        TestBackend backend = track(TestBackend.start("a", echo));
        Proxy proxy = start(backend);
        HttpClient client =
                HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

        // A body: Jetty's connection reads it, the backend gets it whole.
        HttpResponse<String> post = client.send(
                HttpRequest.newBuilder(proxy.uri().resolve("/post"))
                        .POST(HttpRequest.BodyPublishers.ofString("the body"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(200);
        assertThat(post.body()).isEqualTo("the body");
        assertThat(proxy.fastPath().fallBacks()).isEqualTo(1);

        // An encoded path: Jetty's URI compliance and decoding, as before.
        try (Socket socket = new Socket(proxy.uri().getHost(), proxy.uri().getPort())) {
            socket.setSoTimeout(10_000);
            send(socket.getOutputStream(), "GET /a%2Fb HTTP/1.1\r\nHost: h\r\n\r\n");
            assertThat(RawHttp.read(socket.getInputStream(), false).status())
                    .as("an ambiguous encoded slash, refused by Jetty's URI compliance")
                    .isEqualTo(400);
        }
        // A bad request: Jetty's parser answers it.
        try (Socket socket = new Socket(proxy.uri().getHost(), proxy.uri().getPort())) {
            socket.setSoTimeout(10_000);
            send(socket.getOutputStream(), "GET /x HTTP/1.1\r\n\r\n");
            assertThat(RawHttp.read(socket.getInputStream(), false).status())
                    .as("no Host")
                    .isEqualTo(400);
        }
        // HTTP/1.0 and a plain GET on a connection that fell back earlier.
        try (Socket socket = new Socket(proxy.uri().getHost(), proxy.uri().getPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            send(out, "GET /old HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\n");
            RawHttp.Response old = RawHttp.read(socket.getInputStream(), false);
            assertThat(old.status()).isEqualTo(200);
            assertThat(old.bodyText()).isEqualTo("alpha");
        }
        assertThat(proxy.fastPath().fallBacks()).isEqualTo(4);
        assertThat(proxy.fastPath().exchanges()).isZero();
        assertThat(proxy.gauge("proxy.fast_path.fall_backs")).as("the metric").isEqualTo(4);
        assertThat(proxy.gauge("proxy.fast_path.requests")).isZero();
    }

    @Test
    void http2ByPriorKnowledgeStillWorks() throws Exception {
        TestBackend backend = track(TestBackend.start("a", new Backends.Echo("alpha")));
        Proxy proxy = start(backend);
        org.eclipse.jetty.http2.client.HTTP2Client http2 = new org.eclipse.jetty.http2.client.HTTP2Client();
        org.eclipse.jetty.client.HttpClient client = new org.eclipse.jetty.client.HttpClient(
                new org.eclipse.jetty.http2.client.transport.HttpClientTransportOverHTTP2(http2));
        client.start();
        track(client::stop);
        org.eclipse.jetty.client.ContentResponse response =
                client.GET(proxy.uri().resolve("/h2"));
        assertThat(response.getStatus()).isEqualTo(200);
        assertThat(response.getVersion()).isEqualTo(org.eclipse.jetty.http.HttpVersion.HTTP_2);
        assertThat(response.getContentAsString()).isEqualTo("alpha");
        assertThat(proxy.fastPath().fallBacks()).isEqualTo(1);
    }

    @Test
    void anIdleKeptAliveConnectionClosesAtTheIdleTimeoutAndASlowBackendIsWaitedFor() throws Exception {
        TestBackend backend = track(TestBackend.start("a", new Backends.Delayed("slow", 1500)));
        Proxy proxy = start(withIdleTimeout(backend, Duration.ofMillis(500)));
        try (Socket socket = new Socket(proxy.uri().getHost(), proxy.uri().getPort())) {
            socket.setSoTimeout(10_000);
            send(socket.getOutputStream(), "GET /slow HTTP/1.1\r\nHost: h\r\n\r\n");
            RawHttp.Response response = RawHttp.read(socket.getInputStream(), false);
            assertThat(response.status())
                    .as("1.5 s of backend time outlive a 0.5 s idle timeout")
                    .isEqualTo(200);
            long idleFrom = System.nanoTime();
            assertThat(socket.getInputStream().read()).as("closed when idle").isEqualTo(-1);
            assertThat(Duration.ofNanos(System.nanoTime() - idleFrom)).isLessThan(Duration.ofSeconds(5));
        }
        assertThat(proxy.fastPath().exchanges()).isEqualTo(1);
    }

    @Test
    void aClientThatLeavesMidResponseEndsTheExchangeAndTheCountGoesBackToZero() throws Exception {
        Backends.Slow slow = new Backends.Slow();
        TestBackend backend = track(TestBackend.start("a", slow));
        Proxy proxy = start(backend);
        try (Socket socket = new Socket(proxy.uri().getHost(), proxy.uri().getPort())) {
            socket.setSoTimeout(10_000);
            send(socket.getOutputStream(), "GET /slow?ms=3000 HTTP/1.1\r\nHost: h\r\n\r\n");
            await().atMost(Duration.ofSeconds(5)).until(() -> slow.started.get() == 1);
            assertThat(proxy.fastPath().inFlight()).isEqualTo(1);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> proxy.fastPath().inFlight() == 0);
    }

    @Test
    void theAccessLogLineOfAFastPathRequestCarriesEveryField(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path folder) throws Exception {
        TestBackend backend = track(TestBackend.start("a", new Backends.Echo("alpha")));
        java.nio.file.Path file = folder.resolve("access.log");
        ProxyConfig config = dev.proxyfilter.config.ConfigLoader.load(List.of(new dev.proxyfilter.config.ConfigSource(
                "test.properties",
                java.util.Map.of(
                        "pool.web.backend.a.url",
                        backend.url().toString(),
                        "route.main.path",
                        "/",
                        "route.main.pool",
                        "web",
                        "log.access.to",
                        file.toString()))));
        Proxy proxy = start(config);
        try (Socket socket = new Socket(proxy.uri().getHost(), proxy.uri().getPort())) {
            socket.setSoTimeout(10_000);
            send(
                    socket.getOutputStream(),
                    "GET /logged/x?k=v HTTP/1.1\r\nHost: h\r\nUser-Agent: fast/1\r\nReferer: http://r.test/\r\n\r\n");
            assertThat(RawHttp.read(socket.getInputStream(), false).status()).isEqualTo(200);
        }
        await().atMost(Duration.ofSeconds(5))
                .until(() -> java.nio.file.Files.exists(file)
                        && !java.nio.file.Files.readAllLines(file).isEmpty());
        String line = java.nio.file.Files.readAllLines(file).get(0);
        assertThat(line)
                .matches(
                        "127\\.0\\.0\\.1 - - \\[[^]]+] \"GET /logged/x\\?k=v HTTP/1\\.1\" 200 5 "
                                + "\"http://r\\.test/\" \"fast/1\" rt=\\d+\\.\\d{3} backend=web/a urt=\\d+\\.\\d{3} retries=0 cache=-");
        assertThat(proxy.fastPath().exchanges()).isEqualTo(1);
    }

    @Test
    void aHeadInSeveralPiecesIsTakenOrHandedOverWhole() throws Exception {
        Backends.Echo echo = new Backends.Echo("alpha");
        TestBackend backend = track(TestBackend.start("a", echo));
        Proxy proxy = start(backend);
        try (Socket socket = new Socket(proxy.uri().getHost(), proxy.uri().getPort())) {
            socket.setSoTimeout(10_000);
            socket.setTcpNoDelay(true);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            // A plain GET whose head arrives in three reads: the fast path's.
            send(out, "GET /split HTTP/1.1\r\nHo");
            Thread.sleep(200);
            send(out, "st: h\r\nX-Part");
            Thread.sleep(200);
            send(out, ": 3\r\n\r\n");
            RawHttp.Response get = RawHttp.read(in, false);
            assertThat(get.status()).isEqualTo(200);
            assertThat(get.header("X-Echo-X-Part")).isEqualTo("3");
            assertThat(proxy.fastPath().exchanges()).isEqualTo(1);

            // A POST whose head is split before the Content-Length: handed to Jetty with all of its bytes.
            send(out, "POST /post HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n");
            Thread.sleep(300);
            send(out, "Content-Length: 5\r\n\r\nhello");
            RawHttp.Response post = RawHttp.read(in, false);
            assertThat(post.status()).isEqualTo(200);
            assertThat(post.header("X-Received-Path")).isEqualTo("/post");
            assertThat(post.bodyText()).isEqualTo("hello");
        }
        assertThat(proxy.fastPath().fallBacks()).isEqualTo(1);
        assertThat(echo.requests).hasValue(2);
    }

    @Test
    void aRequestAfterTheIdleTimeoutShutTheConnectionIsNotForwarded() throws Exception {
        Backends.Echo echo = new Backends.Echo("alpha");
        TestBackend backend = track(TestBackend.start("a", echo));
        Proxy proxy = start(withIdleTimeout(backend, Duration.ofMillis(300)));
        try (Socket socket = new Socket(proxy.uri().getHost(), proxy.uri().getPort())) {
            socket.setSoTimeout(10_000);
            send(socket.getOutputStream(), "GET /first HTTP/1.1\r\nHost: h\r\n\r\n");
            assertThat(RawHttp.read(socket.getInputStream(), false).status()).isEqualTo(200);
            Thread.sleep(1500); // the idle timeout shuts the proxy's side of the connection
            try {
                send(socket.getOutputStream(), "DELETE /second HTTP/1.1\r\nHost: h\r\n\r\n");
                assertThat(socket.getInputStream().read())
                        .as("no answer: the connection ends")
                        .isEqualTo(-1);
            } catch (IOException closed) {
                // the connection was gone already: as good
            }
        }
        Thread.sleep(300);
        assertThat(echo.requests)
                .as("the late request never reached the backend")
                .hasValue(1);
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
