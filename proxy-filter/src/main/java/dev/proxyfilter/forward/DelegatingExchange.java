package dev.proxyfilter.forward;

import dev.proxyfilter.tunnel.TunnelEnd;
import java.nio.ByteBuffer;
import java.util.function.Consumer;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Promise;

/**
 * A {@link ClientExchange} that passes every call to another, for the engine's wrappers to override only what
 * they change. Every method of the interface is passed on, the defaulted ones included
 * ({@link #maxResponseHeadBytes}, {@link #upgradable}, {@link #connectProtocol}, ...): a wrapper that implemented
 * the interface directly would silently answer with the interface's defaults instead of its adapter's (a gRPC
 * call behind a Tomcat connector with a larger response-head limit would be held to 8 KiB). A test checks, by
 * reflection, that no method of the interface is left out, and that the two-argument {@code sendError} goes
 * through the wrapper's own three-argument one.
 */
abstract class DelegatingExchange implements ClientExchange {
    protected final ClientExchange delegate;

    protected DelegatingExchange(ClientExchange delegate) {
        this.delegate = delegate;
    }

    @Override
    public String method() {
        return delegate.method();
    }

    @Override
    public String host() {
        return delegate.host();
    }

    @Override
    public String rawPath() {
        return delegate.rawPath();
    }

    @Override
    public void begin(String path) {
        delegate.begin(path);
    }

    @Override
    public void dispatch(Runnable work) {
        delegate.dispatch(work);
    }

    @Override
    public int maxResponseHeadBytes() {
        return delegate.maxResponseHeadBytes();
    }

    @Override
    public String scheme() {
        return delegate.scheme();
    }

    @Override
    public String connectProtocol() {
        return delegate.connectProtocol();
    }

    @Override
    public String protocol() {
        return delegate.protocol();
    }

    @Override
    public String authority() {
        return delegate.authority();
    }

    @Override
    public int localPort() {
        return delegate.localPort();
    }

    @Override
    public String remoteAddress() {
        return delegate.remoteAddress();
    }

    @Override
    public String basePath() {
        return delegate.basePath();
    }

    @Override
    public String path() {
        return delegate.path();
    }

    @Override
    public String query() {
        return delegate.query();
    }

    @Override
    public HttpFields requestHeaders() {
        return delegate.requestHeaders();
    }

    @Override
    public boolean hasRequestBody() {
        return delegate.hasRequestBody();
    }

    @Override
    public long requestContentLength() {
        return delegate.requestContentLength();
    }

    @Override
    public Content.Source requestBody() {
        return delegate.requestBody();
    }

    @Override
    public void responseHead(int status, HttpFields headers) {
        delegate.responseHead(status, headers);
    }

    @Override
    public long bytesWritten() {
        return delegate.bytesWritten();
    }

    @Override
    public boolean isCommitted() {
        return delegate.isCommitted();
    }

    @Override
    public void write(boolean last, ByteBuffer content, Callback callback) {
        delegate.write(last, content, callback);
    }

    @Override
    public void responseTrailers(HttpFields trailers) {
        delegate.responseTrailers(trailers);
    }

    @Override
    public void complete() {
        delegate.complete();
    }

    /** Through this exchange's own {@link #sendError(int, String, HttpFields)}, which a wrapper may change. */
    @Override
    public final void sendError(int status, String message) {
        sendError(status, message, HttpFields.EMPTY);
    }

    @Override
    public void sendError(int status, String message, HttpFields headers) {
        delegate.sendError(status, message, headers);
    }

    @Override
    public void abort(Throwable failure) {
        delegate.abort(failure);
    }

    @Override
    public boolean upgradable() {
        return delegate.upgradable();
    }

    @Override
    public void upgrade(HttpFields headers, Promise<TunnelEnd> promise) {
        delegate.upgrade(headers, promise);
    }

    @Override
    public void onClientFailure(Consumer<Throwable> onClientFailure) {
        delegate.onClientFailure(onClientFailure);
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + " of " + delegate;
    }
}
