package dev.proxyfilter.forward;

import dev.proxyfilter.http.Header;
import dev.proxyfilter.security.Admission;
import dev.proxyfilter.security.ClientRequest;
import dev.proxyfilter.security.ResponseHygiene;
import dev.proxyfilter.security.RouteGuard;
import dev.proxyfilter.tunnel.TunnelEnd;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.http.HttpFields;
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
    private static final class ReleasingExchange extends DelegatingExchange {
        private final Admission admission;
        private final AtomicBoolean ended = new AtomicBoolean();

        ReleasingExchange(ClientExchange delegate, Admission admission) {
            super(delegate);
            this.admission = admission;
        }

        private void end() {
            if (ended.compareAndSet(false, true)) {
                admission.release();
            }
        }

        @Override
        public void begin(String path) {
            throw new IllegalStateException("the exchange has begun");
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

        /** The exchange ends with the switch, as with {@link #complete}; the tunnel holds no client slot. */
        @Override
        public void upgrade(HttpFields headers, Promise<TunnelEnd> promise) {
            end();
            delegate.upgrade(headers, promise);
        }
    }
}
