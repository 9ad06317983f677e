package dev.proxyfilter.sample;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * A real backend for the proxied paths: a Jetty core server on 127.0.0.1, port 0. It answers with its
 * name, or with the request body when there is one, and reports what it received in
 * {@code X-Backend}, {@code X-Received-Method}, {@code X-Received-Path} and {@code X-Received-Query}.
 * A path ending in {@code /broken} gets the start of a chunked body, then the connection is aborted; one
 * ending in {@code /slow} is answered after {@link #SLOW_MILLIS}.
 */
final class EchoBackend implements AutoCloseable {
    /** What a {@code /broken} path gets before the failure. */
    static final String PARTIAL_BODY = "the first part of the body";
    /** How long a {@code /slow} path waits for its answer. */
    static final long SLOW_MILLIS = 1500;

    private final String name;
    private final Server server;
    private final ServerConnector connector;
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger slowRequests = new AtomicInteger();

    EchoBackend(String name) throws Exception {
        this.name = name;
        QueuedThreadPool threads = new QueuedThreadPool(16, 2);
        threads.setName("backend-" + name);
        server = new Server(threads);
        connector = new ServerConnector(server, 1, 1);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                requests.incrementAndGet();
                // Blocking read: Handler.Abstract runs on a pool thread, and bodies here are small.
                ByteBuffer body = Content.Source.asByteBuffer(request);
                response.getHeaders().put("X-Backend", name);
                response.getHeaders().put("X-Received-Method", request.getMethod());
                response.getHeaders()
                        .put("X-Received-Path", request.getHttpURI().getPath());
                response.getHeaders()
                        .put(
                                "X-Received-Query",
                                String.valueOf(request.getHttpURI().getQuery()));
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain;charset=utf-8");
                if (request.getHttpURI().getPath().endsWith("/broken")) {
                    // Commits a chunked 200, then fails: Jetty aborts the connection without the last chunk.
                    response.write(
                            false,
                            ByteBuffer.wrap(PARTIAL_BODY.getBytes(StandardCharsets.UTF_8)),
                            Callback.from(
                                    () -> callback.failed(new IOException("backend " + name + " fails mid-body")),
                                    callback::failed));
                    return true;
                }
                if (request.getHttpURI().getPath().endsWith("/slow")) {
                    slowRequests.incrementAndGet();
                    Thread.sleep(SLOW_MILLIS); // a slow backend: the request stays in flight meanwhile
                }
                ByteBuffer answer = body.hasRemaining() ? body : ByteBuffer.wrap(name.getBytes(StandardCharsets.UTF_8));
                response.write(true, answer, callback);
                return true;
            }
        });
        server.start();
    }

    String name() {
        return name;
    }

    URI url() {
        return URI.create("http://127.0.0.1:" + connector.getLocalPort());
    }

    /** Connections open to this backend now (the proxy's pooled upstream connections). */
    int openConnections() {
        return connector.getConnectedEndPoints().size();
    }

    /** {@code /slow} requests received so far. */
    int slowRequests() {
        return slowRequests.get();
    }

    /** Requests received so far. */
    int requests() {
        return requests.get();
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }
}
