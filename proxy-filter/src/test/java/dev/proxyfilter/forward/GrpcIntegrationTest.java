package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.proxyfilter.config.RouteConfig;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.config.UpstreamProtocol;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.TestConfigs;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.grpc.testing.protobuf.SimpleRequest;
import io.grpc.testing.protobuf.SimpleResponse;
import io.grpc.testing.protobuf.SimpleServiceGrpc;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.http2.api.Session;
import org.eclipse.jetty.http2.api.Stream;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.frames.DataFrame;
import org.eclipse.jetty.http2.frames.HeadersFrame;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * gRPC through the standalone handler, with grpc-java on both sides: the client speaks h2c to the proxy's
 * listener, the proxy h2c to the backend. Every kind of call, statuses and trailers intact, and deadlines.
 */
@Timeout(60)
class GrpcIntegrationTest {
    private static Server backend;
    private static ProxyAdapter.Running proxy;
    private static ManagedChannel channel;
    /** Calls the backend was asked to stall, released at the end. */
    static final List<StreamObserver<SimpleResponse>> STALLED = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        backend = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new Service())
                .build()
                .start();
        String url = "http://127.0.0.1:" + backend.getPort();
        proxy = ProxyAdapter.HANDLER_IN_JETTY.start(TestConfigs.builder()
                .pool("grpc", StrategyName.ROUND_ROBIN, "b1", url, 1)
                .protocol("grpc", new UpstreamProtocol(UpstreamProtocol.Kind.H2C, 2, 100))
                .route("grpc", "/", "grpc")
                // The same service with a total timeout of 300 ms, on its own Host.
                .route(new RouteConfig(
                        "short",
                        "short.test",
                        "/",
                        "grpc",
                        false,
                        true,
                        Duration.ofSeconds(2),
                        Duration.ofSeconds(10),
                        Duration.ofMillis(300)))
                .build());
        channel = NettyChannelBuilder.forAddress("127.0.0.1", proxy.uri().getPort())
                .usePlaintext()
                .build();
    }

    @AfterAll
    static void stop() throws Exception {
        synchronized (STALLED) {
            STALLED.forEach(StreamObserver::onCompleted);
        }
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        proxy.close();
        backend.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private static SimpleRequest request(String message) {
        return SimpleRequest.newBuilder().setRequestMessage(message).build();
    }

    private static SimpleServiceGrpc.SimpleServiceBlockingStub blocking() {
        return SimpleServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    @Test
    void unary() {
        assertThat(blocking().unaryRpc(request("world")).getResponseMessage()).isEqualTo("hello world");
    }

    @Test
    void serverStreaming() {
        List<String> got = new ArrayList<>();
        blocking().serverStreamingRpc(request("5")).forEachRemaining(r -> got.add(r.getResponseMessage()));
        assertThat(got).containsExactly("0", "1", "2", "3", "4");
    }

    @Test
    void clientStreaming() throws Exception {
        CompletableFuture<String> result = new CompletableFuture<>();
        StreamObserver<SimpleRequest> requests = SimpleServiceGrpc.newStub(channel)
                .withDeadlineAfter(10, TimeUnit.SECONDS)
                .clientStreamingRpc(observer(result, new ArrayList<>()));
        for (int i = 0; i < 5; i++) {
            requests.onNext(request("m" + i));
        }
        requests.onCompleted();
        assertThat(result.get(10, TimeUnit.SECONDS)).isEqualTo("m0m1m2m3m4");
    }

    /**
     * Ping-pong: each request goes out only once the previous answer came back, which only works if neither
     * body is held back anywhere on the way.
     */
    @Test
    void bidiStreamingPingPong() throws Exception {
        BlockingQueue<String> answers = new LinkedBlockingQueue<>();
        CompletableFuture<String> done = new CompletableFuture<>();
        StreamObserver<SimpleRequest> requests = SimpleServiceGrpc.newStub(channel)
                .withDeadlineAfter(10, TimeUnit.SECONDS)
                .bidiStreamingRpc(new StreamObserver<>() {
                    @Override
                    public void onNext(SimpleResponse value) {
                        answers.add(value.getResponseMessage());
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        done.complete("completed");
                    }
                });
        for (int i = 0; i < 5; i++) {
            requests.onNext(request("ping" + i));
            assertThat(answers.poll(5, TimeUnit.SECONDS)).isEqualTo("pong ping" + i);
        }
        requests.onCompleted();
        assertThat(done.get(10, TimeUnit.SECONDS)).isEqualTo("completed");
    }

    @Test
    void aBackendsErrorStatusArrivesIntact() {
        assertThatThrownBy(() -> blocking().unaryRpc(request("error:5:no such thing")))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(e.getStatus().getDescription()).isEqualTo("no such thing");
                });
    }

    /** The status comes in real trailers, after messages: HTTP/2 trailers both ways through the proxy. */
    @Test
    void anErrorAfterMessagesArrivesInTrailers() throws Exception {
        CompletableFuture<String> result = new CompletableFuture<>();
        List<String> got = new ArrayList<>();
        SimpleServiceGrpc.newStub(channel)
                .withDeadlineAfter(10, TimeUnit.SECONDS)
                .serverStreamingRpc(request("2!fail"), observer(result, got));
        assertThatThrownBy(() -> result.get(10, TimeUnit.SECONDS))
                .hasCauseInstanceOf(StatusRuntimeException.class)
                .cause()
                .satisfies(e -> {
                    Status status = ((StatusRuntimeException) e).getStatus();
                    assertThat(status.getCode()).isEqualTo(Status.Code.ABORTED);
                    assertThat(status.getDescription()).isEqualTo("stopped after 2 é%");
                });
        assertThat(got).containsExactly("0", "1");
    }

    /** The route's total timeout passes while the backend stalls: the proxy answers DEADLINE_EXCEEDED itself. */
    @Test
    void aDeadlineThatExpiresInTheProxy() {
        ManagedChannel shortChannel = NettyChannelBuilder.forAddress(
                        "127.0.0.1", proxy.uri().getPort())
                .overrideAuthority("short.test")
                .usePlaintext()
                .build();
        try {
            long start = System.nanoTime();
            assertThatThrownBy(() -> SimpleServiceGrpc.newBlockingStub(shortChannel)
                            .withDeadlineAfter(20, TimeUnit.SECONDS)
                            .unaryRpc(request("stall")))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
                        assertThat(e.getStatus().getDescription()).contains("Gateway Timeout");
                    });
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        } finally {
            shortChannel.shutdownNow();
        }
    }

    /**
     * The deadline passes after the response started: the proxy ends it with DEADLINE_EXCEEDED in trailers,
     * after the messages that came, rather than cutting the stream.
     */
    @Test
    void aDeadlineAfterTheFirstMessagesEndsTheCallWithTrailers() throws Exception {
        ManagedChannel shortChannel = NettyChannelBuilder.forAddress(
                        "127.0.0.1", proxy.uri().getPort())
                .overrideAuthority("short.test")
                .usePlaintext()
                .build();
        try {
            CompletableFuture<String> result = new CompletableFuture<>();
            List<String> got = new java.util.concurrent.CopyOnWriteArrayList<>();
            SimpleServiceGrpc.newStub(shortChannel)
                    .withDeadlineAfter(20, TimeUnit.SECONDS)
                    .serverStreamingRpc(request("1!stall"), observer(result, got));
            assertThatThrownBy(() -> result.get(10, TimeUnit.SECONDS))
                    .cause()
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
                        assertThat(e.getStatus().getDescription()).contains("TimeoutException");
                    });
            assertThat(got).containsExactly("0");
        } finally {
            shortChannel.shutdownNow();
        }
    }

    /**
     * A call's {@code grpc-timeout} is its exchange's timeout: a raw HTTP/2 client, with no deadline of its own,
     * gets a Trailers-Only DEADLINE_EXCEEDED from the proxy once the 300 ms it asked for passed.
     */
    @Test
    void grpcTimeoutIsTheExchangesTimeout() throws Exception {
        HTTP2Client client = new HTTP2Client();
        client.start();
        try {
            Session session = client.connect(
                            new InetSocketAddress("127.0.0.1", proxy.uri().getPort()), new Session.Listener() {})
                    .get(5, TimeUnit.SECONDS);
            HttpFields.Mutable fields = HttpFields.build()
                    .put("content-type", "application/grpc")
                    .put("te", "trailers")
                    .put("grpc-timeout", "300m");
            MetaData.Request head = new MetaData.Request(
                    "POST",
                    HttpURI.build("http://127.0.0.1:" + proxy.uri().getPort() + "/grpc.testing.SimpleService/UnaryRpc"),
                    HttpVersion.HTTP_2,
                    fields);
            CompletableFuture<MetaData.Response> response = new CompletableFuture<>();
            long start = System.nanoTime();
            Stream stream = session.newStream(new HeadersFrame(head, null, false), new Stream.Listener() {
                        @Override
                        public void onHeaders(Stream stream, HeadersFrame frame) {
                            if (frame.isEndStream()) {
                                response.complete((MetaData.Response) frame.getMetaData());
                            }
                        }
                    })
                    .get(5, TimeUnit.SECONDS);
            byte[] message = request("stall").toByteArray();
            ByteBuffer framed = ByteBuffer.allocate(5 + message.length)
                    .put((byte) 0)
                    .putInt(message.length)
                    .put(message);
            stream.data(new DataFrame(stream.getId(), framed.flip(), true)).get(5, TimeUnit.SECONDS);
            MetaData.Response trailersOnly = response.get(5, TimeUnit.SECONDS);
            assertThat(Duration.ofNanos(System.nanoTime() - start))
                    .isBetween(Duration.ofMillis(250), Duration.ofSeconds(4));
            assertThat(trailersOnly.getStatus()).isEqualTo(200);
            assertThat(trailersOnly.getHttpFields().get("content-type")).isEqualTo("application/grpc");
            assertThat(trailersOnly.getHttpFields().get("grpc-status")).isEqualTo("4");
        } finally {
            client.stop();
        }
    }

    private static StreamObserver<SimpleResponse> observer(CompletableFuture<String> result, List<String> got) {
        return new StreamObserver<>() {
            private final StringBuilder all = new StringBuilder();

            @Override
            public void onNext(SimpleResponse value) {
                got.add(value.getResponseMessage());
                all.append(value.getResponseMessage());
            }

            @Override
            public void onError(Throwable t) {
                result.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                result.complete(all.toString());
            }
        };
    }

    /** The backend: echoes, streams, fails or stalls as the request message says. */
    static final class Service extends SimpleServiceGrpc.SimpleServiceImplBase {
        @Override
        public void unaryRpc(SimpleRequest request, StreamObserver<SimpleResponse> responses) {
            String message = request.getRequestMessage();
            if (message.equals("stall")) {
                synchronized (STALLED) {
                    STALLED.add(responses);
                }
                return;
            }
            if (message.startsWith("error:")) {
                String[] parts = message.split(":", 3);
                responses.onError(Status.fromCodeValue(Integer.parseInt(parts[1]))
                        .withDescription(parts[2])
                        .asRuntimeException());
                return;
            }
            responses.onNext(response("hello " + message));
            responses.onCompleted();
        }

        @Override
        public void serverStreamingRpc(SimpleRequest request, StreamObserver<SimpleResponse> responses) {
            String message = request.getRequestMessage();
            if (message.endsWith("!stall")) {
                responses.onNext(response("0"));
                synchronized (STALLED) {
                    STALLED.add(responses);
                }
                return;
            }
            boolean fail = message.endsWith("!fail");
            int count = Integer.parseInt(fail ? message.substring(0, message.length() - 5) : message);
            for (int i = 0; i < count; i++) {
                responses.onNext(response(String.valueOf(i)));
            }
            if (fail) {
                responses.onError(Status.ABORTED
                        .withDescription("stopped after " + count + " é%")
                        .asRuntimeException());
            } else {
                responses.onCompleted();
            }
        }

        @Override
        public StreamObserver<SimpleRequest> clientStreamingRpc(StreamObserver<SimpleResponse> responses) {
            StringBuilder all = new StringBuilder();
            return new StreamObserver<>() {
                @Override
                public void onNext(SimpleRequest value) {
                    all.append(value.getRequestMessage());
                }

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {
                    responses.onNext(response(all.toString()));
                    responses.onCompleted();
                }
            };
        }

        @Override
        public StreamObserver<SimpleRequest> bidiStreamingRpc(StreamObserver<SimpleResponse> responses) {
            return new StreamObserver<>() {
                @Override
                public void onNext(SimpleRequest value) {
                    responses.onNext(response("pong " + value.getRequestMessage()));
                }

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {
                    responses.onCompleted();
                }
            };
        }

        private static SimpleResponse response(String message) {
            return SimpleResponse.newBuilder().setResponseMessage(message).build();
        }
    }
}
