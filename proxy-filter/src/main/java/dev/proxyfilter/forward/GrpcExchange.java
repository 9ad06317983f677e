package dev.proxyfilter.forward;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;

/**
 * A gRPC call's exchange: what the proxy answers itself is a gRPC status, not an error page. An error before
 * the response started becomes a Trailers-Only response (HTTP 200, {@code content-type: application/grpc},
 * {@code grpc-status} and {@code grpc-message} in the one {@code HEADERS} frame, see {@link Grpc#status}); a
 * failure after it started ends the response with those as trailers, where the adapter can send trailers,
 * instead of cutting the stream. Everything else goes straight to the adapter's exchange ({@link DelegatingExchange}).
 */
final class GrpcExchange extends DelegatingExchange {
    private static final HttpField CONTENT_TYPE = new HttpField(HttpHeader.CONTENT_TYPE, "application/grpc");

    /** A write is under way (the engine's one at a time). */
    private volatile boolean writing;

    private volatile boolean lastWritten;

    private GrpcExchange(ClientExchange delegate) {
        super(delegate);
    }

    /** {@code exchange} itself unless it is a gRPC call; call once its request headers are known (after begin). */
    static ClientExchange wrap(ClientExchange exchange) {
        return Grpc.isCall(exchange) ? new GrpcExchange(exchange) : exchange;
    }

    @Override
    public void sendError(int status, String message, HttpFields headers) {
        HttpFields.Mutable fields = HttpFields.build(headers.size() + 4);
        for (HttpField field : headers) {
            HttpHeader header = field.getHeader();
            if (header != HttpHeader.CONTENT_TYPE && header != HttpHeader.CONTENT_LENGTH) {
                fields.add(field);
            }
        }
        if (delegate.isCommitted() || writing) {
            endWithStatus(Grpc.status(status), message, new java.io.IOException(message));
            return;
        }
        fields.put(CONTENT_TYPE);
        fields.put(Grpc.STATUS, String.valueOf(Grpc.status(status)));
        fields.put(Grpc.MESSAGE, Grpc.encodeMessage(message));
        delegate.responseHead(200, fields);
        delegate.write(true, BufferUtil.EMPTY_BUFFER, Callback.from(delegate::complete, delegate::abort));
    }

    @Override
    public void abort(Throwable failure) {
        if (!delegate.isCommitted()) {
            delegate.abort(failure);
            return;
        }
        int status = failure instanceof TimeoutException ? Grpc.DEADLINE_EXCEEDED : Grpc.UNAVAILABLE;
        endWithStatus(status, "the proxy lost the backend's response: " + failure, failure);
    }

    /** Ends a started response with a gRPC status in its trailers; cuts it if that cannot be done. */
    private void endWithStatus(int grpcStatus, String message, Throwable failure) {
        if (writing || lastWritten) {
            delegate.abort(failure);
            return;
        }
        HttpFields.Mutable trailers = HttpFields.build(2);
        trailers.put(Grpc.STATUS, String.valueOf(grpcStatus));
        trailers.put(Grpc.MESSAGE, Grpc.encodeMessage(message));
        delegate.responseTrailers(trailers);
        lastWritten = true;
        delegate.write(true, BufferUtil.EMPTY_BUFFER, Callback.from(delegate::complete, delegate::abort));
    }

    @Override
    public void write(boolean last, ByteBuffer content, Callback callback) {
        writing = true;
        if (last) {
            lastWritten = true;
        }
        delegate.write(
                last,
                content,
                Callback.from(
                        () -> {
                            writing = false;
                            callback.succeeded();
                        },
                        failure -> {
                            writing = false;
                            callback.failed(failure);
                        }));
    }

    @Override
    public String toString() {
        return "gRPC " + delegate;
    }
}
