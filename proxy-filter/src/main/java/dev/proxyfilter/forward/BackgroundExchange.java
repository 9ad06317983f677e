package dev.proxyfilter.forward;

import java.nio.ByteBuffer;
import java.util.function.Consumer;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.Callback;

/**
 * A client that is no one: the request of a background revalidation ({@code stale-while-revalidate}),
 * made from a real client's {@code GET}, whose response only the cache reads. Its body is discarded.
 */
final class BackgroundExchange implements ClientExchange {
    private final ClientExchange original;
    private final HttpFields requestHeaders;

    BackgroundExchange(ClientExchange original) {
        this.original = original;
        this.requestHeaders = HttpFields.build(original.requestHeaders()).asImmutable();
    }

    @Override
    public String method() {
        return "GET";
    }

    @Override
    public String scheme() {
        return original.scheme();
    }

    @Override
    public String protocol() {
        return "HTTP/1.1";
    }

    @Override
    public String authority() {
        return original.authority();
    }

    @Override
    public int localPort() {
        return original.localPort();
    }

    @Override
    public String remoteAddress() {
        return original.remoteAddress();
    }

    @Override
    public String basePath() {
        return original.basePath();
    }

    @Override
    public String path() {
        return original.path();
    }

    @Override
    public String query() {
        return original.query();
    }

    @Override
    public HttpFields requestHeaders() {
        return requestHeaders;
    }

    @Override
    public boolean hasRequestBody() {
        return false;
    }

    @Override
    public long requestContentLength() {
        return 0;
    }

    @Override
    public Content.Source requestBody() {
        throw new IllegalStateException("a background revalidation has no request body");
    }

    @Override
    public void responseHead(int status, HttpFields headers) {
        // nobody to tell
    }

    @Override
    public long bytesWritten() {
        return 0;
    }

    @Override
    public boolean isCommitted() {
        return false;
    }

    @Override
    public void write(boolean last, ByteBuffer content, Callback callback) {
        callback.succeeded();
    }

    @Override
    public void complete() {
        // nothing to end
    }

    @Override
    public void sendError(int status, String message, org.eclipse.jetty.http.HttpFields headers) {
        // the stale response was served already; the next request tries again
    }

    @Override
    public void abort(Throwable failure) {
        // nothing to abort
    }

    @Override
    public void onClientFailure(Consumer<Throwable> onClientFailure) {
        // a background exchange has no client to lose
    }
}
