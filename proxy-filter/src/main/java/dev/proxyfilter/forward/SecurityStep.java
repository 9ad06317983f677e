package dev.proxyfilter.forward;

import dev.proxyfilter.http.Header;
import dev.proxyfilter.security.Admission;
import dev.proxyfilter.security.ClientRequest;
import dev.proxyfilter.security.ResponseHygiene;
import dev.proxyfilter.security.RouteGuard;
import dev.proxyfilter.tunnel.TunnelEnd;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Promise;

/**
 * The first step of the pipeline: the route's {@link RouteGuard} over the client request. Its verdict goes
 * to {@link Forwarding}, which answers a refusal (401, 403, 429) without picking a backend, so that metrics
 * and the access log see refusals too. With nothing configured the guard is {@link RouteGuard#NONE}: no
 * view of the request is built and nothing is read.
 */
final class SecurityStep {
    private SecurityStep() {}

    /** The verdict for {@code client}: admitted, or refused with a status for {@link Forwarding} to answer. */
    static Admission admit(RouteGuard guard, ClientExchange client) {
        return guard.isOpen() ? Admission.NONE : guard.admit(new ExchangeRequest(client));
    }

    /** The exchange the forwarding step works on: one that gives back the admission's slot when it ends. */
    static ClientExchange releasing(ClientExchange client, Admission admission) {
        return admission.holdsPermit() ? new ReleasingExchange(client, admission) : client;
    }

    /** Headers of one of the proxy's own error responses: the refusal's, then the configured security headers. */
    static HttpFields errorHeaders(List<Header> refusal, ResponseHygiene hygiene, ClientExchange client) {
        List<Header> security = hygiene.headers("https".equalsIgnoreCase(client.scheme()));
        if (refusal.isEmpty() && security.isEmpty()) {
            return HttpFields.EMPTY;
        }
        HttpFields.Mutable headers = HttpFields.build(refusal.size() + security.size());
        for (Header header : refusal) {
            headers.add(header.name(), header.value());
        }
        for (Header header : security) {
            headers.put(header.name(), header.value());
        }
        return headers;
    }

    /** The client request as the security package reads it; nothing is copied. */
    private record ExchangeRequest(ClientExchange client) implements ClientRequest {
        @Override
        public String peerAddress() {
            return client.remoteAddress();
        }

        @Override
        public String scheme() {
            return client.scheme();
        }

        @Override
        public String header(String name) {
            return client.requestHeaders().get(name);
        }

        @Override
        public List<String> headerValues(String name) {
            return client.requestHeaders().getValuesList(name);
        }
    }

    /**
     * Gives back the per-client concurrency slot when the exchange ends, whichever way: complete, an error
     * response or an abort. Every end of an exchange goes through one of those three.
     */
    private static final class ReleasingExchange implements ClientExchange {
        private final ClientExchange delegate;
        private final Admission admission;
        private final AtomicBoolean ended = new AtomicBoolean();

        ReleasingExchange(ClientExchange delegate, Admission admission) {
            this.delegate = delegate;
            this.admission = admission;
        }

        private void end() {
            if (ended.compareAndSet(false, true)) {
                admission.release();
            }
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
            throw new IllegalStateException("the exchange has begun");
        }

        @Override
        public void dispatch(Runnable work) {
            delegate.dispatch(work);
        }

        @Override
        public String scheme() {
            return delegate.scheme();
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
        public void complete() {
            end();
            delegate.complete();
        }

        @Override
        public void sendError(int status, String message, HttpFields headers) {
            end();
            delegate.sendError(status, message, headers);
        }

        @Override
        public void abort(Throwable failure) {
            end();
            delegate.abort(failure);
        }

        @Override
        public void onClientFailure(Consumer<Throwable> onClientFailure) {
            delegate.onClientFailure(onClientFailure);
        }

        @Override
        public int maxResponseHeadBytes() {
            return delegate.maxResponseHeadBytes();
        }

        @Override
        public void responseTrailers(HttpFields trailers) {
            delegate.responseTrailers(trailers);
        }

        @Override
        public String connectProtocol() {
            return delegate.connectProtocol();
        }

        @Override
        public boolean upgradable() {
            return delegate.upgradable();
        }

        /** The exchange ends with the switch, as with {@link #complete}; the tunnel holds no client slot. */
        @Override
        public void upgrade(HttpFields headers, Promise<TunnelEnd> promise) {
            end();
            delegate.upgrade(headers, promise);
        }
    }
}
