package dev.proxyfilter.upstream;

import static dev.proxyfilter.upstream.UpstreamTestSupport.chain;
import static dev.proxyfilter.upstream.UpstreamTestSupport.hasCause;
import static dev.proxyfilter.upstream.UpstreamTestSupport.header;
import static dev.proxyfilter.upstream.UpstreamTestSupport.headers;
import static dev.proxyfilter.upstream.UpstreamTestSupport.patternSha;
import static dev.proxyfilter.upstream.UpstreamTestSupport.requestLine;
import static dev.proxyfilter.upstream.UpstreamTestSupport.sha256;
import static dev.proxyfilter.upstream.UpstreamTestSupport.sleep;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.proxyfilter.testing.Backends;
import dev.proxyfilter.testing.TestBackend;
import dev.proxyfilter.upstream.UpstreamTestSupport.RawBackend;
import dev.proxyfilter.upstream.UpstreamTestSupport.Recorder;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.Awaitility;
import org.eclipse.jetty.io.ArrayByteBufferPool;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.content.AsyncContent;
import org.eclipse.jetty.util.FutureCallback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The pooled HTTP/1.1 upstream client against real sockets on 127.0.0.1: Jetty servlets for ordinary
 * traffic, and a bare server socket ({@link RawBackend}) for answers written by hand (framing corner
 * cases, stalls, connections closed at the wrong time), which also counts the connections the client
 * opens and closes.
 */
@Timeout(30)
class UpstreamClientIntegrationTest {
    private static final long MIB = 1024 * 1024;

    private static TestBackend echo;
    private static TestBackend digest;

    private QueuedThreadPool executor;
    private ScheduledExecutorScheduler scheduler;
    private ClientConnector connector;
    private UpstreamClient client;
    private final List<AutoCloseable> resources = new ArrayList<>();
    private final List<RawBackend> rawBackends = new ArrayList<>();

    @BeforeAll
    static void backends() {
        echo = TestBackend.start("echo", new Backends.Echo("echo"));
        digest = TestBackend.start("digest", new Backends.Digest());
    }

    @AfterAll
    static void stopBackends() {
        echo.close();
        digest.close();
    }

    @BeforeEach
    void startClient() throws Exception {
        executor = new QueuedThreadPool(32, 4);
        executor.setName("upstream-test");
        executor.start();
        scheduler = new ScheduledExecutorScheduler("upstream-test-scheduler", true);
        scheduler.start();
        client = newClient(8, 64);
    }

    /** A client on the shared executor and scheduler; its connector is started here and stopped after the test. */
    private UpstreamClient newClient(int maxConnections, int maxQueued) throws Exception {
        ArrayByteBufferPool buffers = new ArrayByteBufferPool();
        ClientConnector clientConnector = new ClientConnector();
        clientConnector.setSelectors(1);
        clientConnector.setExecutor(executor);
        clientConnector.setScheduler(scheduler);
        clientConnector.setByteBufferPool(buffers);
        clientConnector.setConnectTimeout(Duration.ofSeconds(5));
        clientConnector.start();
        UpstreamClient upstream = new UpstreamClient(
                clientConnector, executor, scheduler, buffers, Duration.ofSeconds(30), maxConnections, maxQueued);
        configure(upstream);
        upstream.start();
        resources.add(clientConnector::stop);
        resources.add(upstream::stop);
        connector = clientConnector;
        return upstream;
    }

    /** What a variant of this test changes in each client before it starts. */
    void configure(UpstreamClient upstream) {}

