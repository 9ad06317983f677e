package dev.proxyfilter.upstream;

/**
 * How the engine reaches backends, whatever the protocol: {@link UpstreamClient} speaks HTTP/1.1, {@link
 * Http2Upstream} HTTP/2 (h2c or h2). Either makes {@link UpstreamExchange}s with the same contract (the same
 * {@link UpstreamListener} calls in the same order, the response body as a {@link
 * org.eclipse.jetty.io.Content.Source}), so the caller picks one per pool and never asks which.
 */
public interface Upstream {
    /** A new exchange with {@code method} and {@code target} (path and query, as sent) to one backend address. */
    UpstreamExchange newExchange(String scheme, String host, int port, String method, String target);
}
