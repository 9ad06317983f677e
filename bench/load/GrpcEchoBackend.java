import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.grpc.testing.protobuf.SimpleRequest;
import io.grpc.testing.protobuf.SimpleResponse;
import io.grpc.testing.protobuf.SimpleServiceGrpc;
import java.net.InetSocketAddress;

/**
 * The gRPC origin of bench/load/grpc.sh: grpc-java's Netty server on 127.0.0.1:PORT (h2c), answering
 * grpc.testing.SimpleService/UnaryRpc with the request's message. Runs until killed.
 *
 * <pre>java -cp CLASSPATH GrpcEchoBackend.java PORT</pre>
 */
public final class GrpcEchoBackend {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
                .addService(new SimpleServiceGrpc.SimpleServiceImplBase() {
                    @Override
                    public void unaryRpc(SimpleRequest request, StreamObserver<SimpleResponse> responses) {
                        responses.onNext(SimpleResponse.newBuilder()
                                .setResponseMessage(request.getRequestMessage())
                                .build());
                        responses.onCompleted();
                    }
                })
                .build()
                .start();
        System.out.println("grpc backend on 127.0.0.1:" + server.getPort());
        server.awaitTermination();
    }
}
