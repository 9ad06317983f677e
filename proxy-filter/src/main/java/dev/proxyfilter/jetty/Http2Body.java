package dev.proxyfilter.jetty;

import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;

/**
 * Whether an HTTP/2 (or HTTP/3) request without {@code Content-Length} has a body: the protocol says so with
 * the end-of-stream flag of its {@code HEADERS} frame, not with a header. Jetty shows that flag as a request
 * whose first read is already the end; a first read that found a chunk keeps it for the body's reader.
 */
final class Http2Body {
    private static final String PEEKED = Http2Body.class.getName() + ".peeked";

    private Http2Body() {}

    /** Whether the request may have a body: not HTTP/1 (which says so in its headers), and not already ended. */
    static boolean mayHaveBody(Request request) {
        HttpVersion version = request.getConnectionMetaData().getHttpVersion();
        if (version == null || version.getVersion() < HttpVersion.HTTP_2.getVersion()) {
            return false;
        }
        if (request.getTunnelSupport() != null) {
            return false; // a CONNECT: its stream's DATA is a tunnel's, read by the tunnel (RFC 8441)
        }
        Content.Chunk first = request.read();
        if (first == null) {
            return true; // the stream is open: DATA may follow
        }
        if (first.isLast()
                && !first.hasRemaining()
                && !Content.Chunk.isFailure(first)
                && !(first instanceof org.eclipse.jetty.http.Trailers)) {
            first.release();
            return false;
        }
        request.setAttribute(PEEKED, first);
        return true;
    }

    /** The request's body, starting with a chunk that {@link #mayHaveBody} read. */
    static Content.Source source(Request request) {
        Object peeked = request.removeAttribute(PEEKED);
        if (!(peeked instanceof Content.Chunk first)) {
            return request;
        }
        return new Content.Source() {
            private Content.Chunk pending = first;

            @Override
            public synchronized Content.Chunk read() {
                Content.Chunk chunk = pending;
                if (chunk != null) {
                    pending = null;
                    return chunk;
                }
                return request.read();
            }

            @Override
            public void demand(Runnable demandCallback) {
                boolean ready;
                synchronized (this) {
                    ready = pending != null;
                }
                if (ready) {
                    demandCallback.run();
                } else {
                    request.demand(demandCallback);
                }
            }

            @Override
            public void fail(Throwable failure) {
                request.fail(failure);
            }

            @Override
            public long getLength() {
                return request.getLength();
            }
        };
    }
}
