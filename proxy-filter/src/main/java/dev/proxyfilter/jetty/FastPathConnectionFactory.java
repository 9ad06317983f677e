package dev.proxyfilter.jetty;

import dev.proxyfilter.forward.ProxyEngine;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.AbstractConnectionFactory;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.util.component.Graceful;

/**
 * HTTP/1.1 for the standalone listener on Jetty's {@code io} layer ({@code server.fast-path}): its connections
 * ({@link FastPathConnection}) parse each request with Jetty's {@code HttpParser} and hand it to the engine as
 * a {@link dev.proxyfilter.forward.ClientExchange} of their own, without Jetty's {@code Request}, {@code Response},
 * {@code HttpChannel}, {@code HttpURI} or {@code MetaData.Request}; the response goes out through Jetty's
 * {@code HttpGenerator}.
 *
 * <p>It covers the plain proxied request: HTTP/1.1, no body, no {@code Upgrade} or {@code Expect}, an
 * origin-form target of plain characters within {@code server.max-uri-bytes}, a {@code Host}, a head that fits
 * the input buffer. Everything else, bad requests included, is handed with its bytes, as they came, to Jetty's own
 * {@code HttpConnection} of {@code fallback} ({@link EndPoint#upgrade}), which keeps the connection from then on:
 * HTTP/2 by prior knowledge or {@code Upgrade: h2c}, WebSocket, request bodies, {@code 100-continue}, HTTP/1.0,
 * and every 4xx Jetty's parser and compliance modes answer, answered exactly as before.
 *
 * <p>A graceful stop waits for the exchanges in flight here (Jetty's {@code GracefulHandler} does not see
 * them): this factory is a bean of its connector, and the server's stop finds it as {@link Graceful}.
 */
public final class FastPathConnectionFactory extends AbstractConnectionFactory implements Graceful {
    private final HttpConfiguration http;
    private final HttpConnectionFactory fallback;
    private final Supplier<ProxyEngine> engine;
    private final int maxUriBytes;
    private final AtomicLong inFlight = new AtomicLong();
    private final java.util.concurrent.atomic.LongAdder exchanges = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder fallBacks = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder directHeads = new java.util.concurrent.atomic.LongAdder();
    private final Graceful.Shutdown shutdown = new Graceful.Shutdown(this) {
        @Override
        public boolean isShutdownDone() {
            return inFlight.get() == 0;
        }
    };

    /**
     * @param http        the listener's HTTP configuration (limits, compliance, idle timeout)
     * @param fallback    Jetty's HTTP/1.1 factory on the same configuration, for what the fast path does not cover
     * @param maxUriBytes {@code server.max-uri-bytes}: a longer target goes to the fallback, which answers 414
     * @param engine      the running engine, or null before it started or after it stopped (then all falls back)
     */
    public FastPathConnectionFactory(
            HttpConfiguration http, HttpConnectionFactory fallback, int maxUriBytes, Supplier<ProxyEngine> engine) {
        super(HttpVersion.HTTP_1_1.asString());
        this.http = Objects.requireNonNull(http, "http");
        this.fallback = Objects.requireNonNull(fallback, "fallback");
        this.engine = Objects.requireNonNull(engine, "engine");
        this.maxUriBytes = maxUriBytes;
        setInputBufferSize(fallback.getInputBufferSize());
        addBean(fallback);
    }

    @Override
    public Connection newConnection(Connector connector, EndPoint endPoint) {
        return configure(new FastPathConnection(this, connector, endPoint), connector, endPoint);
    }

    HttpConfiguration http() {
        return http;
    }

    int maxUriBytes() {
        return maxUriBytes;
    }

    ProxyEngine engine() {
        return engine.get();
    }

    /** Jetty's connection for {@code endPoint}, configured as the connector's own would be. */
    Connection fallbackConnection(Connector connector, EndPoint endPoint) {
        return fallback.newConnection(connector, endPoint);
    }

    void exchangeStarted() {
        exchanges.increment();
        inFlight.incrementAndGet();
    }

    void fellBack() {
        fallBacks.increment();
    }

    void headReadDirectly() {
        directHeads.increment();
    }

    /** Request heads read without Jetty's parser so far ({@code FastPathConnection.Head#quick}). */
    public long headsReadDirectly() {
        return directHeads.sum();
    }

    /** Requests the fast path took so far. */
    public long exchanges() {
        return exchanges.sum();
    }

    /** Connections handed to Jetty's HTTP/1.1 connection so far. */
    public long fallBacks() {
        return fallBacks.sum();
    }

    void exchangeEnded() {
        if (inFlight.decrementAndGet() == 0) {
            shutdown.check();
        }
    }

    /** Exchanges of this factory's connections in flight now. */
    public long inFlight() {
        return inFlight.get();
    }

    @Override
    public CompletableFuture<Void> shutdown() {
        return shutdown.shutdown();
    }

    @Override
    public boolean isShutdown() {
        return shutdown.isShutdown();
    }

    /**
     * Registers the counters with the running engine's metrics ({@code proxyfilter_fast_path_requests_total},
     * {@code proxyfilter_fast_path_fall_backs_total}); the engine starts before its listener.
     */
    @Override
    protected void doStart() throws Exception {
        ProxyEngine running = engine.get();
        if (running != null) {
            running.metrics().gauge("proxy.fast_path.requests", this::exchanges);
            running.metrics().gauge("proxy.fast_path.fall_backs", this::fallBacks);
        }
        super.doStart();
    }

    @Override
    protected void doStop() throws Exception {
        shutdown.cancel();
        super.doStop();
    }
}