    @AfterEach
    void stop() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception ignored) {
                // stopping what is left
            }
        }
        scheduler.stop();
        executor.stop();
        for (RawBackend backend : rawBackends) {
            assertThat(backend.errors).as("what the backend's handler threw").isEmpty();
        }
    }

    private RawBackend raw(RawBackend.Handler handler) throws IOException {
        RawBackend backend = new RawBackend(handler);
        resources.add(backend);
        rawBackends.add(backend);
        return backend;
    }

    private RawBackend answering(String response) throws IOException {
        RawBackend backend = RawBackend.answering(response);
        resources.add(backend);
        rawBackends.add(backend);
        return backend;
    }

    private UpstreamExchange exchange(UpstreamClient upstream, String method, URI backend, String target) {
        return upstream.newExchange(backend.getScheme(), backend.getHost(), backend.getPort(), method, target);
    }

    private UpstreamExchange exchange(String method, URI backend, String target) {
        return exchange(client, method, backend, target);
    }

    private static Recorder send(UpstreamExchange exchange) {
        Recorder recorder = new Recorder();
        exchange.send(recorder);
        return recorder;
    }

    /** Sends, waits for success and the whole body. */
    private static Recorder succeed(UpstreamExchange exchange) throws Exception {
        return succeed(exchange, new Recorder());
    }

    private static Recorder succeed(UpstreamExchange exchange, Recorder recorder) throws Exception {
        exchange.send(recorder);
        return assertSucceeded(recorder);
    }

    private static Recorder assertSucceeded(Recorder recorder) throws Exception {
        Throwable failure = recorder.failure();
        assertThat(failure).as("onComplete failure").isNull();
        if (recorder.contentCalls.get() > 0) {
            recorder.bodyEnd.get(5, TimeUnit.SECONDS);
        }
        assertThat(recorder.headersCalls).as("onHeaders calls").hasValue(1);
        assertThat(recorder.completeCalls).as("onComplete calls").hasValue(1);
        return recorder;
    }

    private static Throwable assertFailed(Recorder recorder) throws Exception {
        Throwable failure = recorder.failure();
        assertThat(failure).as("onComplete failure").isNotNull();
        assertThat(recorder.completeCalls).as("onComplete calls").hasValue(1);
        return failure;
    }

    private static String response(String body) {
        return "HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
    }

    // ---- 1. requests and responses ----

    @Test
    void getReturnsStatusHeadersAndTheExactBody() throws Exception {
        UpstreamExchange exchange = exchange("GET", echo.url(), "/some/path?x=1&y=%20two");
        exchange.requestHeaders().add("X-Caller", "one");
        exchange.requestHeaders().add("X-Caller", "two");

        Recorder recorder = succeed(exchange);

        assertThat(recorder.headers.get()).isEqualTo(200);
        assertThat(exchange.status()).isEqualTo(200);
        assertThat(exchange.responseHeaders().get("X-Backend")).isEqualTo("echo");
        assertThat(exchange.responseHeaders().get("X-Received-Method")).isEqualTo("GET");
        assertThat(exchange.responseHeaders().get("X-Received-Path")).isEqualTo("/some/path");
        assertThat(exchange.responseHeaders().get("X-Received-Query")).isEqualTo("x=1&y=%20two");
        assertThat(exchange.responseHeaders().get("X-Echo-Host")).isEqualTo("127.0.0.1:" + echo.port());
        assertThat(exchange.responseHeaders().get("X-Echo-X-Caller")).isEqualTo("one | two");
        assertThat(recorder.text()).isEqualTo("echo");
    }

    @Test
    void theRequestHeadOnTheWireHasTheTargetHostAndCallerHeaders() throws Exception {
        RawBackend backend = answering(response("ok"));
        UpstreamExchange exchange = exchange("GET", backend.uri(), "/a/b;p=1?c=d&e");
        exchange.requestHeaders().add("X-Caller", "value");

        Recorder recorder = succeed(exchange);

        assertThat(recorder.text()).isEqualTo("ok");
        String head = backend.heads.get(0);
        assertThat(requestLine(head)).isEqualTo("GET /a/b;p=1?c=d&e HTTP/1.1");
        assertThat(headers(head, "Host")).containsExactly("127.0.0.1:" + backend.port());
        assertThat(header(head, "X-Caller")).isEqualTo("value");
        assertThat(header(head, "Content-Length"))
                .as("a GET without body has no framing")
                .isNull();
        assertThat(header(head, "Transfer-Encoding")).isNull();
    }

    @Test
    void preEncodedFieldsAreCopiedIntoTheHeadBetweenPlainOnes() throws Exception {
        RawBackend backend = answering(response("ok"));
        UpstreamExchange exchange = exchange("GET", backend.uri(), "/");
        exchange.requestHeaders().add("X-Before", "1");
        exchange.requestHeaders().add(new org.eclipse.jetty.http.PreEncodedHttpField("X-Pre", "pre encoded"));
        exchange.requestHeaders()
                .add(new org.eclipse.jetty.http.PreEncodedHttpField(org.eclipse.jetty.http.HttpHeader.VIA, "1.1 pf"));
        exchange.requestHeaders().add("X-After", "2");

        succeed(exchange);

        String head = backend.heads.get(0);
        assertThat(head).contains("\r\nX-Before: 1\r\nX-Pre: pre encoded\r\nVia: 1.1 pf\r\nX-After: 2\r\n");
    }

    @Test
    void aHostTheCallerSetIsSentOnceAsIs() throws Exception {
        RawBackend backend = answering(response("ok"));
        UpstreamExchange exchange = exchange("GET", backend.uri(), "/");
        exchange.requestHeaders().put("Host", "www.example.test:8443");

        succeed(exchange);

        assertThat(headers(backend.heads.get(0), "Host")).containsExactly("www.example.test:8443");
    }

    @Test
    void repeatedResponseHeadersAreKeptInOrder() throws Exception {
        RawBackend backend = answering("HTTP/1.1 201 Created\r\nSet-Cookie: a=1\r\nX-Other: x\r\n"
                + "Set-Cookie: b=2\r\nContent-Length: 0\r\n\r\n");

        UpstreamExchange exchange = exchange("GET", backend.uri(), "/");
        Recorder recorder = succeed(exchange);

        assertThat(recorder.headers.get()).isEqualTo(201);
        assertThat(exchange.responseHeaders().getValuesList("Set-Cookie")).containsExactly("a=1", "b=2");
        assertThat(exchange.responseHeaders().get("X-Other")).isEqualTo("x");
        assertThat(recorder.bytes).hasValue(0);
    }

    // ---- 2. response framing ----

    @Test
    void aChunkedResponseInSeveralWritesIsReassembledAndTheConnectionReused() throws Exception {
        RawBackend backend = raw(conn -> {
            while (conn.readRequest() != null) {
                conn.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
                conn.write("3\r\nhel\r\n");
                sleep(20);
                conn.write("3;ext=1\r\nlo \r\n");
                sleep(20);
                conn.write("5\r\nworld\r\n");
                conn.write("0\r\nX-Trailer: t\r\n\r\n");
            }
        });

        Recorder first = succeed(exchange("GET", backend.uri(), "/1"));
        Recorder second = succeed(exchange("GET", backend.uri(), "/2"));

        assertThat(first.text()).isEqualTo("hello world");
        assertThat(second.text()).isEqualTo("hello world");
        assertThat(backend.accepted).as("connections").hasValue(1);
    }

    @Test
    void aResponseDelimitedByTheEndOfTheConnectionIsReadToTheEnd() throws Exception {
        RawBackend backend = raw(conn -> {
            conn.readRequest();
            conn.write("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nfirst part, ");
            sleep(30);
            conn.write("second part");
            // the socket closes when the handler returns
        });

        Recorder first = succeed(exchange("GET", backend.uri(), "/"));
        Recorder second = succeed(exchange("GET", backend.uri(), "/"));

        assertThat(first.text()).isEqualTo("first part, second part");
        assertThat(second.text()).isEqualTo("first part, second part");
        assertThat(backend.accepted).as("a closed connection is not reused").hasValue(2);
    }

    @Test
    void bodilessResponsesIgnoreTheirContentLengthAndKeepTheConnection() throws Exception {
        RawBackend backend = raw(conn -> {
            String head;
            while ((head = conn.readRequest()) != null) {
                String target = requestLine(head).split(" ")[1];
                switch (target) {
                    case "/head" -> conn.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
                    case "/204" -> conn.write("HTTP/1.1 204 No Content\r\n\r\n");
                    case "/304" -> conn.write("HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\nETag: \"x\"\r\n\r\n");
                    case "/304-chunked" ->
                        conn.write("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n");
                    case "/head-chunked" -> conn.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
                    case "/empty" -> conn.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
                    default -> conn.write(response("done"));
                }
            }
        });

        Recorder head = succeed(exchange("HEAD", backend.uri(), "/head"));
        Recorder noContent = succeed(exchange("GET", backend.uri(), "/204"));
        Recorder notModified = succeed(exchange("GET", backend.uri(), "/304"));
        Recorder notModifiedChunked = succeed(exchange("GET", backend.uri(), "/304-chunked"));
        Recorder headChunked = succeed(exchange("HEAD", backend.uri(), "/head-chunked"));
        Recorder empty = succeed(exchange("GET", backend.uri(), "/empty"));
        Recorder last = succeed(exchange("GET", backend.uri(), "/last"));

        assertThat(head.headers.get()).isEqualTo(200);
        assertThat(noContent.headers.get()).isEqualTo(204);
        assertThat(notModified.headers.get()).isEqualTo(304);
        for (Recorder bodiless : List.of(head, noContent, notModified, notModifiedChunked, headChunked, empty)) {
            assertThat(bodiless.bytes).hasValue(0);
        }
        assertThat(last.text()).isEqualTo("done");
        assertThat(backend.accepted).as("connections").hasValue(1);
        assertThat(requestLine(backend.heads.get(0))).isEqualTo("HEAD /head HTTP/1.1");
    }

    @Test
    void anEmptyChunkedBodyEndsAtOnceAndKeepsTheConnection() throws Exception {
        RawBackend backend = answering("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");

        Recorder first = succeed(exchange("GET", backend.uri(), "/"));
        Recorder second = succeed(exchange("GET", backend.uri(), "/"));

        assertThat(first.bytes).hasValue(0);
        assertThat(second.bytes).hasValue(0);
        assertThat(backend.accepted).hasValue(1);
    }

    @Test
    void theHeadersOfAHeadResponseAreTheBackends() throws Exception {
        RawBackend backend = answering("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: text/plain\r\n\r\n");
        UpstreamExchange exchange = exchange("HEAD", backend.uri(), "/");

        Recorder recorder = succeed(exchange);

        assertThat(exchange.responseHeaders().get("Content-Length")).isEqualTo("1000");
        assertThat(recorder.contentCalls).as("no body to read").hasValue(0);
    }

    @Test
    void interimResponsesAreSkippedAndTheFinalOneDelivered() throws Exception {
        RawBackend backend = raw(conn -> {
            while (conn.readRequest() != null) {
                conn.write("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n");
                sleep(10);
                conn.write("HTTP/1.1 100 Continue\r\n\r\n");
                conn.write("HTTP/1.1 200 OK\r\nX-Final: yes\r\nContent-Length: 5\r\n\r\nhello");
            }
        });

        UpstreamExchange exchange = exchange("GET", backend.uri(), "/");
        Recorder recorder = succeed(exchange);
        Recorder again = succeed(exchange("GET", backend.uri(), "/"));

        assertThat(recorder.headers.get()).isEqualTo(200);
        assertThat(exchange.responseHeaders().get("X-Final")).isEqualTo("yes");
        assertThat(exchange.responseHeaders().get("Link"))
                .as("the interim response's headers")
                .isNull();
        assertThat(recorder.text()).isEqualTo("hello");
        assertThat(again.text()).isEqualTo("hello");
        assertThat(backend.accepted).hasValue(1);
    }

    @Test
    void aResponseWithoutReasonPhraseIsAccepted() throws Exception {
        RawBackend backend = answering("HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok");

        Recorder recorder = succeed(exchange("GET", backend.uri(), "/"));

        assertThat(recorder.text()).isEqualTo("ok");
    }

    @Test
    void anHttp10ResponseIsNotReused() throws Exception {
        // The server keeps the socket open, so only the client's reading of HTTP/1.0 can avoid reuse.
        RawBackend backend = answering("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");

        succeed(exchange("GET", backend.uri(), "/"));
        Recorder second = succeed(exchange("GET", backend.uri(), "/"));

        assertThat(second.text()).isEqualTo("ok");
        assertThat(backend.accepted).hasValue(2);
    }

    @Test
    void aResponseWrittenByteByByteIsParsed() throws Exception {
        String answer = "HTTP/1.1 200 OK\r\nX-Slow: yes\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n";
        RawBackend backend = raw(conn -> {
            while (conn.readRequest() != null) {
                for (char c : answer.toCharArray()) {
                    conn.write(String.valueOf(c));
                }
            }
        });

        UpstreamExchange exchange = exchange("GET", backend.uri(), "/");
        Recorder recorder = succeed(exchange);
        Recorder again = succeed(exchange("GET", backend.uri(), "/"));

        assertThat(exchange.responseHeaders().get("X-Slow")).isEqualTo("yes");
        assertThat(recorder.text()).isEqualTo("abcdefg");
        assertThat(again.text()).isEqualTo("abcdefg");
        assertThat(backend.accepted).hasValue(1);
    }

    @Test
    void largeHeadsBothWaysFitAcrossBuffers() throws Exception {
        String big = "v".repeat(30_000);
        RawBackend backend = raw(conn -> {
            String head;
            while ((head = conn.readRequest()) != null) {
                conn.write("HTTP/1.1 200 OK\r\nX-Big: " + big + "\r\nX-Got: " + head.length()
                        + "\r\nContent-Length: 2\r\n\r\nok");
            }
        });
        UpstreamExchange exchange = exchange("GET", backend.uri(), "/" + "p".repeat(3000));
        for (int i = 0; i < 20; i++) {
            exchange.requestHeaders().add("X-Header-" + i, "h".repeat(1000));
        }

        Recorder recorder = succeed(exchange);

        assertThat(exchange.responseHeaders().get("X-Big")).isEqualTo(big);
        assertThat(recorder.text()).isEqualTo("ok");
        String head = backend.heads.get(0);
        assertThat(requestLine(head)).isEqualTo("GET /" + "p".repeat(3000) + " HTTP/1.1");
        for (int i = 0; i < 20; i++) {
            assertThat(header(head, "X-Header-" + i)).isEqualTo("h".repeat(1000));
        }
        assertThat(headers(head, "Host")).hasSize(1);
    }

    // ---- 3. large bodies and back-pressure ----

    @Test
    void eightMebibytesWithContentLengthReachASlowConsumerIntact() throws Exception {
        long size = 8 * MIB;
        Recorder recorder = new Recorder().slow(1);

        succeed(exchange("GET", digest.url(), "/?size=" + size), recorder);

        assertThat(recorder.bytes).hasValue(size);
        assertThat(recorder.sha()).isEqualTo(patternSha(size));
        assertThat(recorder.chunks.get()).as("streamed in pieces").isGreaterThan(8);
    }

    @Test
    void eightMebibytesChunkedReachTheConsumerIntact() throws Exception {
        long size = 8 * MIB;

        Recorder recorder = succeed(exchange("GET", digest.url(), "/?chunked=true&size=" + size));

        assertThat(recorder.bytes).hasValue(size);
        assertThat(recorder.sha()).isEqualTo(patternSha(size));
    }

    @Test
    void aConsumerThatStopsDemandingStopsTheBackend() throws Exception {
        long size = 64 * MIB;

        Stall stall = holdUntilTheBackendStallsThenResume(size);

        assertThat(stall.writtenWhileHeld)
                .as("bytes the backend wrote while the consumer held")
                .isLessThan(size / 2);
        assertThat(stall.readWhileHeld).isLessThan(size / 2);
    }

    /**
     * A long body is read in 64 KiB buffers, not in the 16 KiB one its head came in: a reader that releases
     * each chunk before it reads the next (as the proxy's copy to the client does) used to get that small
     * buffer back, empty, for every read, which made four times the reads and writes per mebibyte.
     */
    @Test
    void aLongBodyIsReadInLargerBuffersThanItsHead() throws Exception {
        Stall stall = holdUntilTheBackendStallsThenResume(8 * MIB);

        // When the consumer resumes, the socket holds more than any buffer.
        assertThat(stall.recorder.chunkSizes.get(stall.chunksWhileHeld))
                .as("the first chunk read from a full socket")
                .isEqualTo(64 * 1024);
    }

    /** What a consumer saw that held after its first chunk until the backend stalled. */
    private record Stall(Recorder recorder, long writtenWhileHeld, long readWhileHeld, int chunksWhileHeld) {}

    /**
     * Streams {@code size} pattern bytes to a consumer that stops reading after its first chunk until the
     * backend is blocked by full socket buffers (no progress over 200 ms), then resumes; checks that the
     * whole body arrived intact.
     */
    private Stall holdUntilTheBackendStallsThenResume(long size) throws Exception {
        AtomicLong written = new AtomicLong();
        RawBackend backend = raw(conn -> {
            conn.readRequest();
            conn.write("HTTP/1.1 200 OK\r\nContent-Length: " + size + "\r\n\r\n");
            byte[] chunk = new byte[65536];
            for (long pos = 0; pos < size; pos += chunk.length) {
                Backends.Digest.pattern(chunk, pos, chunk.length);
                conn.out.write(chunk);
                written.addAndGet(chunk.length);
            }
            conn.out.flush();
            conn.awaitClientClose();
        });
        Recorder recorder = new Recorder().holdAfter(1);
        exchange("GET", backend.uri(), "/").idleTimeout(10_000).send(recorder);

        Awaitility.await().atMost(Duration.ofSeconds(5)).until(recorder::held);
        long[] last = {-1};
        Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    long now = written.get();
                    boolean stalled = now == last[0];
                    last[0] = now;
                    return stalled;
                });
        Stall stall = new Stall(recorder, written.get(), recorder.bytes.get(), recorder.chunks.get());
        recorder.resume();
        assertSucceeded(recorder);

        assertThat(recorder.bytes).hasValue(size);
        assertThat(recorder.sha()).isEqualTo(patternSha(size));
        return stall;
    }

    // ---- 4. request bodies ----

    /** Writes {@code parts} into {@code content} from another thread, 20 ms apart, then closes it. */
    private static void writeLater(AsyncContent content, List<String> parts) {
        Thread writer = new Thread(
                () -> {
                    try {
                        for (String part : parts) {
                            sleep(20);
                            FutureCallback written = new FutureCallback();
                            content.write(false, ByteBuffer.wrap(part.getBytes(StandardCharsets.UTF_8)), written);
                            written.get(5, TimeUnit.SECONDS);
                        }
                        content.close();
                    } catch (Exception e) {
                        content.fail(e);
                    }
                },
                "body-writer");
        writer.setDaemon(true);
        writer.start();
    }

    @Test
    void aBodyOfKnownLengthIsSentWithContentLength() throws Exception {
        AsyncContent body = new AsyncContent();
        List<String> parts = List.of("alpha-", "beta-", "gamma");
        UpstreamExchange exchange = exchange("POST", echo.url(), "/upload").body(body, 16);
        exchange.requestHeaders().put("Content-Type", "text/plain");
        writeLater(body, parts);

        Recorder recorder = succeed(exchange);

        assertThat(recorder.text()).isEqualTo("alpha-beta-gamma");
        assertThat(exchange.responseHeaders().get("X-Echo-Content-Length")).isEqualTo("16");
        assertThat(exchange.responseHeaders().get("X-Echo-Transfer-Encoding")).isNull();
        assertThat(exchange.responseHeaders().get("X-Received-Method")).isEqualTo("POST");
    }

    @Test
    void aBodyOfUnknownLengthIsSentChunked() throws Exception {
        AsyncContent body = new AsyncContent();
        UpstreamExchange exchange = exchange("PUT", echo.url(), "/upload").body(body, -1);
        writeLater(body, List.of("one ", "two ", "three"));

        Recorder recorder = succeed(exchange);

        assertThat(recorder.text()).isEqualTo("one two three");
        assertThat(exchange.responseHeaders().get("X-Echo-Transfer-Encoding")).isEqualTo("chunked");
        assertThat(exchange.responseHeaders().get("X-Echo-Content-Length")).isNull();
    }

    @Test
    void theChunkedRequestBodyOnTheWireIsWellFramed() throws Exception {
        CompletableFuture<byte[]> received = new CompletableFuture<>();
        RawBackend backend = raw(conn -> {
            String head;
            while ((head = conn.readHead()) != null) {
                if (head.startsWith("POST ")) {
                    assertThat(header(head, "Transfer-Encoding")).isEqualTo("chunked");
                    assertThat(header(head, "Content-Length")).isNull();
                    received.complete(conn.readBody(head)); // throws on bad framing
                } else {
                    conn.readBody(head);
                }
                conn.write(response("ok"));
            }
        });
        AsyncContent body = new AsyncContent();
        UpstreamExchange exchange = exchange("POST", backend.uri(), "/").body(body, -1);
        writeLater(body, List.of("x", "", "yz"));

        succeed(exchange);
        Recorder second = succeed(exchange("GET", backend.uri(), "/"));

        assertThat(new String(received.get(5, TimeUnit.SECONDS), StandardCharsets.UTF_8))
                .isEqualTo("xyz");
        assertThat(second.text()).isEqualTo("ok");
        assertThat(backend.accepted)
                .as("the body's framing left the connection reusable")
                .hasValue(1);
    }

    @Test
    void eightMebibytesUploadedChunkedArriveIntact() throws Exception {
        long size = 8 * MIB;
        AsyncContent body = new AsyncContent();
        UpstreamExchange exchange = exchange("POST", digest.url(), "/").body(body, -1);
        Thread writer = new Thread(
                () -> {
                    try {
                        for (long pos = 0; pos < size; pos += 65536) {
                            byte[] chunk = new byte[65536];
                            Backends.Digest.pattern(chunk, pos, chunk.length);
                            FutureCallback written = new FutureCallback();
                            body.write(false, ByteBuffer.wrap(chunk), written);
                            written.get(5, TimeUnit.SECONDS);
                        }
                        body.close();
                    } catch (Exception e) {
                        body.fail(e);
                    }
                },
                "upload-writer");
        writer.setDaemon(true);
        writer.start();

        Recorder recorder = succeed(exchange);

        assertThat(recorder.text()).isEqualTo(size + " " + patternSha(size));
    }

    @Test
    void aBodyOfKnownLengthFromABufferArrivesIntact() throws Exception {
        byte[] bytes = new byte[300_000];
        Backends.Digest.pattern(bytes, 0, bytes.length);
        UpstreamExchange exchange =
                exchange("POST", digest.url(), "/").body(Content.Source.from(ByteBuffer.wrap(bytes)), bytes.length);

        Recorder recorder = succeed(exchange);

        assertThat(recorder.text()).isEqualTo(bytes.length + " " + sha256(bytes));
    }

    @Test
    void anEmptyBodyOfLengthZeroIsSentAsSuch() throws Exception {
        RawBackend backend = answering(response("ok"));
        UpstreamExchange exchange =
                exchange("POST", backend.uri(), "/").body(Content.Source.from(ByteBuffer.allocate(0)), 0);

        succeed(exchange);

        String head = backend.heads.get(0);
        assertThat(header(head, "Content-Length")).isEqualTo("0");
        assertThat(header(head, "Transfer-Encoding")).isNull();
    }

    @Test
    void aBodyThatFailsBeforeItsFirstByteNeverReachesTheBackend() throws Exception {
        RawBackend backend = answering(response("ok"));
        AsyncContent body = new AsyncContent();
        IOException broken = new IOException("bad chunk from the client");
        body.fail(broken);

        Recorder recorder = send(exchange("POST", backend.uri(), "/").body(body, -1));
        Throwable failure = assertFailed(recorder);
        Recorder next = succeed(exchange("GET", backend.uri(), "/next"));

        assertThat(chain(failure)).contains(broken);
        assertThat(next.text()).isEqualTo("ok");
        assertThat(backend.heads).extracting(UpstreamTestSupport::requestLine).containsExactly("GET /next HTTP/1.1");
    }

    @Test
    void aRequestBodyThatFailsFailsTheExchange() throws Exception {
        RawBackend backend = raw(conn -> {
            conn.readHead();
            conn.awaitClientClose();
        });
        AsyncContent body = new AsyncContent();
        UpstreamExchange exchange = exchange("POST", backend.uri(), "/").body(body, 100);
        Recorder recorder = send(exchange);
        FutureCallback written = new FutureCallback();
        body.write(false, ByteBuffer.wrap("partial".getBytes(StandardCharsets.UTF_8)), written);
        written.get(5, TimeUnit.SECONDS);
        IOException broken = new IOException("client went away");
        body.fail(broken);

        Throwable failure = assertFailed(recorder);

        assertThat(chain(failure)).contains(broken);
        Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(backend.clientClosed)
                        .as("a half-sent request's connection is closed")
                        .hasValue(1));
    }

    // ---- 5. connection reuse ----

    @Test
    void twentySequentialRequestsShareOneConnection() throws Exception {
        RawBackend backend = answering(response("ok"));

        for (int i = 0; i < 20; i++) {
            assertThat(succeed(exchange("GET", backend.uri(), "/" + i)).text()).isEqualTo("ok");
        }

        assertThat(backend.accepted).hasValue(1);
        assertThat(backend.heads).hasSize(20);
        assertThat(client.connections("http", "127.0.0.1", backend.port())).isEqualTo(1);
        Awaitility.await()
                .atMost(Duration.ofSeconds(2))
                .untilAsserted(() -> assertThat(client.idleConnections("http", "127.0.0.1", backend.port()))
                        .isEqualTo(1));
    }

    @Test
    void sequentialRequestsToAJettyBackendShareOneConnection() throws Exception {
        Recorder first = succeed(exchange("GET", echo.url(), "/"));
        for (int i = 0; i < 9; i++) {
            succeed(exchange("GET", echo.url(), "/"));
        }

        assertThat(first.text()).isEqualTo("echo");
        assertThat(client.connections("http", "127.0.0.1", echo.port())).isEqualTo(1);
    }

    @Test
    void aConnectionCloseResponseIsNotReusedEvenIfTheBackendKeepsItOpen() throws Exception {
        RawBackend backend = answering("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");

        succeed(exchange("GET", backend.uri(), "/"));
        Recorder second = succeed(exchange("GET", backend.uri(), "/"));

        assertThat(second.text()).isEqualTo("ok");
        assertThat(backend.accepted).hasValue(2);
        Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(backend.clientClosed)
                        .as("the client closed them")
                        .hasValue(2));
    }

    @Test
    void aRequestWithConnectionCloseIsNotReused() throws Exception {
        RawBackend backend = answering(response("ok"));
        UpstreamExchange exchange = exchange("GET", backend.uri(), "/");
        exchange.requestHeaders().put("Connection", "close");

        succeed(exchange);
        succeed(exchange("GET", backend.uri(), "/"));

        assertThat(backend.accepted).hasValue(2);
    }

    @Test
    void anIdleConnectionTheBackendClosedIsReplaced() throws Exception {
        CountDownLatch closed = new CountDownLatch(1);
        RawBackend backend = raw(conn -> {
            if (conn.readRequest() != null) {
                conn.write(response("ok" + conn.index));
            }
            if (conn.index == 0) {
                conn.socket.close(); // a keep-alive timeout on the backend
                closed.countDown();
            } else {
                while (conn.readRequest() != null) {
                    conn.write(response("ok" + conn.index));
                }
            }
        });

        succeed(exchange("GET", backend.uri(), "/"));
        assertThat(closed.await(5, TimeUnit.SECONDS)).isTrue();
        sleep(50); // the FIN is on its way; the client may or may not have seen it yet
        Recorder second = succeed(exchange("GET", backend.uri(), "/"));

        assertThat(second.text()).isEqualTo("ok1");
        assertThat(backend.accepted).hasValue(2);
    }

    @Test
    void anIdleConnectionTheBackendClosesLeavesThePoolAtOnceAndCostsNoCpu() throws Exception {
        CountDownLatch closed = new CountDownLatch(1);
        RawBackend backend = raw(conn -> {
            conn.readRequest();
            conn.write(response("ok"));
            sleep(50);
            conn.socket.close(); // a keep-alive timeout on the backend, while the connection sits in the pool
            closed.countDown();
        });
        succeed(exchange("GET", backend.uri(), "/"));
        assertThat(closed.await(5, TimeUnit.SECONDS)).isTrue();

        sleep(100); // the FIN reaches the client
        long cpu = cpuMillisOverHalfASecond();

        assertThat(cpu).as("CPU ms spent in 500 ms with nothing to do").isLessThan(200);
        Awaitility.await()
                .atMost(Duration.ofSeconds(2))
                .untilAsserted(() -> assertThat(client.connections("http", "127.0.0.1", backend.port()))
                        .as("noticed while idle")
                        .isZero());
    }

    @Test
    void anIdleConnectionCostsNoCpuWhileTheBackendKeepsIt() throws Exception {
        RawBackend backend = answering(response("ok"));
        succeed(exchange("GET", backend.uri(), "/"));

        long cpu = cpuMillisOverHalfASecond();

        assertThat(cpu).as("CPU ms spent in 500 ms with nothing to do").isLessThan(200);
        assertThat(client.idleConnections("http", "127.0.0.1", backend.port())).isEqualTo(1);
    }

    /** CPU time all threads of this JVM spend over half a second: a spinning selector shows here. */
    private static long cpuMillisOverHalfASecond() {
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        java.util.Map<Long, Long> before = new java.util.HashMap<>();
        for (long id : threads.getAllThreadIds()) {
            before.put(id, Math.max(0, threads.getThreadCpuTime(id)));
        }
        sleep(500);
        long spent = 0;
        for (long id : threads.getAllThreadIds()) {
            long now = threads.getThreadCpuTime(id);
            if (now > 0) {
                spent += now - before.getOrDefault(id, 0L);
            }
        }
        return TimeUnit.NANOSECONDS.toMillis(spent);
    }

    @Test
    void aBodilessRequestOnAConnectionTheBackendClosesWithoutAnswerIsSentAgain() throws Exception {
        // The keep-alive race: the backend closes an idle connection just as the next request reaches it.
        RawBackend backend = raw(conn -> {
            if (conn.index == 0) {
                conn.readRequest();
                conn.write(response("first"));
                conn.readRequest();
                return; // closes without an answer
            }
            while (conn.readRequest() != null) {
                conn.write(response("again"));
            }
        });

        succeed(exchange("GET", backend.uri(), "/1"));
        Recorder second = succeed(exchange("GET", backend.uri(), "/2"));

        assertThat(second.text()).isEqualTo("again");
        assertThat(backend.accepted).hasValue(2);
        assertThat(backend.heads)
                .extracting(UpstreamTestSupport::requestLine)
                .containsExactly("GET /1 HTTP/1.1", "GET /2 HTTP/1.1", "GET /2 HTTP/1.1");
    }

    @Test
    void aBodilessPostIsNotSentTwiceWhenAReusedConnectionDies() throws Exception {
        // Not idempotent (RFC 9110 9.2.2): the backend may have acted on it before it closed.
        RawBackend backend = raw(conn -> {
            conn.readRequest();
            conn.write(response("first"));
            if (conn.readRequest() != null) {
                return; // closes without an answer
            }
        });
        succeed(exchange("GET", backend.uri(), "/1"));

        Recorder recorder = send(exchange("POST", backend.uri(), "/2"));

        assertFailed(recorder);
        assertThat(backend.heads)
                .extracting(UpstreamTestSupport::requestLine)
                .containsExactly("GET /1 HTTP/1.1", "POST /2 HTTP/1.1");
    }

    @Test
    void aRequestWithABodyIsNotSentTwiceWhenAReusedConnectionDiesAfterTheBodyWasRead() throws Exception {
        // A body that was consumed cannot be sent again: the failure must reach the caller.
        RawBackend backend = raw(conn -> {
            conn.readRequest();
            conn.write(response("first"));
            if (conn.readRequest() != null) {
                return; // closes without an answer
            }
        });
        succeed(exchange("GET", backend.uri(), "/1"));
        AsyncContent body = new AsyncContent();
        UpstreamExchange post = exchange("POST", backend.uri(), "/2").body(body, -1);
        writeLater(body, List.of("once"));

        Recorder recorder = send(post);
        assertFailed(recorder);

        assertThat(backend.heads)
                .extracting(UpstreamTestSupport::requestLine)
                .containsExactly("GET /1 HTTP/1.1", "POST /2 HTTP/1.1");
    }

    @Test
    void eachBackendHasItsOwnPool() throws Exception {
        client = newClient(1, 4);
        RawBackend stalled = raw(conn -> {
            conn.readHead();
            conn.awaitClientClose();
        });
        RawBackend healthy = answering(response("ok"));

        Recorder waiting = send(exchange("GET", stalled.uri(), "/").idleTimeout(10_000));
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> stalled.heads.size() == 1);
        Recorder other = succeed(exchange("GET", healthy.uri(), "/"));

        assertThat(other.text()).isEqualTo("ok");
        assertThat(waiting.done).isNotDone();
    }

    @Test
    void anHttp10ResponseWithKeepAliveIsReused() throws Exception {
        RawBackend backend = answering("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok");

        succeed(exchange("GET", backend.uri(), "/"));
        succeed(exchange("GET", backend.uri(), "/"));

        assertThat(backend.accepted).hasValue(1);
    }

    @Test
    void aResponseEndedByCloseWithoutConnectionHeaderIsNotReused() throws Exception {
        RawBackend backend = raw(conn -> {
            conn.readRequest();
            conn.write("HTTP/1.1 200 OK\r\n\r\nuntil the end");
        });

        Recorder first = succeed(exchange("GET", backend.uri(), "/"));
        Recorder second = succeed(exchange("GET", backend.uri(), "/"));

        assertThat(first.text()).isEqualTo("until the end");
        assertThat(second.text()).isEqualTo("until the end");
        assertThat(backend.accepted).hasValue(2);
    }

    @Test
    void anIdleConnectionTheBackendResetIsReplaced() throws Exception {
        CountDownLatch reset = new CountDownLatch(1);
        RawBackend backend = raw(conn -> {
            if (conn.index == 0) {
                conn.readRequest();
                conn.write(response("first"));
                conn.reset();
                reset.countDown();
                return;
            }
            while (conn.readRequest() != null) {
                conn.write(response("second"));
            }
        });

        succeed(exchange("GET", backend.uri(), "/"));
        assertThat(reset.await(5, TimeUnit.SECONDS)).isTrue();
        Recorder second = succeed(exchange("GET", backend.uri(), "/"));

        assertThat(second.text()).isEqualTo("second");
    }

    @Test
    void anIdleConnectionWithAnUnaskedAnswerIsDropped() throws Exception {
        // Some servers say 408 on an idle connection before they close it.
        CountDownLatch said = new CountDownLatch(1);
        RawBackend backend = raw(conn -> {
            if (conn.index == 0) {
                conn.readRequest();
                conn.write(response("first"));
                sleep(50);
                conn.write("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
                said.countDown();
                conn.awaitClientClose();
                return;
            }
            while (conn.readRequest() != null) {
                conn.write(response("second"));
            }
        });

        succeed(exchange("GET", backend.uri(), "/"));
        assertThat(said.await(5, TimeUnit.SECONDS)).isTrue();
        Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(backend.clientClosed)
                        .as("the client dropped the connection")
                        .hasValue(1));
        Recorder second = succeed(exchange("GET", backend.uri(), "/"));

        assertThat(second.headers.get()).isEqualTo(200);
        assertThat(second.text()).isEqualTo("second");
    }

    @Test
    void aShortExchangeIdleTimeoutDoesNotShortenThePoolIdleTimeout() throws Exception {
        RawBackend backend = answering(response("ok"));

        succeed(exchange("GET", backend.uri(), "/").idleTimeout(200));
        sleep(600); // past the exchange's idle timeout, well within the pool's 30 s
        succeed(exchange("GET", backend.uri(), "/"));

        assertThat(backend.clientClosed).as("the pooled connection was kept").hasValue(0);
        assertThat(backend.accepted).hasValue(1);
    }

    @Test
    void failuresGiveTheirConnectionSlotBack() throws Exception {
        // One connection allowed: a slot lost by any failure would leave the good request queued.
        client = newClient(1, 4);
        RawBackend backend = raw(conn -> {
            String head;
            while ((head = conn.readRequest()) != null) {
                String target = requestLine(head).split(" ")[1];
                switch (target) {
                    case "/cut" -> {
                        conn.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
                        return;
                    }
                    case "/reset" -> {
                        conn.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
                        sleep(20);
                        conn.reset();
                        return;
                    }
                    case "/garbage" -> {
                        conn.write("NOT HTTP AT ALL\r\n\r\n");
                        conn.awaitClientClose();
                        return;
                    }
                    case "/stall", "/abort", "/slow-body" -> {
                        conn.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
                        conn.awaitClientClose();
                        return;
                    }
                    case "/stall-head" -> {
                        conn.awaitClientClose();
                        return;
                    }
                    default -> conn.write(response("good"));
                }
            }
        });
        List<String> failing = List.of("/cut", "/reset", "/garbage", "/stall", "/stall-head", "/slow-body", "/abort");

        for (String target : failing) {
            UpstreamExchange bad = exchange("GET", backend.uri(), target);
            switch (target) {
                case "/stall", "/stall-head" -> bad.idleTimeout(200);
                case "/slow-body" -> bad.timeout(200);
                default -> {}
            }
            Recorder recorder = target.equals("/abort")
                    ? new Recorder().onHeaders(exchange -> exchange.abort(new RuntimeException("abort")))
                    : new Recorder();
            bad.send(recorder);
            assertThat(recorder.failure()).as("failure of " + target).isNotNull();
            Recorder good = send(exchange("GET", backend.uri(), "/good").timeout(3000));
            assertThat(good.failure()).as("the request after " + target).isNull();
            good.bodyEnd.get(5, TimeUnit.SECONDS);
            assertThat(good.text()).isEqualTo("good");
        }

        assertThat(client.connections("http", "127.0.0.1", backend.port())).isLessThanOrEqualTo(1);
    }

    private static String hostHeader(UpstreamExchange exchange) {
        return ((UpstreamClient.Destination) exchange.destination).hostHeader;
    }

    @Test
    void theHostHeaderLeavesOutTheSchemesDefaultPortAndBracketsIpv6() {
        assertThat(hostHeader(client.newExchange("http", "example.test", 80, "GET", "/")))
                .isEqualTo("example.test");
        assertThat(hostHeader(client.newExchange("https", "example.test", 443, "GET", "/")))
                .isEqualTo("example.test");
        assertThat(hostHeader(client.newExchange("https", "example.test", 80, "GET", "/")))
                .isEqualTo("example.test:80");
        assertThat(hostHeader(client.newExchange("http", "::1", 8080, "GET", "/")))
                .isEqualTo("[::1]:8080");
        assertThat(hostHeader(client.newExchange("http", "[::1]", 8080, "GET", "/")))
                .isEqualTo("[::1]:8080");
    }

    // ---- 6. failures ----

    @Test
    void aRefusedConnectionFailsWithConnectException() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }

        Recorder recorder = send(exchange("GET", URI.create("http://127.0.0.1:" + port), "/"));
        Throwable failure = assertFailed(recorder);

        assertThat(hasCause(failure, ConnectException.class))
                .as("cause chain %s", chain(failure))
                .isTrue();
        assertThat(recorder.headersCalls).hasValue(0);
    }

    @Test
    void aBackendClosingMidBodyFailsTheExchangeAndTheContent() throws Exception {
        RawBackend backend = raw(conn -> {
            conn.readRequest();
            conn.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
        });

        Recorder recorder = send(exchange("GET", backend.uri(), "/"));
        Throwable failure = assertFailed(recorder);

        assertThat(recorder.headers.get()).isEqualTo(200);
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> recorder.contentFailure.get() != null);
        assertThat(recorder.bytes.get()).isLessThanOrEqualTo(10);
        assertThat(failure).isNotNull();
    }

    @Test
    void aChunkedBodyCutBeforeItsLastChunkIsAFailureNotAnEnd() throws Exception {
        RawBackend backend = raw(conn -> {
            conn.readRequest();
            conn.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        });

        Recorder recorder = send(exchange("GET", backend.uri(), "/"));
        assertFailed(recorder);

        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> recorder.contentFailure.get() != null);
        assertThat(recorder.bodyEnd).isCompletedExceptionally();
    }

    @Test
    void aResetMidBodyFailsTheExchange() throws Exception {
        RawBackend backend = raw(conn -> {
            conn.readRequest();
            conn.write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(1000));
            sleep(50);
            conn.reset();
        });

        Recorder recorder = send(exchange("GET", backend.uri(), "/"));

        assertFailed(recorder);
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> recorder.contentFailure.get() != null);
    }

    @Test
    void aBackendClosingBeforeAnyResponseFailsTheExchange() throws Exception {
        RawBackend backend = raw(conn -> conn.readRequest());

        Recorder recorder = send(exchange("GET", backend.uri(), "/"));

        assertFailed(recorder);
        assertThat(recorder.headersCalls).hasValue(0);
    }

    /** A malformed status line, and a response that is not HTTP at all. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(
            strings = {"HTTP/1.1 abc Broken\r\nContent-Length: 2\r\n\r\nok", "SSH-2.0-OpenSSH_9.6\r\n\r\n"})
    void aResponseWithoutAValidStatusLineFailsTheExchange(String answer) throws Exception {
        RawBackend backend = answering(answer);

        Recorder recorder = send(exchange("GET", backend.uri(), "/"));

        assertFailed(recorder);
        assertThat(recorder.headersCalls).hasValue(0);
    }

    @Test
    void aBadChunkSizeFailsTheExchange() throws Exception {
        RawBackend backend = raw(conn -> {
            conn.readRequest();
            conn.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");
            conn.awaitClientClose();
        });

        Recorder recorder = send(exchange("GET", backend.uri(), "/"));

        assertFailed(recorder);
        assertThat(recorder.bodyEnd.isDone() && !recorder.bodyEnd.isCompletedExceptionally())
                .as("a bad body never ends normally")
                .isFalse();
    }

    @Test
    void aStallBeforeTheHeadersHitsTheIdleTimeout() throws Exception {
        RawBackend backend = raw(conn -> {
            conn.readHead();
            conn.awaitClientClose();
        });

        long start = System.nanoTime();
        Recorder recorder = send(exchange("GET", backend.uri(), "/").idleTimeout(300));
        Throwable failure = assertFailed(recorder);
        long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(hasCause(failure, TimeoutException.class))
                .as("cause chain %s", chain(failure))
                .isTrue();
        assertThat(elapsed).isBetween(250L, 3000L);
        assertThat(recorder.headersCalls).hasValue(0);
        Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(backend.clientClosed)
                        .as("the timed-out connection is closed")
                        .hasValue(1));
    }

    @Test
    void aStallMidBodyHitsTheIdleTimeout() throws Exception {
        RawBackend backend = raw(conn -> {
            conn.readHead();
            conn.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst");
            conn.awaitClientClose();
        });

        Recorder recorder = send(exchange("GET", backend.uri(), "/").idleTimeout(300));
        Throwable failure = assertFailed(recorder);

        assertThat(hasCause(failure, TimeoutException.class))
                .as("cause chain %s", chain(failure))
                .isTrue();
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> recorder.contentFailure.get() != null);
        assertThat(recorder.text()).isEqualTo("first");
    }

    @Test
    void aBodyThatKeepsTricklingHitsTheTotalTimeout() throws Exception {
        RawBackend backend = raw(conn -> {
            conn.readHead();
            conn.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
            for (int i = 0; i < 200; i++) { // at most 10 s
                conn.write("1\r\nx\r\n");
                sleep(50);
            }
        });

        long start = System.nanoTime();
        Recorder recorder =
                send(exchange("GET", backend.uri(), "/").idleTimeout(5000).timeout(400));
        Throwable failure = assertFailed(recorder);
        long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(hasCause(failure, TimeoutException.class))
                .as("cause chain %s", chain(failure))
                .isTrue();
        assertThat(elapsed).isBetween(350L, 3000L);
        assertThat(recorder.headers.get()).isEqualTo(200);
        assertThat(recorder.bytes.get()).isGreaterThan(0);
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> recorder.contentFailure.get() != null);
    }

    @Test
    void aStallBeforeTheHeadersHitsTheTotalTimeout() throws Exception {
        RawBackend backend = raw(conn -> {
            conn.readHead();
            conn.awaitClientClose();
        });

        Recorder recorder =
                send(exchange("GET", backend.uri(), "/").idleTimeout(10_000).timeout(300));
        Throwable failure = assertFailed(recorder);

        assertThat(hasCause(failure, TimeoutException.class))
                .as("cause chain %s", chain(failure))
                .isTrue();
        Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(backend.clientClosed).hasValue(1));
    }

    @Test
    void aTotalTimeoutThatIsNotReachedDoesNotFireLater() throws Exception {
        RawBackend backend = answering(response("ok"));

        Recorder recorder = succeed(exchange("GET", backend.uri(), "/").timeout(200));
        sleep(400); // past the timeout: it must have been cancelled with the exchange's end
        Recorder next = succeed(exchange("GET", backend.uri(), "/"));

        assertThat(recorder.completeCalls).hasValue(1);
        assertThat(next.text()).isEqualTo("ok");
        assertThat(backend.accepted).as("the connection outlived the timeout").hasValue(1);
    }

    @Test
    void abortFromOnHeadersEndsOnceWithTheCauseAndClosesTheConnection() throws Exception {
        RawBackend backend = raw(conn -> {
            if (conn.index == 0) {
                conn.readRequest();
                conn.write("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + "x".repeat(1000));
                conn.awaitClientClose();
            } else {
                while (conn.readRequest() != null) {
                    conn.write(response("fresh"));
                }
            }
        });
        IllegalStateException cause = new IllegalStateException("not wanted");
        boolean[] aborted = new boolean[1];
        Recorder recorder = new Recorder().onHeaders(exchange -> aborted[0] = exchange.abort(cause));
        UpstreamExchange exchange = exchange("GET", backend.uri(), "/");
        exchange.send(recorder);

        Throwable failure = assertFailed(recorder);
        Recorder next = succeed(exchange("GET", backend.uri(), "/"));

        assertThat(failure).isSameAs(cause);
        assertThat(aborted[0]).isTrue();
        assertThat(exchange.abortCause()).isSameAs(cause);
        assertThat(exchange.abort(new RuntimeException("again")))
                .as("a second abort")
                .isFalse();
        assertThat(recorder.completeCalls).hasValue(1);
        assertThat(next.text()).isEqualTo("fresh");
        assertThat(backend.accepted).as("the aborted connection was not reused").hasValue(2);
        Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(backend.clientClosed)
                        .as("the aborted connection was closed")
                        .hasValue(1));
    }

    @Test
    void anAbortFromAnotherThreadDuringOnHeadersCompletesOnlyAfterOnHeadersReturns() throws Exception {
        // The listener is inside onHeaders when another thread aborts: abort() ends the exchange at once
        // (it says true), but the listener hears onComplete only once onHeaders has returned, and never
        // onContentSource (the CI failure: onContentSource after onComplete on the selector thread).
        Recorder recorder = abortWhileInside(false);

        assertThat(recorder.contentCalls).as("onContentSource after the abort").hasValue(0);
        assertThat(recorder.callsAfterComplete).hasValue(0);
    }

    @Test
    void anAbortFromAnotherThreadDuringOnContentSourceCompletesOnlyAfterItReturns() throws Exception {
        // As above, one call later: the reader, inside onContentSource, reads the abort's cause.
        Recorder recorder = abortWhileInside(true);

        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> recorder.contentFailure.get() != null);
        assertThat(recorder.contentFailure.get()).as("what the reader read").isSameAs(recorder.done.get());
    }

    /**
     * Aborts an exchange from another thread while its listener is held inside onHeaders (or
     * onContentSource), and checks that onComplete came once, with the abort's cause, and only after the
     * held call returned.
     */
    private Recorder abortWhileInside(boolean contentSource) throws Exception {
        RawBackend backend = raw(conn -> {
            conn.readRequest();
            conn.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + "x".repeat(100));
            conn.awaitClientClose();
        });
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger completedInside = new AtomicInteger(-1);
        Recorder recorder = new Recorder() {
            private void hold() {
                inside.countDown();
                try {
                    release.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                completedInside.set(completeCalls.get());
            }

            @Override
            public void onHeaders(UpstreamExchange exchange) {
                super.onHeaders(exchange);
                if (!contentSource) {
                    hold();
                }
            }

            @Override
            public void onContentSource(UpstreamExchange exchange, Content.Source content) {
                if (contentSource) {
                    hold();
                }
                super.onContentSource(exchange, content);
            }
        };
        UpstreamExchange exchange = exchange("GET", backend.uri(), "/");
        exchange.send(recorder);
        assertThat(inside.await(5, TimeUnit.SECONDS)).isTrue();

        RuntimeException cause = new RuntimeException("client left");
        boolean aborted =
                CompletableFuture.supplyAsync(() -> exchange.abort(cause)).get(5, TimeUnit.SECONDS);
        sleep(50);
        int completedBeforeReturn = recorder.completeCalls.get();
        release.countDown();

        assertThat(aborted).isTrue();
        assertThat(completedBeforeReturn)
                .as("onComplete while the held call ran")
                .isZero();
        assertThat(recorder.done.get(5, TimeUnit.SECONDS)).isSameAs(cause);
        assertThat(completedInside).hasValue(0);
        sleep(50);
        assertThat(recorder.completeCalls).hasValue(1);
        return recorder;
    }

    @Test
    void abortFromAnotherThreadDuringAStallEndsPromptly() throws Exception {
        RawBackend backend = raw(conn -> {
            conn.readHead();
            conn.awaitClientClose();
        });
        UpstreamExchange exchange = exchange("GET", backend.uri(), "/").idleTimeout(20_000);
        Recorder recorder = send(exchange);
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> backend.heads.size() == 1);

        RuntimeException cause = new RuntimeException("client left");
        long start = System.nanoTime();
        boolean aborted =
                CompletableFuture.supplyAsync(() -> exchange.abort(cause)).get(5, TimeUnit.SECONDS);
        Throwable failure = recorder.done.get(1, TimeUnit.SECONDS);
        long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(aborted).isTrue();
        assertThat(failure).isSameAs(cause);
        assertThat(elapsed).isLessThan(1000);
        assertThat(recorder.completeCalls).hasValue(1);
        assertThat(recorder.headersCalls).hasValue(0);
        Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(backend.clientClosed).hasValue(1));
    }

    @Test
    void abortWhileTheConsumerHoldsTheBodyFailsTheContent() throws Exception {
        RawBackend backend = raw(conn -> {
            conn.readHead();
            conn.write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(50_000));
            conn.awaitClientClose();
        });
        Recorder recorder = new Recorder().holdAfter(1);
        UpstreamExchange exchange = exchange("GET", backend.uri(), "/");
        exchange.send(recorder);
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(recorder::held);

        RuntimeException cause = new RuntimeException("stop");
        assertThat(exchange.abort(cause)).isTrue();
        Throwable failure = assertFailed(recorder);
        recorder.resume();

        assertThat(failure).isSameAs(cause);
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> recorder.contentFailure.get() != null);
        assertThat(recorder.contentFailure.get()).isSameAs(cause);
    }

    @Test
    void abortAfterTheEndReturnsFalse() throws Exception {
        RawBackend backend = answering(response("ok"));
        UpstreamExchange exchange = exchange("GET", backend.uri(), "/");
        Recorder recorder = succeed(exchange);

        assertThat(exchange.abort(new RuntimeException("late"))).isFalse();
        assertThat(recorder.completeCalls).hasValue(1);
        assertThat(succeed(exchange("GET", backend.uri(), "/")).text()).isEqualTo("ok");
        assertThat(backend.accepted)
                .as("a late abort leaves the pooled connection alone")
                .hasValue(1);
    }

    @Test
    void aListenerThatThrowsInOnHeadersEndsTheExchangeOnceWithItsException() throws Exception {
        RawBackend backend = raw(conn -> {
            conn.readRequest();
            conn.write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nabc");
            conn.awaitClientClose();
        });
        IllegalStateException bug = new IllegalStateException("listener bug");
        Recorder recorder = new Recorder().onHeaders(exchange -> {
            throw bug;
        });

        exchange("GET", backend.uri(), "/").idleTimeout(20_000).send(recorder);

        Throwable failure = assertFailed(recorder);
        assertThat(chain(failure)).contains(bug);
        Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(backend.clientClosed)
                        .as("the connection is closed, not leaked")
                        .hasValue(1));
        assertThat(recorder.completeCalls).hasValue(1);
    }

    @Test
    void aListenerThatThrowsInOnContentSourceEndsTheExchangeOnceWithItsException() throws Exception {
        RawBackend backend = raw(conn -> {
            conn.readRequest();
            conn.write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nabc");
            conn.awaitClientClose();
        });
        IllegalStateException bug = new IllegalStateException("listener bug");
        Recorder recorder = new Recorder() {
            @Override
            public void onContentSource(UpstreamExchange exchange, Content.Source content) {
                contentCalls.incrementAndGet();
                throw bug;
            }
        };

        exchange("GET", backend.uri(), "/").idleTimeout(20_000).send(recorder);

        Throwable failure = assertFailed(recorder);
        assertThat(chain(failure)).contains(bug);
        Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(backend.clientClosed)
                        .as("the connection is closed, not leaked")
                        .hasValue(1));
    }

    // ---- response heads read directly (FieldLines), and the parser for the rest ----

    @Test
    void aRepeatedResponseLineGivesTheSameFieldAndEveryChangedLineItsOwnValue() throws Exception {
        RawBackend backend = raw(conn -> {
            int i = -1;
            while (conn.readRequest() != null) {
                i++;
                String body = "body-" + i;
                conn.write("HTTP/1.1 200 OK\r\nServer: raw\r\nX-N: " + i + "\r\n"
                        + (i % 2 == 0 ? "X-Even: yes\r\n" : "") + "Content-Length: " + body.length() + "\r\n\r\n"
                        + body);
            }
        });
        List<UpstreamExchange> exchanges = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            UpstreamExchange exchange = exchange("GET", backend.uri(), "/" + i);
            Recorder recorder = succeed(exchange);
            assertThat(recorder.text()).isEqualTo("body-" + i);
            assertThat(exchange.responseHeaders().get("X-N")).isEqualTo(Integer.toString(i));
            assertThat(exchange.responseHeaders().get("X-Even")).isEqualTo(i % 2 == 0 ? "yes" : null);
            exchanges.add(exchange);
        }
        assertThat(exchanges.get(1).responseHeaders().getField("Server"))
                .as("the line repeated: the field given again")
                .isSameAs(exchanges.get(0).responseHeaders().getField("Server"));
        assertThat(backend.accepted).hasValue(1);
    }

    @Test
    void aBodyOfKnownLengthArrivingInPiecesAfterItsHeadIsReadWhole() throws Exception {
        RawBackend backend = raw(conn -> {
            while (conn.readRequest() != null) {
                conn.write("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhel");
                sleep(30);
                conn.write("lo ");
                sleep(30);
                conn.write("world");
            }
        });

        Recorder first = succeed(exchange("GET", backend.uri(), "/"));
        Recorder second = succeed(exchange("GET", backend.uri(), "/"));

        assertThat(first.text()).isEqualTo("hello world");
        assertThat(second.text()).isEqualTo("hello world");
        assertThat(backend.accepted).hasValue(1);
    }

    /** Response heads that are not plain go to Jetty's parser, which accepts or refuses them as before. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(
            strings = {
                "X-A: caf\u00e9|caf\u00e9",
                "X-A: 1\r\n 2|FAILS",
                "X-A : 1|FAILS",
                "X-A: a\u0001b|FAILS",
                "Content-Length: 2|FAILS", // a second Content-Length, equal to the first
                "Content-Length: +2|FAILS"
            })
    void responseLinesThatAreNotPlainAreLeftToTheParser(String lineAndExpected) throws Exception {
        String line = lineAndExpected.substring(0, lineAndExpected.indexOf('|'));
        String expected = lineAndExpected.substring(lineAndExpected.indexOf('|') + 1);
        RawBackend backend = answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" + line + "\r\n\r\nok");

        if (expected.equals("FAILS")) {
            Recorder recorder = send(exchange("GET", backend.uri(), "/"));
            assertFailed(recorder);
            assertThat(recorder.headersCalls).hasValue(0);
        } else {
            UpstreamExchange exchange = exchange("GET", backend.uri(), "/");
            Recorder ok = succeed(exchange);
            assertThat(ok.text()).isEqualTo("ok");
            assertThat(exchange.responseHeaders().get("X-A")).isEqualTo(expected);
        }
    }

    // ---- smuggling and framing defences ----

    @Test
    void bytesAfterAResponseAreNeverTakenForTheNextResponse() throws Exception {
        // A backend that sends more than it announced: the surplus must not answer the next request.
        RawBackend backend = raw(conn -> {
            String head;
            while ((head = conn.readRequest()) != null) {
                if (conn.index == 0) {
                    conn.write(response("ok") + "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil");
                } else {
                    conn.write(response("good"));
                }
            }
        });

        Recorder first = succeed(exchange("GET", backend.uri(), "/1"));
        Recorder second = succeed(exchange("GET", backend.uri(), "/2"));

        assertThat(first.text()).isEqualTo("ok");
        assertThat(second.text()).isEqualTo("good");
        assertThat(backend.accepted).hasValue(2);
    }

    @Test
    void conflictingContentLengthsFailTheExchange() throws Exception {
        RawBackend backend = answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 7\r\n\r\nok-evil");

        Recorder recorder = send(exchange("GET", backend.uri(), "/"));

        assertFailed(recorder);
        assertThat(recorder.bytes.get()).isZero();
    }

    @Test
    void chunkedWithAContentLengthIsNeverReadByTheLength() throws Exception {
        RawBackend backend = answering("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "b\r\nhello world\r\n0\r\n\r\n");

        Recorder recorder = send(exchange("GET", backend.uri(), "/"));
        Throwable failure = recorder.failure();

        if (failure == null) {
            recorder.bodyEnd.get(5, TimeUnit.SECONDS);
            assertThat(recorder.text()).as("chunked framing wins").isEqualTo("hello world");
        }
        assertThat(recorder.completeCalls).hasValue(1);
    }

    @Test
    void callerFramingHeadersNeverContradictTheBody() throws Exception {
        RawBackend backend = answering(response("ok"));
        AsyncContent chunked = new AsyncContent();
        UpstreamExchange unknown = exchange("POST", backend.uri(), "/chunked").body(chunked, -1);
        unknown.requestHeaders().put("Content-Length", "999");
        unknown.requestHeaders().put("Transfer-Encoding", "gzip");
        writeLater(chunked, List.of("abc"));
        succeed(unknown);
        UpstreamExchange known = exchange("POST", backend.uri(), "/known")
                .body(Content.Source.from(ByteBuffer.wrap("abc".getBytes(StandardCharsets.UTF_8))), 3);
        known.requestHeaders().put("Transfer-Encoding", "chunked");
        succeed(known);

        String first = backend.heads.get(0);
        assertThat(headers(first, "Transfer-Encoding")).containsExactly("chunked");
        assertThat(headers(first, "Content-Length")).isEmpty();
        String second = backend.heads.get(1);
        assertThat(headers(second, "Content-Length")).containsExactly("3");
        assertThat(headers(second, "Transfer-Encoding")).isEmpty();
        assertThat(backend.accepted).as("both bodies framed as announced").hasValue(1);
    }

    @Test
    void aLineBreakInAHeaderValueCannotAddAHeader() throws Exception {
        RawBackend backend = answering(response("ok"));
        UpstreamExchange exchange = exchange("GET", backend.uri(), "/");
        exchange.requestHeaders().add("X-Value", "a\r\nX-Injected: 1");

        succeed(exchange);

        String head = backend.heads.get(0);
        assertThat(header(head, "X-Injected")).isNull();
        assertThat(header(head, "X-Value")).startsWith("a");
    }

    @Test
    void aTargetWithASpaceIsEscapedNotSplit() throws Exception {
        RawBackend backend = answering(response("ok"));

        succeed(exchange("GET", backend.uri(), "/a b?q=c d"));

        assertThat(requestLine(backend.heads.get(0))).isEqualTo("GET /a%20b?q=c%20d HTTP/1.1");
    }

    @Test
    void aSwitchingProtocolsResponseFailsTheExchange() throws Exception {
        RawBackend backend =
                answering("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");

        Recorder recorder = send(exchange("GET", backend.uri(), "/"));

        assertFailed(recorder);
        assertThat(recorder.headersCalls).hasValue(0);
    }

    /**
     * An upgrade answered with 101: the listener takes the connection as a tunnel end, whose first bytes are
     * those the backend sent right behind its head; the connection has left the pool (the next exchange opens
     * another), and bytes go both ways until the backend closes.
     */
    @Test
    void anUpgradeAnsweredWith101HandsTheConnectionOverOutOfThePool() throws Exception {
        RawBackend backend = raw(conn -> {
            String head = conn.readHead();
            if (head.contains("Upgrade: websocket")) {
                conn.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
                        + "early");
                byte[] ping = conn.in.readNBytes(4);
                conn.write(new String(ping, java.nio.charset.StandardCharsets.ISO_8859_1).toUpperCase());
            } else {
                conn.write(response("ok"));
            }
        });
        java.util.concurrent.CompletableFuture<dev.proxyfilter.tunnel.TunnelEnd> tunnel =
                new java.util.concurrent.CompletableFuture<>();
        UpstreamExchange upgrade = exchange("GET", backend.uri(), "/ws").upgrade();
        upgrade.requestHeaders().put("Upgrade", "websocket").put("Connection", "Upgrade");
        Recorder recorder = new Recorder().onHeaders(exchange -> tunnel.complete(exchange.takeTunnel()));
        upgrade.send(recorder);

        assertThat(recorder.done.get(10, TimeUnit.SECONDS)).isNull();
        assertThat(upgrade.status()).isEqualTo(101);
        dev.proxyfilter.tunnel.TunnelEnd end = tunnel.get(10, TimeUnit.SECONDS);
        assertThat(end).isNotNull();
        assertThat(client.connections("http", "127.0.0.1", backend.port())).isZero();

        java.io.ByteArrayOutputStream read = new java.io.ByteArrayOutputStream();
        java.util.concurrent.CompletableFuture<Void> eof = new java.util.concurrent.CompletableFuture<>();
        Runnable[] reader = new Runnable[1];
        reader[0] = () -> {
            while (true) {
                org.eclipse.jetty.io.Content.Chunk chunk = end.read();
                if (chunk == null) {
                    end.demand(reader[0]);
                    return;
                }
                byte[] bytes = new byte[chunk.remaining()];
                chunk.getByteBuffer().get(bytes);
                read.writeBytes(bytes);
                chunk.release();
                if (chunk.isLast()) {
                    eof.complete(null);
                    return;
                }
            }
        };
        org.eclipse.jetty.util.FutureCallback written = new org.eclipse.jetty.util.FutureCallback();
        end.write(
                false, java.nio.ByteBuffer.wrap("ping".getBytes(java.nio.charset.StandardCharsets.US_ASCII)), written);
        written.get(10, TimeUnit.SECONDS);
        reader[0].run();
        eof.get(10, TimeUnit.SECONDS);
        assertThat(read.toString(java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("earlyPING");
        end.close(null);

        succeed(exchange("GET", backend.uri(), "/plain")); // a new connection: the tunnel's never came back
        assertThat(backend.accepted).hasValue(2);
    }

    @Test
    void aResponseHeadTooBigFailsTheExchange() throws Exception {
        RawBackend backend =
                answering("HTTP/1.1 200 OK\r\nX-Big: " + "x".repeat(100_000) + "\r\nContent-Length: 2\r\n\r\nok");

        Recorder recorder = send(exchange("GET", backend.uri(), "/"));

        assertFailed(recorder);
        assertThat(recorder.headersCalls).hasValue(0);
    }

    @Test
    void anEarlyAnswerBeforeTheRequestBodyEndsIsDeliveredAndTheConnectionClosed() throws Exception {
        RawBackend backend = raw(conn -> {
            String head;
            while ((head = conn.readHead()) != null) {
                if (head.startsWith("POST ")) {
                    conn.write("HTTP/1.1 413 Content Too Large\r\nContent-Length: 3\r\n\r\nbig");
                    conn.awaitClientClose();
                    return;
                }
                conn.write(response("ok"));
            }
        });
        AsyncContent body = new AsyncContent(); // never ends
        FutureCallback written = new FutureCallback();
        body.write(false, ByteBuffer.wrap("start".getBytes(StandardCharsets.UTF_8)), written);

        Recorder recorder = succeed(exchange("POST", backend.uri(), "/").body(body, 1_000_000));
        Recorder next = succeed(exchange("GET", backend.uri(), "/"));

        assertThat(recorder.headers.get()).isEqualTo(413);
        assertThat(recorder.text()).isEqualTo("big");
        assertThat(next.text()).isEqualTo("ok");
        assertThat(backend.accepted)
                .as("the half-sent request's connection is not reused")
                .hasValue(2);
        Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(backend.clientClosed).hasValue(1));
    }

    @Test
    void abortFromAnotherThreadWhileTheReaderWaitsForMoreFailsTheContentPromptly() throws Exception {
        RawBackend backend = raw(conn -> {
            conn.readHead();
            conn.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npart");
            conn.awaitClientClose();
        });
        UpstreamExchange exchange = exchange("GET", backend.uri(), "/").idleTimeout(20_000);
        Recorder recorder = send(exchange);
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> recorder.bytes.get() == 4);

        RuntimeException cause = new RuntimeException("client left");
        assertThat(CompletableFuture.supplyAsync(() -> exchange.abort(cause)).get(5, TimeUnit.SECONDS))
                .isTrue();

        assertThat(recorder.done.get(1, TimeUnit.SECONDS)).isSameAs(cause);
        Awaitility.await().atMost(Duration.ofSeconds(1)).until(() -> recorder.contentFailure.get() != null);
        assertThat(recorder.contentFailure.get()).isSameAs(cause);
    }

    @Test
    void abortsRacingTheResponseEndEachExchangeOnceAndLeaveThePoolWorking() throws Exception {
        // Each exchange is aborted from another thread at a random moment: before it is sent, while its
        // head or body arrives, or after its end. Whatever the moment, it ends once, either well (and
        // abort() said false) or with its own abort cause (and abort() said true), never another's.
        client = newClient(4, 100);
        java.util.Random random = new java.util.Random(42);
        List<Recorder> recorders = new ArrayList<>();
        List<RuntimeException> causes = new ArrayList<>();
        List<CompletableFuture<Boolean>> aborts = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            UpstreamExchange exchange =
                    exchange("GET", digest.url(), "/?size=" + (64 * 1024 + i)).idleTimeout(3000);
            Recorder recorder = send(exchange);
            recorders.add(recorder);
            RuntimeException cause = new RuntimeException("race " + i);
            causes.add(cause);
            long delayMicros = random.nextInt(3000);
            aborts.add(CompletableFuture.supplyAsync(() -> {
                java.util.concurrent.locks.LockSupport.parkNanos(delayMicros * 1000);
                return exchange.abort(cause);
            }));
        }
        List<String> anomalies = new ArrayList<>();
        int aborted = 0;
        for (int i = 0; i < recorders.size(); i++) {
            Recorder recorder = recorders.get(i);
            Throwable failure;
            try {
                failure = recorder.failure();
            } catch (TimeoutException e) {
                anomalies.add(i + ": never ended");
                continue;
            }
            boolean abortWon = aborts.get(i).get(5, TimeUnit.SECONDS);
            if (failure == null) {
                recorder.bodyEnd.get(5, TimeUnit.SECONDS);
                if (recorder.bytes.get() != 64 * 1024 + i || !recorder.sha().equals(patternSha(64 * 1024 + i))) {
                    anomalies.add(i + ": a wrong body of " + recorder.bytes.get() + " bytes");
                }
                if (abortWon) {
                    anomalies.add(i + ": abort() returned true but the exchange succeeded");
                }
            } else {
                aborted++;
                if (failure != causes.get(i)) {
                    anomalies.add(i + ": failed with " + failure + " (abort() returned " + abortWon + ")");
                } else if (!abortWon) {
                    anomalies.add(i + ": failed with its abort cause but abort() returned false");
                }
            }
        }
        sleep(100);
        for (int i = 0; i < recorders.size(); i++) {
            if (recorders.get(i).completeCalls.get() > 1) {
                anomalies.add(i + ": onComplete called "
                        + recorders.get(i).completeCalls.get() + " times");
            }
            if (recorders.get(i).callsAfterComplete.get() > 0) {
                anomalies.add(i + ": onHeaders or onContentSource after onComplete");
            }
        }
        for (int i = 0; i < 10; i++) {
            Recorder after = send(exchange("GET", digest.url(), "/?size=1000").timeout(3000));
            Throwable failure = after.failure();
            if (failure != null) {
                anomalies.add("a request after the races failed: " + failure);
            } else {
                after.bodyEnd.get(5, TimeUnit.SECONDS);
            }
        }

        assertThat(anomalies).isEmpty();
        assertThat(client.connections("http", "127.0.0.1", digest.port())).isBetween(1, 4);
        assertThat(aborted).as("some aborts won").isPositive();
    }

    // ---- addresses a reload removed ----

    @Test
    void anAddressNoLongerRoutedLosesItsIdleConnectionsAndIsForgotten() throws Exception {
        RawBackend kept = raw(conn -> {
            while (conn.readRequest() != null) {
                conn.write(response("kept"));
            }
        });
        RawBackend removed = raw(conn -> {
            while (conn.readRequest() != null) {
                conn.write(response("removed"));
            }
        });
        succeed(exchange("GET", kept.uri(), "/"));
        succeed(exchange("GET", removed.uri(), "/"));
        assertThat(client.destinations()).isEqualTo(2);
        assertThat(client.idleConnections("http", "127.0.0.1", removed.uri().getPort()))
                .isEqualTo(1);

        client.retainDestinations(java.util.Set.of(
                UpstreamClient.key("http", "127.0.0.1", kept.uri().getPort())));

        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> client.destinations() == 1);
        Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(removed.clientClosed)
                        .as("its idle connection was closed")
                        .hasValue(1));
        assertThat(client.idleConnections("http", "127.0.0.1", kept.uri().getPort()))
                .as("the kept pool")
                .isEqualTo(1);
        // Asked for again (a retry of an old configuration's request, say), the address is served as usual.
        assertThat(succeed(exchange("GET", removed.uri(), "/")).text()).isEqualTo("removed");
        assertThat(succeed(exchange("GET", kept.uri(), "/")).text()).isEqualTo("kept");
        assertThat(kept.accepted).as("the kept pool's connection was reused").hasValue(1);
    }

    @Test
    void anAddressNoLongerRoutedFinishesItsExchangeAndIsForgottenAfterwards() throws Exception {
        CountDownLatch answer = new CountDownLatch(1);
        RawBackend removed = raw(conn -> {
            while (conn.readRequest() != null) {
                answer.await(5, TimeUnit.SECONDS);
                conn.write(response("late"));
            }
        });
        Recorder inFlight = send(exchange("GET", removed.uri(), "/"));
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> removed.accepted.get() == 1);

        client.retainDestinations(java.util.Set.of());
        assertThat(client.destinations()).as("kept while its exchange runs").isEqualTo(1);
        answer.countDown();

        assertSucceeded(inFlight);
        assertThat(inFlight.text()).isEqualTo("late");
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> client.destinations() == 0);
        Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(removed.clientClosed)
                        .as("closed, not pooled")
                        .hasValue(1));
    }

    // ---- 7. concurrency ----

    @Test
    void fiftyConcurrentRequestsShareAtMostFourConnections() throws Exception {
        client = newClient(4, 100);
        RawBackend backend = raw(conn -> {
            String head;
            while ((head = conn.readRequest()) != null) {
                sleep(10);
                conn.write(response(requestLine(head).split(" ")[1]));
            }
        });

        List<Recorder> recorders = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            recorders.add(send(exchange("GET", backend.uri(), "/r" + i)));
        }
        for (int i = 0; i < 50; i++) {
            Recorder recorder = recorders.get(i);
            assertSucceeded(recorder);
            assertThat(recorder.text()).as("the answer to its own request").isEqualTo("/r" + i);
        }

        assertThat(backend.maxOpen.get()).as("connections open at once").isBetween(2, 4);
        assertThat(backend.accepted.get()).as("connections opened").isLessThanOrEqualTo(4);
        assertThat(client.connections("http", "127.0.0.1", backend.port())).isLessThanOrEqualTo(4);
    }

    @Test
    void aResendAfterAStaleConnectionRespectsTheConnectionLimit() throws Exception {
        // One connection allowed. The pooled one dies as /2 reaches it while /3 waits in the queue:
        // /2 is sent again and /3 goes next, one after the other on one new connection, never two at once.
        client = newClient(1, 4);
        CountDownLatch secondArrived = new CountDownLatch(1);
        RawBackend backend = raw(conn -> {
            if (conn.index == 0) {
                conn.readRequest();
                conn.write(response("first"));
                conn.readRequest();
                secondArrived.await(5, TimeUnit.SECONDS);
                return; // closes without an answer
            }
            String head;
            while ((head = conn.readRequest()) != null) {
                sleep(50);
                conn.write(response(requestLine(head).split(" ")[1]));
            }
        });
        succeed(exchange("GET", backend.uri(), "/1"));

        Recorder second = send(exchange("GET", backend.uri(), "/2"));
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> backend.heads.size() == 2);
        Recorder third = send(exchange("GET", backend.uri(), "/3"));
        secondArrived.countDown();

        assertThat(assertSucceeded(second).text()).isEqualTo("/2");
        assertThat(assertSucceeded(third).text()).isEqualTo("/3");
        assertThat(backend.maxOpen.get()).as("connections open at once").isEqualTo(1);
        assertThat(client.connections("http", "127.0.0.1", backend.port())).isEqualTo(1);
    }

    @Test
    void concurrentRequestsSurviveABackendThatDropsConnectionsAsRequestsArrive() throws Exception {
        // Like a keep-alive request limit without "Connection: close": after three answers a connection
        // takes the next request and closes. Every bodiless request must still succeed, through the
        // one resend on a new connection, and the pool must stay within its limit while it resends.
        client = newClient(4, 200);
        RawBackend backend = raw(conn -> {
            String head;
            int answered = 0;
            while ((head = conn.readRequest()) != null) {
                if (answered == 3) {
                    return;
                }
                sleep(2);
                conn.write(response(requestLine(head).split(" ")[1]));
                answered++;
            }
        });

        java.util.concurrent.atomic.AtomicInteger maxCounted = new java.util.concurrent.atomic.AtomicInteger();
        Thread watcher = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                int n = client.connections("http", "127.0.0.1", backend.port());
                maxCounted.accumulateAndGet(n, Math::max);
                java.util.concurrent.locks.LockSupport.parkNanos(200_000);
            }
        });
        watcher.setDaemon(true);
        watcher.start();
        List<Recorder> recorders = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            recorders.add(send(exchange("GET", backend.uri(), "/r" + i).timeout(5000)));
        }
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < recorders.size(); i++) {
            Recorder recorder = recorders.get(i);
            Throwable failure = recorder.failure();
            if (failure != null) {
                failures.add(i + ": " + failure);
                continue;
            }
            recorder.bodyEnd.get(5, TimeUnit.SECONDS);
            assertThat(recorder.text()).isEqualTo("/r" + i);
        }

        watcher.interrupt();
        // Each resend may land on another connection about to die: a few may run out of resends,
        // but only ever with a failure before any response byte, never a wrong answer or a hang.
        assertThat(failures)
                .as("failures")
                .hasSizeLessThanOrEqualTo(recorders.size() / 10)
                .allSatisfy(failure -> assertThat(failure).contains("EOFException"));
        assertThat(maxCounted.get())
                .as("connections the client counted at once")
                .isLessThanOrEqualTo(4);
        assertThat(backend.maxOpen.get())
                .as("connections open at once at the backend")
                .isLessThanOrEqualTo(4);
    }

    @Test
    void whenTheConnectionAndTheQueueAreFullARequestIsRejectedAtOnce() throws Exception {
        client = newClient(1, 1);
        CountDownLatch release = new CountDownLatch(1);
        RawBackend backend = raw(conn -> {
            String head;
            while ((head = conn.readRequest()) != null) {
                if (requestLine(head).contains("/first")) {
                    release.await(10, TimeUnit.SECONDS);
                }
                conn.write(response(requestLine(head).split(" ")[1]));
            }
        });

        Recorder first = send(exchange("GET", backend.uri(), "/first").idleTimeout(10_000));
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> backend.heads.size() == 1);
        Recorder second = send(exchange("GET", backend.uri(), "/second").idleTimeout(10_000));
        Recorder third = send(exchange("GET", backend.uri(), "/third").idleTimeout(10_000));

        Throwable rejected = third.done.get(2, TimeUnit.SECONDS);
        assertThat(hasCause(rejected, RejectedExecutionException.class))
                .as("cause chain %s", chain(rejected))
                .isTrue();
        assertThat(first.done).isNotDone();
        assertThat(second.done).isNotDone();
        release.countDown();

        assertThat(assertSucceeded(first).text()).isEqualTo("/first");
        assertThat(assertSucceeded(second).text()).isEqualTo("/second");
        assertThat(backend.accepted).hasValue(1);
        assertThat(backend.heads).hasSize(2);
    }

    @Test
    void aQueuedRequestCanBeAbortedAndIsNeverSent() throws Exception {
        client = newClient(1, 4);
        CountDownLatch release = new CountDownLatch(1);
        RawBackend backend = raw(conn -> {
            String head;
            while ((head = conn.readRequest()) != null) {
                if (requestLine(head).contains("/first")) {
                    release.await(10, TimeUnit.SECONDS);
                }
                conn.write(response("ok"));
            }
        });
        Recorder first = send(exchange("GET", backend.uri(), "/first").idleTimeout(10_000));
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> backend.heads.size() == 1);
        UpstreamExchange queued = exchange("GET", backend.uri(), "/queued");
        Recorder recorder = send(queued);

        RuntimeException cause = new RuntimeException("gave up waiting");
        assertThat(queued.abort(cause)).isTrue();
        assertThat(recorder.done.get(1, TimeUnit.SECONDS)).isSameAs(cause);
        release.countDown();
        assertSucceeded(first);
        Recorder after = succeed(exchange("GET", backend.uri(), "/after"));

        assertThat(after.text()).isEqualTo("ok");
        assertThat(backend.heads)
                .extracting(UpstreamTestSupport::requestLine)
                .containsExactly("GET /first HTTP/1.1", "GET /after HTTP/1.1");
        assertThat(recorder.completeCalls).hasValue(1);
    }

    @Test
    void aQueuedRequestHitsItsTotalTimeoutAndIsNeverSent() throws Exception {
        client = newClient(1, 4);
        CountDownLatch release = new CountDownLatch(1);
        RawBackend backend = raw(conn -> {
            String head;
            while ((head = conn.readRequest()) != null) {
                if (requestLine(head).contains("/first")) {
                    release.await(10, TimeUnit.SECONDS);
                }
                conn.write(response("ok"));
            }
        });
        Recorder first = send(exchange("GET", backend.uri(), "/first").idleTimeout(10_000));
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> backend.heads.size() == 1);

        Recorder queued = send(exchange("GET", backend.uri(), "/queued").timeout(300));
        Throwable failure = assertFailed(queued);
        release.countDown();
        assertSucceeded(first);
        succeed(exchange("GET", backend.uri(), "/after"));

        assertThat(hasCause(failure, TimeoutException.class))
                .as("cause chain %s", chain(failure))
                .isTrue();
        assertThat(backend.heads)
                .extracting(UpstreamTestSupport::requestLine)
                .containsExactly("GET /first HTTP/1.1", "GET /after HTTP/1.1");
    }

    @Test
    void aFailedConnectLetsAQueuedRequestTryAgain() throws Exception {
        client = newClient(1, 4);
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        URI nowhere = URI.create("http://127.0.0.1:" + port);

        Recorder first = send(exchange("GET", nowhere, "/"));
        Recorder second = send(exchange("GET", nowhere, "/"));

        assertFailed(first);
        assertFailed(second);
        assertThat(client.connections("http", "127.0.0.1", port))
                .as("no connection counted")
                .isZero();
    }

    @Test
    void aQueuedRequestTakesTheConnectionAFailedOneLeaves() throws Exception {
        client = newClient(1, 4);
        RawBackend backend = raw(conn -> {
            String head;
            while ((head = conn.readRequest()) != null) {
                if (requestLine(head).contains("/broken")) {
                    conn.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
                    return; // cut mid-body
                }
                conn.write(response("ok"));
            }
        });

        Recorder broken = send(exchange("GET", backend.uri(), "/broken"));
        Recorder queued = send(exchange("GET", backend.uri(), "/next"));

        assertFailed(broken);
        assertThat(assertSucceeded(queued).text()).isEqualTo("ok");
    }

    // ---- 8. lifecycle ----

    @Test
    void stopFailsAnExchangeInFlight() throws Exception {
        RawBackend backend = raw(conn -> {
            conn.readHead();
            conn.awaitClientClose();
        });
        Recorder recorder = send(exchange("GET", backend.uri(), "/").idleTimeout(20_000));
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> backend.heads.size() == 1);

        CompletableFuture.runAsync(() -> {
                    try {
                        client.stop();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                })
                .get(5, TimeUnit.SECONDS);

        assertFailed(recorder);
        Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(backend.clientClosed).hasValue(1));
    }

    @Test
    void stopFailsQueuedExchanges() throws Exception {
        client = newClient(1, 4);
        RawBackend backend = raw(conn -> {
            conn.readHead();
            conn.awaitClientClose();
        });
        Recorder active = send(exchange("GET", backend.uri(), "/").idleTimeout(20_000));
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> backend.heads.size() == 1);
        Recorder queued = send(exchange("GET", backend.uri(), "/queued").idleTimeout(20_000));

        client.stop();

        assertFailed(active);
        assertFailed(queued);
        assertThat(backend.heads).hasSize(1);
    }

    @Test
    void stopClosesIdleConnections() throws Exception {
        RawBackend backend = answering(response("ok"));
        succeed(exchange("GET", backend.uri(), "/"));
        Awaitility.await()
                .atMost(Duration.ofSeconds(2))
                .untilAsserted(() -> assertThat(client.idleConnections("http", "127.0.0.1", backend.port()))
                        .isEqualTo(1));

        client.stop();

        Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(backend.clientClosed).hasValue(1));
        assertThat(connector.isStarted())
                .as("the connector is not the client's to stop")
                .isTrue();
    }

    @Test
    void aRequestAfterStopFailsRatherThanHangs() throws Exception {
        RawBackend backend = answering(response("ok"));
        client.stop();

        Recorder recorder = new Recorder();
        Throwable thrown =
                catchThrowable(() -> exchange("GET", backend.uri(), "/").send(recorder));

        if (thrown == null) {
            assertFailed(recorder);
        } else {
            assertThat(thrown).isInstanceOf(IllegalStateException.class);
        }
        assertThat(backend.heads).isEmpty();
    }

    @Test
    void idleConnectionsAreClosedAfterThePoolIdleTimeout() throws Exception {
        client.stop();
        ArrayByteBufferPool buffers = new ArrayByteBufferPool();
        UpstreamClient shortIdle =
                new UpstreamClient(connector, executor, scheduler, buffers, Duration.ofMillis(300), 4, 4);
        configure(shortIdle);
        shortIdle.start();
        resources.add(shortIdle::stop);
        RawBackend backend = answering(response("ok"));

        succeed(exchange(shortIdle, "GET", backend.uri(), "/"));

        Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(backend.clientClosed)
                        .as("closed by the client when idle")
                        .hasValue(1));
        Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(shortIdle.connections("http", "127.0.0.1", backend.port()))
                        .isZero());
        assertThat(succeed(exchange(shortIdle, "GET", backend.uri(), "/")).text())
                .isEqualTo("ok");
        assertThat(backend.accepted).hasValue(2);
    }
}
