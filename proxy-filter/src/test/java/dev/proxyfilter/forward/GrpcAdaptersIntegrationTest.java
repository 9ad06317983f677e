package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * gRPC through the servlet adapters, in a Jetty whose connector speaks h2c (as the README says: they get
 * HTTP/2 when their container is set up for it): trailers go out through {@code setTrailerFields}, and a
 * request body of unknown length is read as one.
 */
@Timeout(60)
class GrpcAdaptersIntegrationTest {
    private static Server backend;

    @BeforeAll
    static void start() throws Exception {
        backend = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new GrpcIntegrationTest.Service())
                .build()
                .start();
    }

    @AfterAll
    static void stop() throws Exception {
        backend.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private static SimpleRequest request(String message) {
        return SimpleRequest.newBuilder().setRequestMessage(message).build();
    }

    @ParameterizedTest
    @EnumSource(
            value = ProxyAdapter.class,
            names = {"PROXY_SERVLET_IN_JETTY", "FILTER_IN_JETTY", "FILTER_IN_TOMCAT", "VALVE_IN_TOMCAT"})
    void callsStatusesAndTrailers(ProxyAdapter adapter) throws Exception {
        try (ProxyAdapter.Running proxy = adapter.startWithH2c(TestConfigs.builder()
                .pool("grpc", StrategyName.ROUND_ROBIN, "b1", "http://127.0.0.1:" + backend.getPort(), 1)
                .protocol("grpc", new UpstreamProtocol(UpstreamProtocol.Kind.H2C, 1, 100))
                .route("grpc", "/grpc.testing.SimpleService", "grpc")
                .build())) {
            ManagedChannel channel = NettyChannelBuilder.forAddress(
                            "127.0.0.1", proxy.uri().getPort())
                    .usePlaintext()
                    .build();
            try {
                SimpleServiceGrpc.SimpleServiceBlockingStub blocking =
                        SimpleServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
                assertThat(blocking.unaryRpc(request("world")).getResponseMessage())
                        .isEqualTo("hello world");

                assertThatThrownBy(() -> blocking.unaryRpc(request("error:5:no such thing")))
                        .isInstanceOfSatisfying(
                                StatusRuntimeException.class,
                                e -> assertThat(e.getStatus().getCode())
                                        .as("%s", e.getStatus())
                                        .isEqualTo(Status.Code.NOT_FOUND));

                // Real trailers after messages.
                List<String> got = new ArrayList<>();
                assertThatThrownBy(() -> blocking.serverStreamingRpc(request("2!fail"))
                                .forEachRemaining(r -> got.add(r.getResponseMessage())))
                        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ABORTED);
                            assertThat(e.getStatus().getDescription()).isEqualTo("stopped after 2 é%");
                        });
                assertThat(got).containsExactly("0", "1");

                // Bidi ping-pong: the body of unknown length streams both ways.
                BlockingQueue<String> answers = new LinkedBlockingQueue<>();
                CompletableFuture<Void> done = new CompletableFuture<>();
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
                                done.complete(null);
                            }
                        });
                for (int i = 0; i < 3; i++) {
                    requests.onNext(request("ping" + i));
                    assertThat(answers.poll(5, TimeUnit.SECONDS)).isEqualTo("pong ping" + i);
                }
                requests.onCompleted();
                done.get(10, TimeUnit.SECONDS);
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }
}
