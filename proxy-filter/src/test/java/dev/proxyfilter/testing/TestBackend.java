package dev.proxyfilter.testing;

import jakarta.servlet.http.HttpServlet;
import java.io.IOException;
import java.net.URI;
import java.nio.channels.SelectableChannel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.SelectorManager;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.Scheduler;

/** A real backend: one servlet in a Jetty server on 127.0.0.1, port 0. */
public final class TestBackend implements AutoCloseable {
    private final String name;
    private final Server server;
    private final ServerConnector connector;
    private final int port;
    /** The connections accepted and not closed yet, so that {@link #close} can close what Jetty's stop leaves open. */
    private final Set<SelectableChannel> accepted = ConcurrentHashMap.newKeySet();

    private TestBackend(String name, HttpServlet servlet, int port) throws Exception {
        this.name = name;
        QueuedThreadPool threads = new QueuedThreadPool(64, 4);
        threads.setName("backend-" + name);
        server = new Server(threads);
        connector = new ServerConnector(server, 1, 1) {
            @Override
            protected SelectorManager newSelectorManager(Executor executor, Scheduler scheduler, int selectors) {
                return new ServerConnectorManager(executor, scheduler, selectors) {
                    @Override
                    public void accept(SelectableChannel channel, Object attachment) {
                        accepted.add(channel);
                        super.accept(channel, attachment);
                    }

                    @Override
                    protected void endPointClosed(EndPoint endPoint) {
                        accepted.remove(endPoint.getTransport());
                        super.endPointClosed(endPoint);
                    }
                };
            }
        };
        connector.setHost("127.0.0.1");
        connector.setPort(port);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/");
        ServletHolder holder = new ServletHolder(servlet);
        holder.setAsyncSupported(true);
        context.addServlet(holder, "/*");
        server.setHandler(context);
        try {
            server.start();
        } catch (Exception e) {
            server.stop();
            throw e;
        }
        this.port = connector.getLocalPort(); // still known once stopped, to start again on it
    }

    /** Starts a backend named {@code name} that serves every path with {@code servlet}. */
    public static TestBackend start(String name, HttpServlet servlet) {
        try {
            return new TestBackend(name, servlet, 0);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Starts a backend on a given port, such as the one of a backend just stopped, as a restarted server
     * would; retries for up to two seconds while the port is still taken.
     */
    public static TestBackend startOn(int port, String name, HttpServlet servlet) {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(2);
        while (true) {
            try {
                return new TestBackend(name, servlet, port);
            } catch (java.io.IOException e) {
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("port " + port + " still taken", e);
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(interrupted);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    public String name() {
        return name;
    }

    public int port() {
        return port;
    }

    public URI url() {
        return URI.create("http://127.0.0.1:" + port());
    }

    /**
     * Stops it as a killed process would: its port refuses connections at once, and every connection it
     * accepted is closed before Jetty's stop can write on it.
     *
     * <p>Jetty 12.1's stop alone differs from a dead process in two ways, both seen under load here:
     * {@code HttpConnection.close()} runs the channel's failure handling before it closes the socket, so a
     * request whose head was still being parsed is answered "500 EofException" (URI {@code /badRequest});
     * and {@code AbstractConnector.doStop} does not wait for its acceptor threads, so a connection accepted
     * while the selectors stop goes to a stopped selector and is never read or closed, leaving its client
     * to its own timeout.
     */
    @Override
    public void close() {
        try {
            connector.close();
            closeAccepted();
            server.stop();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        } finally {
            closeAccepted();
        }
    }

    private void closeAccepted() {
        for (SelectableChannel channel : accepted) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing is all that is wanted; a channel that cannot close has no peer left to tell
            }
        }
        accepted.clear();
    }
}
