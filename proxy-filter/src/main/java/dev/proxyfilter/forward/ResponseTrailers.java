package dev.proxyfilter.forward;

import org.eclipse.jetty.http.Trailers;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.Callback;

/**
 * The backend's response trailers on their way to the client. An upstream body source ends with Jetty's
 * {@link Trailers} chunk when the response had trailers (HTTP/2, {@link dev.proxyfilter.upstream.Http2Upstream});
 * the copy hands them to {@link ClientExchange#responseTrailers} just before that chunk ends the body as any
 * last chunk does, so the adapter sends them with the end of the response where its protocol allows.
 */
final class ResponseTrailers {
    private ResponseTrailers() {}

    /** {@link Content#copy(Content.Source, Content.Sink, Callback)}, with the trailers going to {@code client}. */
    static void copy(Content.Source source, ClientExchange client, Content.Sink sink, Callback callback) {
        Content.copy(
                source,
                sink,
                (chunk, ignored) -> {
                    if (chunk instanceof Trailers trailers) {
                        client.responseTrailers(trailers.getTrailers());
                    }
                    return false; // the copier writes the chunk (empty, last) itself: that ends the body
                },
                callback);
    }
}
