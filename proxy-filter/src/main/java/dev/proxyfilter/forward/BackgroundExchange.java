package dev.proxyfilter.forward;

import java.nio.ByteBuffer;
import java.util.function.Consumer;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.Callback;

/**
 * A client that is no one: the request of a background revalidation ({@code stale-while-revalidate}),
 * made from a real client's {@code GET}, whose response only the cache reads. Its body is discarded.
 *
 * <p>Everything it answers is copied from the original exchange when it is made, which must be before the
 * original client is answered: the container recycles a request once its response completed, and a
 * background exchange outlives it. (Reading the original lazily was the cause of the lost refreshes of
 * issue 4: about one run in three, {@code getScheme()} or {@code getQueryString()} on the recycled request
 * threw inside the backend response's listener, the refresh was aborted, and nothing was stored.)
 */
final class BackgroundExchange implements ClientExchange {
    private final String scheme;
    private final String authority;
    private final int localPort;
    private final String remoteAddress;
    private final String basePath;
    private final String path;
    private final String query;
    private final HttpFields requestHeaders;

    BackgroundExchange(ClientExchange original) {
        this.scheme = original.scheme();
        this.authority = original.authority();
        this.localPort = original.localPort();
        this.remoteAddress = original.remoteAddress();
        this.basePath = original.basePath();
        this.path = original.path();
        this.query = original.query();
        this.requestHeaders = HttpFields.build(original.requestHeaders()).asImmutable();
    }

    @Override
    public String method() {
        return "GET";
    }

    @Override
    public String host() {
        return requestHeaders.get(org.eclipse.jetty.http.HttpHeader.HOST);
    }

    @Override
    public String rawPath() {
        return path;
    }

    /** Made from an exchange that had begun: nothing to start. */
    @Override
    public void begin(String path) {}

    @Override
    public String scheme() {
        return scheme;
    }

    @Override
    public String protocol() {
        return "HTTP/1.1";
    }

    @Override
    public String authority() {
        return authority;
    }

    @Override
    public int localPort() {
        return localPort;
    }

    @Override
    public String remoteAddress() {
        return remoteAddress;
    }

    @Override
    public String basePath() {
        return basePath;
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public String query() {
        return query;
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
