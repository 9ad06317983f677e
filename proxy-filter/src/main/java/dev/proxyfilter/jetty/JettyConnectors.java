package dev.proxyfilter.jetty;

import dev.proxyfilter.config.ServerConfig;
import dev.proxyfilter.forward.ProxyEngine;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpCompliance;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.http2.server.AbstractHTTP2ServerConnectionFactory;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that makes a Jetty listener strict, used by the standalone proxy and by tests that run
 * the filter or the proxy servlet in Jetty.
 *
 * <h2>Compliance modes</h2>
 * <ul>
 *   <li>{@link #HTTP_COMPLIANCE}: {@link HttpCompliance#RFC9110} without {@code LF_HEADER_TERMINATION}, so
 *       nothing is allowed that RFC 9110/9112 forbid: {@code Content-Length} with {@code Transfer-Encoding},
 *       several {@code Content-Length}s, whitespace before the colon, obs-fold, a header without colon,
 *       duplicate {@code Host}, an authority that differs from {@code Host}, bare LF in chunks and in the head.
 *       Jetty answers 400 itself (501 for an unknown transfer coding). RFC 9112 lets a server accept a bare
 *       LF; since a proxy is exactly where two parsers may disagree about one, we do not.</li>
 *   <li>{@link #URI_COMPLIANCE}: {@link UriCompliance#RFC3986}, which allows no violation at all: encoded
 *       slashes and dots, empty segments ({@code //}), {@code ..;} parameters, encoded {@code %}, bad UTF-8
 *       and characters a path may not hold are 400. What is left ({@code /a/../b}) is normalised by
 *       {@link dev.proxyfilter.route.PathNormalizer} before routing.</li>
 * </ul>
 *
 * <h2>Limits</h2>
 * {@code server.max-header-bytes} is Jetty's request header size (431, or 414 when the request line alone
 * passes it); {@code server.max-uri-bytes} is checked by {@link #handler} (414); {@code server.idle-timeout}
 * is the connector's idle timeout. Jetty has no deadline for a request head, and an idle timeout does not
 * stop a client that sends one byte every few seconds (slowloris), so {@code server.header-timeout} is
 * enforced here: a connection's first request head must be complete within it, else the connection is
 * closed; on a kept-alive connection, a request head that started arriving must be complete within twice
 * it. A scheduler task per connection does this; no thread waits. HTTP/2 streams are not covered by it.
 */
public final class JettyConnectors {
    private static final Logger LOG = LoggerFactory.getLogger(JettyConnectors.class);

    /** RFC 9110 as Jetty reads it, bare LF refused too. */
    public static final HttpCompliance HTTP_COMPLIANCE =
            HttpCompliance.RFC9110.without("RFC9110_NO_BARE_LF", HttpCompliance.Violation.LF_HEADER_TERMINATION);
    /** RFC 3986 with no ambiguous path allowed. */
    public static final UriCompliance URI_COMPLIANCE = UriCompliance.RFC3986;

    private JettyConnectors() {}

    /** An HTTP configuration with the compliance modes, the header size limit and no server identity. */
    public static HttpConfiguration httpConfiguration(ServerConfig server) {
        HttpConfiguration http = new HttpConfiguration();
        http.setHttpCompliance(HTTP_COMPLIANCE);
        http.setUriCompliance(URI_COMPLIANCE);
        http.setRequestHeaderSize(server.maxHeaderBytes());
        // No per-connection header field cache: Jetty's default (1024) pre-allocates about 50 KB of trie per
        // connection, which at 2,000 busy connections filled the standalone proxy's 256 MiB heap (an
        // OutOfMemoryError); without it the heap held 35 MB there, at the same CPU per request.
        http.setHeaderCacheSize(0);
        http.setIdleTimeout(server.idleTimeout().toMillis());
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        return http;
    }

    /**
     * What the standalone listener (the core {@link ProxyHandler}) speaks in plain text: HTTP/1.1, and with
     * {@code server.h2c} HTTP/2 in clear text next to it, by prior knowledge (a connection that starts with the
     * HTTP/2 preface) or by {@code Upgrade: h2c}, with RFC 8441's extended {@code CONNECT} ({@link #http2}).
     * Both take {@code http}'s limits: the header size (HPACK's header list size for HTTP/2), the URI
     * compliance (Jetty checks every request's URI against it, whatever the protocol), the idle timeout (a
     * stream's too); HTTP/1.1's message compliance modes have no HTTP/2 counterpart, whose framing is binary.
     */
    public static ConnectionFactory[] plainFactories(ServerConfig server, HttpConfiguration http) {
        return plainFactories(server, http, true);
    }

    /**
     * {@link #plainFactories(ServerConfig, HttpConfiguration)}, for a listener whose handler may not tunnel an
     * HTTP/2 stream ({@code extendedConnect} false): a servlet container's, whose adapters cannot.
     */
    public static ConnectionFactory[] plainFactories(
            ServerConfig server, HttpConfiguration http, boolean extendedConnect) {
        return plainFactories(server, http, extendedConnect, null);
    }

    /**
     * {@link #plainFactories(ServerConfig, HttpConfiguration)} for the core {@link ProxyHandler} running
     * {@code engine}: with {@code server.fast-path}, HTTP/1.1 is the {@link FastPathConnectionFactory}, which
     * falls back to Jetty's own for what it does not cover.
     */
    public static ConnectionFactory[] plainFactories(
            ServerConfig server, HttpConfiguration http, java.util.function.Supplier<ProxyEngine> engine) {
        return plainFactories(server, http, true, engine);
    }

    private static ConnectionFactory[] plainFactories(
            ServerConfig server,
            HttpConfiguration http,
            boolean extendedConnect,
            java.util.function.Supplier<ProxyEngine> engine) {
        HttpConnectionFactory jetty = new HttpConnectionFactory(http);
        ConnectionFactory http1 = server.fastPath() && engine != null
                ? new FastPathConnectionFactory(http, jetty, server.maxUriBytes(), engine)
                : jetty;
        if (!server.h2c()) {
            return new ConnectionFactory[] {http1};
        }
        HTTP2CServerConnectionFactory h2c = http2(new HTTP2CServerConnectionFactory(http));
        h2c.setConnectProtocolEnabled(extendedConnect);
        return new ConnectionFactory[] {http1, h2c};
    }

    /**
     * An HTTP/2 factory as the standalone listener runs it: extended {@code CONNECT} advertised ({@code
     * SETTINGS_ENABLE_CONNECT_PROTOCOL}, RFC 8441), so that a WebSocket client on an HTTP/2 connection opens
     * its WebSocket as a stream of that connection, which the core handler tunnels to the backend's HTTP/1.1
     * upgrade ({@code forward.ExtendedConnect}). (Jetty's default too, said here since it is a promise.) The
     * servlet adapters cannot hand a stream over: a listener in front of them must not advertise it.
     */
    public static <F extends AbstractHTTP2ServerConnectionFactory> F http2(F factory) {
        factory.setConnectProtocolEnabled(true);
        return factory;
    }

    /** Applies {@code server.idle-timeout} and {@code server.header-timeout} to a connector. */
    public static void limit(ServerConnector connector, ServerConfig server) {
        connector.setIdleTimeout(server.idleTimeout().toMillis());
        HeaderDeadlines deadlines = new HeaderDeadlines(server.headerTimeout().toMillis());
        connector.addEventListener(deadlines); // each new connection gets the connector's listeners
        if (connector.getBean(HeaderDeadlines.class) == null) {
            connector.addBean(deadlines);
        }
    }

    /**
     * Wraps the server's handler: 414 for a request target longer than {@code server.max-uri-bytes}, and
     * tells the header deadline of the connection that its request head is complete.
     */
    public static Handler handler(Handler next, ServerConfig server) {
        return new StrictHandler(next, server.maxUriBytes());
    }

    private static final class StrictHandler extends Handler.Wrapper {
        private final int maxUriBytes;

        StrictHandler(Handler next, int maxUriBytes) {
            super(next);
            this.maxUriBytes = maxUriBytes;
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) throws Exception {
            HeaderDeadlines deadlines =
                    request.getConnectionMetaData().getConnector().getBean(HeaderDeadlines.class);
            Callback done = deadlines == null
                    ? callback
                    : deadlines.headComplete(request.getConnectionMetaData().getConnection(), callback);
            String target = request.getHttpURI().getPathQuery();
            if (target != null && target.length() > maxUriBytes) {
                Response.writeError(
                        request,
                        response,
                        done,
                        HttpStatus.URI_TOO_LONG_414,
                        "the request target exceeds " + maxUriBytes + " bytes");
                return true;
            }
            return super.handle(request, response, done);
        }
    }

    /**
     * Per HTTP/1 connection: a scheduled check that the request head arrives in time. Armed when the
     * connection opens and again when a response completes; disarmed when the head is complete.
     */
    static final class HeaderDeadlines implements Connection.Listener {
        private final long timeoutMillis;
        private final Map<Connection, Deadline> deadlines = new ConcurrentHashMap<>();

        HeaderDeadlines(long timeoutMillis) {
            this.timeoutMillis = timeoutMillis;
        }

        @Override
        public void onOpened(Connection connection) {
            if (connection instanceof HttpConnection || connection instanceof FastPathConnection) {
                Deadline deadline = new Deadline(connection);
                deadlines.put(connection, deadline);
                deadline.arm(true);
            }
        }

        @Override
        public void onClosed(Connection connection) {
            Deadline deadline = deadlines.remove(connection);
            if (deadline != null) {
                deadline.close();
            }
        }

        /** The fast path's head arrived: nothing to check until its response is out. */
        void headComplete(Connection connection) {
            Deadline deadline = deadlines.get(connection);
            if (deadline != null) {
                deadline.disarm();
            }
        }

        /** The fast path's response is out: the next head has the header timeout again. */
        void responseComplete(Connection connection) {
            Deadline deadline = deadlines.get(connection);
            if (deadline != null) {
                deadline.arm(false);
            }
        }

        Callback headComplete(Connection connection, Callback callback) {
            Deadline deadline = deadlines.get(connection);
            if (deadline == null) {
                return callback;
            }
            deadline.disarm();
            return new Callback.Nested(callback) {
                @Override
                public void succeeded() {
                    deadline.arm(false);
                    super.succeeded();
                }

                @Override
                public void failed(Throwable x) {
                    deadline.arm(false);
                    super.failed(x);
                }
            };
        }

        /**
         * One scheduler task per connection at most, re-armed lazily: arming and disarming for each request
         * only set fields, and the task, when it runs, looks at them and schedules itself again for what is
         * left. A scheduler insert and cancel per request (a lock and a heap operation each) is what this
         * saves on a busy kept-alive connection.
         */
        private final class Deadline {
            private final Connection connection;
            private final Scheduler scheduler;
            /** The pending check, or null when none is scheduled. */
            private Scheduler.Task task;

            private boolean armed;
            private boolean first;
            private long bytesInAtArm;
            private long deadlineNanos;

            Deadline(Connection connection) {
                this.connection = connection;
                this.scheduler = connection.getEndPoint() == null ? null : connectorScheduler(connection);
            }

            synchronized void arm(boolean firstRequest) {
                if (scheduler == null) {
                    return;
                }
                armed = true;
                first = firstRequest;
                bytesInAtArm = connection.getBytesIn();
                deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
                if (task == null) {
                    task = scheduler.schedule(this::expired, timeoutMillis, TimeUnit.MILLISECONDS);
                }
            }

            synchronized void disarm() {
                armed = false; // a pending check finds nothing to do and lapses
            }

            synchronized void close() {
                armed = false;
                if (task != null) {
                    task.cancel();
                    task = null;
                }
            }

            private void expired() {
                synchronized (this) {
                    task = null;
                    if (!armed) {
                        return; // disarmed meanwhile
                    }
                    long left = deadlineNanos - System.nanoTime();
                    if (left > 0) {
                        // Re-armed since this check was scheduled: look again when its own deadline comes.
                        task = scheduler.schedule(this::expired, left, TimeUnit.NANOSECONDS);
                        return;
                    }
                    long bytesIn = connection.getBytesIn();
                    if (!first && bytesIn == bytesInAtArm) {
                        // Kept alive and silent: the idle timeout's business. Look again later.
                        deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
                        task = scheduler.schedule(this::expired, timeoutMillis, TimeUnit.MILLISECONDS);
                        return;
                    }
                    if (!first) {
                        // A head started arriving after the last response; it gets one more period.
                        first = true;
                        bytesInAtArm = bytesIn;
                        deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
                        task = scheduler.schedule(this::expired, timeoutMillis, TimeUnit.MILLISECONDS);
                        return;
                    }
                }
                LOG.debug("closing {}: no complete request head within {} ms", connection, timeoutMillis);
                connection.getEndPoint().close();
            }
        }

        private static Scheduler connectorScheduler(Connection connection) {
            if (connection instanceof HttpConnection http) {
                return http.getConnector().getScheduler();
            }
            if (connection instanceof FastPathConnection fast) {
                return fast.connector().getScheduler();
            }
            return null;
        }
    }
}
