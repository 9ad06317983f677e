package dev.proxyfilter.standalone;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The standalone proxy's listener under hostile clients, over raw sockets: its compliance modes, its
 * limits (431, 414), its header deadline against slowloris, and no open proxy (403, 405). A counting
 * backend shows that nothing refused ever reached it.
 */
@Timeout(60)
class StrictListenerIntegrationTest {
    @TempDir
    Path dir;

    private NamedBackend backend;
    private RunningProxy proxy;

    @BeforeEach
    void start() throws Exception {
        backend = NamedBackend.start("a");
        Path config = Files.writeString(
                dir.resolve("proxy.properties"), """
                server.host=127.0.0.1
                server.port=0
                server.max-header-bytes=4096
                server.max-uri-bytes=1024
                server.header-timeout=1s
                server.idle-timeout=5s
                admin.port=-1
                pool.web.backend.a.url=%s
                route.main.path=/app
                route.main.host=app.example
                route.main.pool=web
                """.formatted(backend.uri()), StandardCharsets.UTF_8);
        proxy = ProxyMain.start("--config", config.toString());
    }

    @AfterEach
    void stop() throws Exception {
        proxy.stop();
        backend.close();
    }

    @Test
    void aCleanRequestPasses() throws Exception {
        assertThat(status("GET /app/x HTTP/1.1\r\nHost: app.example\r\n\r\n")).isEqualTo(200);
        assertThat(backend.requests()).isEqualTo(1);
    }

