package dev.proxyfilter.standalone;

import java.net.URI;
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

/** A real backend on 127.0.0.1 and an ephemeral port that answers {@code backend NAME} and counts. */
final class NamedBackend implements AutoCloseable {
    private final String name;
    private final Server server;
    private final ServerConnector connector;
    private final AtomicInteger requests = new AtomicInteger();

    private NamedBackend(String name) {
        this.name = name;
        QueuedThreadPool threads = new QueuedThreadPool(16, 2);
        threads.setName("backend-" + name);
        server = new Server(threads);
        connector = new ServerConnector(server, 0, 1);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract.NonBlocking() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                requests.incrementAndGet();
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain;charset=utf-8");
                Content.Sink.write(response, true, "backend " + NamedBackend.this.name + "\n", callback);
                return true;
            }
        });
    }

    static NamedBackend start(String name) throws Exception {
        NamedBackend backend = new NamedBackend(name);
        backend.server.start();
        return backend;
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + connector.getLocalPort());
    }

    int requests() {
        return requests.get();
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }
}
