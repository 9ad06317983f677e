package dev.proxyfilter.upstream;

import java.io.EOFException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.http.Trailers;
import org.eclipse.jetty.http2.ErrorCode;
import org.eclipse.jetty.http2.RetryableStreamException;
import org.eclipse.jetty.http2.api.Stream;
import org.eclipse.jetty.http2.frames.DataFrame;
import org.eclipse.jetty.http2.frames.HeadersFrame;
import org.eclipse.jetty.http2.frames.ResetFrame;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@link UpstreamExchange} on one HTTP/2 stream: the request head as a {@code HEADERS} frame, the request
 * body streamed as {@code DATA} frames one at a time (each waits for the previous one to be written, which
 * waits for the backend's flow-control window), request trailers as a closing {@code HEADERS} frame; the
 * response body read by demand, each {@code DATA} frame's bytes handed to the reader without a copy and
 * released (which reopens the window) once the reader is done with them, and response trailers as a last
 * {@link Trailers} chunk.
 */
final class Http2Stream implements ExchangeCarrier, Stream.Listener {
    private static final Logger LOG = LoggerFactory.getLogger(Http2Stream.class);
    /** The {@code Stream.Data} that Jetty offers at the end of a stream ended by a {@code HEADERS} frame. */
    private static final Class<?> SYNTHETIC_EOF = Stream.Data.eof(0).getClass();

    private final Http2Upstream.Destination destination;
    private final Http2Upstream.Connection connection;
    private final UpstreamExchange exchange;
    /** Set once: the stream's room goes back to the destination. */
    private final AtomicBoolean released = new AtomicBoolean();

    private volatile Stream stream;
    private volatile boolean responseBegun;
    /** The exchange is this stream's until it ended: then reads and demands go to the exchange's outcome. */
    private volatile boolean attached;
    /** The response trailers, once their {@code HEADERS} frame arrived. */
    private volatile HttpFields trailers;
    /** The reader's demand, waiting for data (or for the trailers whose end it saw first). */
    private final java.util.concurrent.atomic.AtomicReference<Runnable> demandCallback =
            new java.util.concurrent.atomic.AtomicReference<>();

    private volatile boolean awaitingTrailers;

    Http2Stream(Http2Upstream.Destination destination, Http2Upstream.Connection connection, UpstreamExchange exchange) {
        this.destination = destination;
        this.connection = connection;
        this.exchange = exchange;
    }

    /** Opens the stream with the request head; the body follows once it is open. */
    void start() {
        if (!exchange.attach(this)) {
            release(); // aborted while it waited
            return;
        }
        attached = true;
        boolean hasBody = exchange.body != null && exchange.bodyLength != 0;
        MetaData.Request request = request(hasBody);
        connection.session.newStream(
                new HeadersFrame(request, null, !hasBody),
                new Promise<>() {
                    @Override
                    public void succeeded(Stream opened) {
                        stream = opened;
                        long idle = exchange.idleTimeoutMillis > 0
                                ? exchange.idleTimeoutMillis
                                : destination.streamIdleTimeout();
                        if (idle > 0) {
                            opened.setIdleTimeout(idle);
                        }
                        if (!attached) {
                            opened.reset(
                                    new ResetFrame(opened.getId(), ErrorCode.CANCEL_STREAM_ERROR.code), Callback.NOOP);
                            return;
                        }
                        if (hasBody) {
                            new BodyPump().run();
                        }
                    }

                    @Override
                    public void failed(Throwable failure) {
                        // The session would not take the stream (it is closing): nothing reached the backend.
                        refused(new StreamRefusedException(
                                "HTTP/2 session to " + destination + " took no new stream", failure));
                    }
                },
                this);
    }

    private MetaData.Request request(boolean hasBody) {
        HttpFields.Mutable fields = HttpFields.build(exchange.requestHeaders().size() + 2);
        String authority = null;
        for (HttpField field : exchange.requestHeaders()) {
            HttpHeader header = field.getHeader();
            if (header == HttpHeader.HOST) {
                authority = field.getValue();
                continue;
            }
            if (header == HttpHeader.CONNECTION
                    || header == HttpHeader.KEEP_ALIVE
                    || header == HttpHeader.PROXY_CONNECTION
                    || header == HttpHeader.TRANSFER_ENCODING
                    || header == HttpHeader.UPGRADE) {
                continue; // connection-specific: not in HTTP/2 (RFC 9113 §8.2.2)
            }
            if (header == HttpHeader.TE) {
                continue; // added below
            }
            fields.add(field);
        }
        // The proxy takes trailers on HTTP/2 and passes them on: gRPC servers expect to be told so.
        fields.add(HttpHeader.TE, "trailers");
        if (authority == null) {
            authority = destination.authority;
        }
        HttpURI uri =
                HttpURI.build().scheme(destination.scheme).authority(authority).pathQuery(exchange.target);
        long length = hasBody ? exchange.bodyLength : 0;
        return new MetaData.Request(exchange.method, uri, HttpVersion.HTTP_2, fields, length);
    }

    /** Reads the request body by demand and writes it as DATA frames, one at a time; then trailers if any. */
    private final class BodyPump implements Runnable {
        @Override
        public void run() {
            while (attached) {
                Content.Chunk chunk = exchange.body.read();
                if (chunk == null) {
                    exchange.body.demand(this);
                    return;
                }
                if (Content.Chunk.isFailure(chunk)) {
                    failExchange(exchange, chunk.getFailure());
                    return;
                }
                if (chunk instanceof Trailers requestTrailers) {
                    chunk.release();
                    HttpFields fields = requestTrailers.getTrailers();
                    stream.headers(
                            new HeadersFrame(stream.getId(), new MetaData(HttpVersion.HTTP_2, fields), null, true),
                            Callback.from(() -> {}, failure -> failExchange(exchange, failure)));
                    return;
                }
                boolean last = chunk.isLast();
                if (!chunk.hasRemaining() && !last) {
                    chunk.release();
                    continue;
                }
                stream.data(
                        new DataFrame(stream.getId(), chunk.getByteBuffer(), last),
                        Callback.from(
                                () -> {
                                    chunk.release();
                                    if (!last) {
                                        run();
                                    }
                                },
                                failure -> {
                                    chunk.release();
                                    failExchange(exchange, failure);
                                }));
                return;
            }
        }
    }

    // ---- Stream.Listener: the backend's side ----

    @Override
    public void onHeaders(Stream stream, HeadersFrame frame) {
        this.stream = stream; // before newStream's promise, which completes once the request head was written
        MetaData metaData = frame.getMetaData();
        if (!metaData.isResponse()) {
            trailers = metaData.getHttpFields();
            if (awaitingTrailers) {
                runDemand();
            }
            return;
        }
        MetaData.Response response = (MetaData.Response) metaData;
        if (HttpStatus.isInterim(response.getStatus())) {
            return; // 100 Continue, 103 Early Hints
        }
        responseBegun = true;
        exchange.status = response.getStatus();
        exchange.responseHeaders = HttpFields.build(response.getHttpFields());
        if (exchange.enterCallback()) {
            try {
                exchange.listener.onHeaders(exchange);
            } catch (Throwable x) {
                LOG.warn("onHeaders of {} failed", exchange, x);
            } finally {
                exchange.exitCallback();
            }
        }
        if (frame.isEndStream() || exchange.head) {
            ended();
            return;
        }
        if (exchange.enterCallback()) {
            try {
                exchange.listener.onContentSource(exchange, exchange);
            } catch (Throwable x) {
                LOG.warn("onContentSource of {} failed", exchange, x);
            } finally {
                exchange.exitCallback();
            }
        }
    }

    @Override
    public void onDataAvailable(Stream stream) {
        this.stream = stream;
        runDemand();
    }

    @Override
    public void onReset(Stream stream, ResetFrame frame, Callback callback) {
        if (frame.getError() == ErrorCode.REFUSED_STREAM_ERROR.code && !responseBegun) {
            refused(new StreamRefusedException("stream refused by the backend", null));
        } else {
            failExchange(
                    exchange,
                    new EOFException(
                            "stream reset by the backend: " + ErrorCode.toString(frame.getError(), "unknown")));
        }
        callback.succeeded();
    }

    @Override
    public void onIdleTimeout(Stream stream, TimeoutException timeout, Promise<Boolean> promise) {
        promise.succeeded(true);
        failExchange(exchange, timeout);
    }

    @Override
    public void onFailure(Stream stream, int error, String reason, Throwable failure, Callback callback) {
        if (failure instanceof RetryableStreamException && !responseBegun) {
            refused(new StreamRefusedException("stream not processed before the backend's GOAWAY", failure));
        } else {
            failExchange(exchange, failure != null ? failure : new EOFException(ErrorCode.toString(error, reason)));
        }
        callback.succeeded();
    }

    @Override
    public void onClosed(Stream stream) {
        if (!attached) {
            release();
        }
    }

    // ---- ExchangeCarrier: the response body for the exchange ----

    @Override
    public Content.Chunk read(UpstreamExchange reader) {
        Stream current = stream;
        if (!attached || current == null) {
            return null;
        }
        while (true) {
            HttpFields ended = trailers;
            if (awaitingTrailers) {
                if (ended == null) {
                    return null;
                }
                ended();
                return new Trailers(ended);
            }
            Stream.Data data = current.readData();
            if (data == null) {
                return null;
            }
            DataFrame frame = data.frame();
            if (frame.isEndStream()) {
                if (data.getClass() == SYNTHETIC_EOF && !frame.getByteBuffer().hasRemaining()) {
                    // The stream ended with a HEADERS frame: trailers, which Jetty offers the end of before it
                    // hands the frame to this listener. They may not be here yet.
                    data.release();
                    awaitingTrailers = true;
                    continue;
                }
                Content.Chunk last = frame.getByteBuffer().hasRemaining()
                        ? Content.Chunk.asChunk(frame.getByteBuffer(), true, data)
                        : Content.Chunk.EOF;
                if (last == Content.Chunk.EOF) {
                    data.release();
                }
                ended();
                return last;
            }
            if (!frame.getByteBuffer().hasRemaining()) {
                data.release();
                continue;
            }
            return Content.Chunk.asChunk(frame.getByteBuffer(), false, data);
        }
    }

    @Override
    public void demand(UpstreamExchange reader, Runnable callback) {
        Stream current = stream;
        if (!attached || current == null) {
            reader.demandDetached(callback);
            return;
        }
        demandCallback.set(callback);
        if (awaitingTrailers) {
            if (trailers != null) {
                runDemand();
            }
            return;
        }
        current.demand();
    }

    @Override
    public void failExchange(UpstreamExchange failed, Throwable cause) {
        if (failed != exchange || !detach()) {
            if (failed.abortCause() != null) {
                failed.failed(cause);
            }
            return;
        }
        Stream current = stream;
        if (current != null && !current.isClosed()) {
            current.reset(new ResetFrame(current.getId(), ErrorCode.CANCEL_STREAM_ERROR.code), Callback.NOOP);
        }
        release();
        failed.failed(cause);
        runDemand();
    }

    /** The response ended well: the exchange succeeds and the stream's room goes back. */
    private void ended() {
        if (detach()) {
            Stream current = stream;
            if (current != null && !current.isClosed() && !current.isReset()) {
                // The backend answered before the request body ended: it wants no more of it (RFC 9113 §8.1).
                current.reset(new ResetFrame(current.getId(), ErrorCode.CANCEL_STREAM_ERROR.code), Callback.NOOP);
            }
            release();
            exchange.succeed();
        }
    }

    /** The backend never processed the stream: sent again on another stream, if that is still safe. */
    private void refused(Throwable cause) {
        if (!detach()) {
            return;
        }
        release();
        boolean again = exchange.resends < Http2Upstream.MAX_RESENDS
                && exchange.abortCause() == null
                && (exchange.body == null || exchange.body.rewind());
        if (again) {
            exchange.resends++;
            LOG.debug("resending {}: {} ({})", exchange, cause.toString(), String.valueOf(cause.getCause()));
            destination.send(exchange);
        } else {
            exchange.failed(cause);
            runDemand();
        }
    }

    private synchronized boolean detach() {
        if (!attached) {
            return false;
        }
        attached = false;
        exchange.detach();
        return true;
    }

    private void release() {
        if (released.compareAndSet(false, true)) {
            destination.released(connection);
        }
    }

    private void runDemand() {
        Runnable callback = demandCallback.getAndSet(null);
        if (callback != null) {
            callback.run();
        }
    }

    @Override
    public String toString() {
        Stream current = stream;
        return "Http2Stream[" + exchange + (current == null ? "" : " #" + current.getId()) + "]";
    }
}