    @Test
    void ambiguousFramingIsRefusedByTheListener() throws Exception {
        String head = "POST /app/x HTTP/1.1\r\nHost: app.example\r\n";
        assertThat(status(head + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"))
                .isEqualTo(400);
        assertThat(status(head + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"))
                .isEqualTo(400);
        assertThat(status(head + "Transfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"))
                .isIn(400, 501);
        assertThat(status(head + "Transfer-Encoding : chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"))
                .isEqualTo(400);
        assertThat(status("GET /app/x HTTP/1.1\r\nHost: app.example\r\nX-A: a\r\n b\r\n\r\n"))
                .isEqualTo(400);
        assertThat(status("GET /app/x HTTP/1.1\nHost: app.example\n\n")).isEqualTo(400);
        assertThat(status(head + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"))
                .isEqualTo(400);
        assertThat(status("GET /app/%2e%2e/x HTTP/1.1\r\nHost: app.example\r\n\r\n"))
                .isEqualTo(400);
        assertThat(status("GET /app/a%2Fb HTTP/1.1\r\nHost: app.example\r\n\r\n"))
                .isEqualTo(400);
        assertThat(backend.requests()).isZero();
    }

    @Test
    void headerAndUriLimits() throws Exception {
        String bigHeader = "X-Big: " + "b".repeat(5000) + "\r\n";
        assertThat(status("GET /app/x HTTP/1.1\r\nHost: app.example\r\n" + bigHeader + "\r\n"))
                .isEqualTo(431);
        assertThat(status("GET /app/" + "u".repeat(2000) + " HTTP/1.1\r\nHost: app.example\r\n\r\n"))
                .isEqualTo(414);
        assertThat(status("GET /app/" + "u".repeat(5000) + " HTTP/1.1\r\nHost: app.example\r\n\r\n"))
                .isEqualTo(414);
        assertThat(backend.requests()).isZero();
    }

    @Test
    void noOpenProxy() throws Exception {
        assertThat(status("GET http://evil.example/app/x HTTP/1.1\r\nHost: evil.example\r\n\r\n"))
                .isEqualTo(403);
        assertThat(status("GET /app/x HTTP/1.1\r\nHost: evil.example\r\n\r\n")).isEqualTo(403);
        assertThat(status("CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n"))
                .isEqualTo(405);
        assertThat(status("CONNECT app.example:443 HTTP/1.1\r\nHost: app.example:443\r\n\r\n"))
                .isEqualTo(405);
        assertThat(response("CONNECT app.example:443 HTTP/1.1\r\nHost: app.example:443\r\nConnection: close\r\n\r\n"))
                .containsIgnoringCase("\r\nAllow: GET, HEAD, POST");
        assertThat(backend.requests()).isZero();
        // The absolute form of a host a route serves is an ordinary request (RFC 9112 section 3.2.2).
        assertThat(status("GET http://app.example/app/x HTTP/1.1\r\nHost: app.example\r\n\r\n"))
                .isEqualTo(200);
        assertThat(backend.requests()).isEqualTo(1);
    }

    @Test
    void slowlorisIsCutOffWhileOthersAreServed() throws Exception {
        String head = "GET /app/slow HTTP/1.1\r\nHost: app.example\r\nX-Slow: " + "s".repeat(40) + "\r\n\r\n";
        long start = System.nanoTime();
        long closedAfterMillis = -1;
        java.util.concurrent.CompletableFuture<Integer> other = null;
        try (Socket socket = new Socket("127.0.0.1", proxy.port())) {
            socket.setSoTimeout(5_000);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            for (int i = 0; i < head.length(); i++) {
                try {
                    out.write(head.charAt(i));
                    out.flush();
                } catch (SocketException closed) {
                    closedAfterMillis = (System.nanoTime() - start) / 1_000_000;
                    break;
                }
                if (i == 2) {
                    // Meanwhile, another client is served: no thread waits for the slow one.
                    other = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                        try {
                            return status("GET /app/other HTTP/1.1\r\nHost: app.example\r\n\r\n");
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    });
                }
                Thread.sleep(250);
                if (in.available() > 0 || peerClosed(socket)) {
                    closedAfterMillis = (System.nanoTime() - start) / 1_000_000;
                    break;
                }
            }
        }
        // header-timeout is 1 s; the rest is the 250 ms polling and a loaded machine.
        assertThat(closedAfterMillis).as("closed after ms").isBetween(500L, 4_000L);
        assertThat(other).isNotNull();
        assertThat(other.get(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(200);
        assertThat(backend.requests()).isEqualTo(1); // only the other client's request
    }

    /** Whether the server closed: a read that returns -1 (or fails) instead of timing out. */
    private static boolean peerClosed(Socket socket) throws IOException {
        socket.setSoTimeout(1);
        try {
            return socket.getInputStream().read() < 0;
        } catch (java.net.SocketTimeoutException stillOpen) {
            return false;
        } catch (IOException reset) {
            return true;
        } finally {
            socket.setSoTimeout(5_000);
        }
    }

    /** Sends {@code request} as it is and returns the whole response as text. */
    private String response(String request) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", proxy.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    /** Sends {@code request} (Connection: close added) and returns the status, or -1 if none came. */
    /**
     * {@code server.h2c} (on by default): HTTP/2 by prior knowledge and by {@code Upgrade: h2c}, under the
     * listener's rules where HTTP/2 has them: routing by {@code :authority}, strict URIs, the header limit.
     */
    @Test
    void h2cByPriorKnowledgeAndByUpgradeUnderTheSameRules() throws Exception {
        org.eclipse.jetty.http2.client.HTTP2Client client = new org.eclipse.jetty.http2.client.HTTP2Client();
        client.start();
        try {
            org.eclipse.jetty.http2.api.Session session = client.connect(
                            new java.net.InetSocketAddress("127.0.0.1", proxy.port()),
                            new org.eclipse.jetty.http2.api.Session.Listener() {})
                    .get(5, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(h2Status(session, "/app/x", org.eclipse.jetty.http.HttpFields.EMPTY))
                    .isEqualTo(200);
            assertThat(h2Status(session, "/app/%2e%2e/x", org.eclipse.jetty.http.HttpFields.EMPTY))
                    .isEqualTo(400);
            org.eclipse.jetty.http.HttpFields big =
                    org.eclipse.jetty.http.HttpFields.build().put("x-big", "b".repeat(5000));
            assertThat(h2Status(session, "/app/x", big)).isNotEqualTo(200);
            // The header deadline is HTTP/1's: an HTTP/2 connection quiet past it (1 s here) stays open.
            org.eclipse.jetty.http2.api.Session again = client.connect(
                            new java.net.InetSocketAddress("127.0.0.1", proxy.port()),
                            new org.eclipse.jetty.http2.api.Session.Listener() {})
                    .get(5, java.util.concurrent.TimeUnit.SECONDS);
            Thread.sleep(1500);
            assertThat(h2Status(again, "/app/x", org.eclipse.jetty.http.HttpFields.EMPTY))
                    .isEqualTo(200);
        } finally {
            client.stop();
        }
        assertThat(backend.requests()).isEqualTo(2);

        java.net.http.HttpClient upgrading = java.net.http.HttpClient.newBuilder()
                .version(java.net.http.HttpClient.Version.HTTP_2)
                .build();
        java.net.http.HttpResponse<Void> response = upgrading.send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + proxy.port() + "/app/x"))
                        .timeout(java.time.Duration.ofSeconds(10))
                        .build(),
                java.net.http.HttpResponse.BodyHandlers.discarding());
        // java.net.http will not send another Host: the request matches no route, answered over HTTP/2.
        assertThat(response.version()).isEqualTo(java.net.http.HttpClient.Version.HTTP_2);
        assertThat(response.statusCode()).isEqualTo(403); // a Host no route serves: not an open proxy
    }

    /** The status of a GET over HTTP/2 to app.example, or -1 if the stream was reset or the session closed. */
    private int h2Status(
            org.eclipse.jetty.http2.api.Session session, String path, org.eclipse.jetty.http.HttpFields extra)
            throws Exception {
        org.eclipse.jetty.http.MetaData.Request request = new org.eclipse.jetty.http.MetaData.Request(
                "GET",
                org.eclipse.jetty.http.HttpURI.build("http://app.example" + path),
                org.eclipse.jetty.http.HttpVersion.HTTP_2,
                extra);
        java.util.concurrent.CompletableFuture<Integer> status = new java.util.concurrent.CompletableFuture<>();
        session.newStream(
                new org.eclipse.jetty.http2.frames.HeadersFrame(request, null, true),
                org.eclipse.jetty.util.Promise.from(stream -> {}, failure -> status.complete(-1)),
                new org.eclipse.jetty.http2.api.Stream.Listener() {
                    @Override
                    public void onHeaders(
                            org.eclipse.jetty.http2.api.Stream stream,
                            org.eclipse.jetty.http2.frames.HeadersFrame frame) {
                        if (frame.getMetaData() instanceof org.eclipse.jetty.http.MetaData.Response response) {
                            status.complete(response.getStatus());
                        }
                    }

                    @Override
                    public void onDataAvailable(org.eclipse.jetty.http2.api.Stream stream) {
                        org.eclipse.jetty.http2.api.Stream.Data data = stream.readData();
                        if (data != null) {
                            data.release();
                        }
                        if (data == null || !data.frame().isEndStream()) {
                            stream.demand();
                        }
                    }

                    @Override
                    public void onReset(
                            org.eclipse.jetty.http2.api.Stream stream,
                            org.eclipse.jetty.http2.frames.ResetFrame frame,
                            org.eclipse.jetty.util.Callback callback) {
                        status.complete(-1);
                        callback.succeeded();
                    }

                    @Override
                    public void onFailure(
                            org.eclipse.jetty.http2.api.Stream stream,
                            int error,
                            String reason,
                            Throwable failure,
                            org.eclipse.jetty.util.Callback callback) {
                        status.complete(-1);
                        callback.succeeded();
                    }
                });
        return status.get(10, java.util.concurrent.TimeUnit.SECONDS);
    }

    private int status(String request) throws IOException {
        String withClose = request.replaceFirst(
                "\r?\n", request.contains("\r\n") ? "\r\nConnection: close\r\n" : "\nConnection: close\n");
        try (Socket socket = new Socket("127.0.0.1", proxy.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(withClose.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            int c;
            while ((c = in.read()) >= 0 && c != '\n') {
                line.write(c);
            }
            String statusLine = line.toString(StandardCharsets.ISO_8859_1);
            return statusLine.startsWith("HTTP/") ? Integer.parseInt(statusLine.split(" ")[1]) : -1;
        }
    }
}
