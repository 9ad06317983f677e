package dev.proxyfilter.upstream;

import org.eclipse.jetty.io.Content;

/**
 * What an {@link UpstreamExchange} reports, in order: {@link #onHeaders} once the backend's final
 * response head is parsed (interim 1xx responses are skipped), {@link #onContentSource} when the response
 * has a body to read, and {@link #onComplete} exactly once, when both the request and the response ended
 * or the exchange failed. A response without a body (HEAD, 204, 304, {@code Content-Length: 0}) goes from
 * {@code onHeaders} straight to {@code onComplete}.
 *
 * <p>The calls never overlap: an exchange that ends (an abort from another thread, say) while {@code
 * onHeaders} or {@code onContentSource} runs is reported by {@code onComplete} once that call returns, on
 * its thread; neither starts after {@code onComplete}. A reader may still be reading the body when {@code
 * onComplete} comes.
 */
public interface UpstreamListener {
    /** Status and headers are in {@link UpstreamExchange#status()} and {@link UpstreamExchange#responseHeaders()}. */
    void onHeaders(UpstreamExchange exchange);

    /**
     * The response body, to read with {@link Content.Source#read()} and {@link Content.Source#demand}.
     * Chunks are slices of the connection's network buffer: release each once written.
     */
    void onContentSource(UpstreamExchange exchange, Content.Source content);

    /**
     * The exchange ended: {@code failure} is {@code null} on success, else why it failed. On success this
     * may come before the reader has taken the body's last chunk (the connection is back in its pool as
     * soon as the response is parsed): a reader ends on the last chunk, not on this call.
     */
    void onComplete(UpstreamExchange exchange, Throwable failure);
}
