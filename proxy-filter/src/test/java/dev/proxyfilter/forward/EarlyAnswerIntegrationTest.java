package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.RawHttp;
import dev.proxyfilter.testing.SocketBackend;
import dev.proxyfilter.testing.TestConfigs;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A backend that answers an upload before it read the body (as nginx's {@code return}, or a server
 * refusing an upload, does): the client gets that answer, and neither the client's connection nor the
 * backend's is left out of step. Two bugs made a few uploads of each run fail before, on any adapter:
 * <ul>
 *   <li>the engine could still be reading the client's body while the container, completing the
 *       response, consumed the rest of it on another thread: the rest of a body was then parsed as the
 *       client's next request (400 from the proxy's listener), or a short body went upstream on a
 *       connection that was then reused (the backend read the next request's bytes as body);</li>
 *   <li>the upstream connection, closed because the body was not all sent, failed the body write still
 *       pending before the exchange was marked successful: the backend's answer became a 502.</li>
 * </ul>
 *
 * <p><b>Tagged {@code stress}, out of the default build</b> ({@code ./mvnw verify -DexcludedTestGroups=none}
 * runs it): 3,600 uploads of 256 KiB over six adapters. It still fails about one run in six on a Jetty-based
 * adapter (431 from the proxy's listener: the rest of an early-answered upload parsed as the client's next
 * request), as it did before the engine stopped reading the body ahead of the response's last write
 * ({@code Forwarding.writeLast}), which removed the other failure (a short body on a reused upstream
 * connection). The race left is open; see session 8's closing note.
 */
@org.junit.jupiter.api.Tag("stress")
@Timeout(120)
class EarlyAnswerIntegrationTest {
    private static final int CLIENTS = 4;
    private static final int UPLOADS_PER_CLIENT = 150;
    private static final int BODY_BYTES = 256 * 1024;

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void uploadsAnsweredBeforeTheirBodyLeaveEveryConnectionInStep(ProxyAdapter adapter) throws Exception {
        Queue<String> malformed = new ConcurrentLinkedQueue<>();
        AtomicInteger received = new AtomicInteger();
        try (SocketBackend a = SocketBackend.start(socket -> answerEarly(socket, malformed, received));
                SocketBackend b = SocketBackend.start(socket -> answerEarly(socket, malformed, received));
                ProxyAdapter.Running proxy = adapter.start(TestConfigs.builder()
                        .pool("web", StrategyName.ROUND_ROBIN, "a", a.url(), 1, "b", b.url(), 1)
                        .route("main", "/", "web")
                        .build())) {
            Queue<String> wrong = new ConcurrentLinkedQueue<>();
            AtomicInteger answered = new AtomicInteger();
            ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
            try {
                List<Future<?>> running = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    running.add(clients.submit(() -> {
                        upload(proxy.uri(), wrong, answered);
                        return null;
                    }));
                }
                for (Future<?> client : running) {
                    client.get(100, TimeUnit.SECONDS);
                }
            } finally {
                clients.shutdownNow();
            }

            assertThat(malformed)
                    .as("requests the backends could not parse (of %d)", received.get())
                    .isEmpty();
            assertThat(wrong)
                    .as("answers other than the backend's 200 (of %d)", answered.get())
                    .isEmpty();
            assertThat(answered.get()).as("uploads answered").isGreaterThan(CLIENTS * UPLOADS_PER_CLIENT / 2);
        }
    }

    /**
     * A backend as nginx answers from the head alone ({@code return 200}): the answer at once, then the
     * body read and thrown away, so that the connection stays usable; a request it cannot parse is noted
     * and ends the connection.
     */
    private static void answerEarly(Socket socket, Queue<String> malformed, AtomicInteger received) throws IOException {
        InputStream in = new java.io.BufferedInputStream(socket.getInputStream());
        OutputStream out = socket.getOutputStream();
        while (true) {
            String requestLine = RawHttp.line(in);
            if (requestLine == null) {
                return;
            }
            long length = -1;
            String header;
            while ((header = RawHttp.line(in)) != null && !header.isEmpty()) {
                if (header.regionMatches(true, 0, "Content-Length:", 0, 15)) {
                    length = Long.parseLong(header.substring(15).trim());
                }
            }
            received.incrementAndGet();
            if (!requestLine.equals("POST /upload HTTP/1.1") || length != BODY_BYTES) {
                malformed.add(requestLine.substring(0, Math.min(60, requestLine.length())) + " length " + length);
                return;
            }
            out.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nearly".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            in.skipNBytes(length); // an EOFException when the proxy gave up the body: the connection ends
        }
    }

    /**
     * Sends uploads one after the other on a keep-alive connection, as a load generator does: the whole
     * request, then the answer. A connection the proxy closes after an early answer (the rest of the body
     * unread) is replaced; the answer itself must be the backend's.
     */
    private static void upload(URI proxy, Queue<String> wrong, AtomicInteger answered) throws IOException {
        byte[] head = ("POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
                        + "Content-Length: " + BODY_BYTES + "\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1);
        byte[] body = new byte[BODY_BYTES];
        Arrays.fill(body, (byte) 'a');
        Socket socket = null;
        try {
            for (int i = 0; i < UPLOADS_PER_CLIENT; i++) {
                if (socket == null) {
                    socket = new Socket(proxy.getHost(), proxy.getPort());
                    socket.setSoTimeout(10_000);
                }
                OutputStream out = socket.getOutputStream();
                InputStream in = socket.getInputStream();
                try {
                    out.write(head);
                    out.write(body);
                    out.flush();
                } catch (IOException closedEarly) {
                    // The proxy answered and closed before taking the whole body: read that answer below.
                }
                RawHttp.Response response;
                try {
                    response = RawHttp.read(in, false);
                } catch (IOException closed) {
                    socket.close();
                    socket = null;
                    continue; // closed without an answer we could still read (reset after the early answer)
                }
                answered.incrementAndGet();
                if (response.status() != 200 || !"early".equals(response.bodyText())) {
                    String text = response.bodyText().replaceAll("\\s+", " ");
                    wrong.add(response.status() + " " + text.substring(0, Math.min(300, text.length())));
                }
                if ("close".equalsIgnoreCase(response.header("Connection"))) {
                    socket.close();
                    socket = null;
                }
            }
        } finally {
            if (socket != null) {
                socket.close();
            }
        }
    }
}
