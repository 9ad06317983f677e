package dev.proxyfilter.forward;

import dev.proxyfilter.cache.BodyBuffer;
import dev.proxyfilter.cache.CacheAction;
import dev.proxyfilter.cache.CacheAnswer;
import dev.proxyfilter.cache.CacheLookup;
import dev.proxyfilter.cache.CacheRequest;
import dev.proxyfilter.cache.CacheStatus;
import dev.proxyfilter.cache.Coalescer;
import dev.proxyfilter.cache.Conditionals;
import dev.proxyfilter.cache.HttpCache;
import dev.proxyfilter.cache.Storability;
import dev.proxyfilter.cache.StoreResult;
import dev.proxyfilter.cache.StoredResponse;
import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request's way through the response cache, as {@link Forwarding} drives it:
 * <ol>
 *   <li>{@link #begin}: look the request up; a hit is answered from the cache, {@code only-if-cached} with
 *       nothing usable gets 504; a miss joins the {@link Coalescer}: the leader goes to the backend, a follower
 *       waits (without a thread) for the leader's stored response, or goes itself when there is none;</li>
 *   <li>{@link #proxyToServer}: the leader asks for a whole response (client conditionals removed);</li>
 *   <li>{@link #serverToClient}: on the backend's headers, decide whether the body is collected for storing
 *       ({@link BodyBuffer}, bounded by the per-entry limit); after an unsafe method, invalidate; add
 *       {@code Cache-Status};</li>
 *   <li>{@link #tee}: the body streams to the client as always while a copy accumulates;</li>
 *   <li>{@link #bodyComplete}: store, then hand the stored response to the followers; {@link #end} (always
 *       called) releases them when nothing was stored.</li>
 * </ol>
 * A stale response with a validator is revalidated ({@code If-None-Match}/{@code If-Modified-Since}); a 304
 * freshens it and the client is answered from it ({@link #replaceResponse}), as it is from a stored response
 * that {@code stale-if-error} allows when the backend fails. Within {@code stale-while-revalidate}, the stale
 * response is served and one background exchange per key ({@link BackgroundExchange}, led through the
 * {@link Coalescer}) revalidates it.
 */
final class CachedExchange {
    private static final Logger LOG = LoggerFactory.getLogger(CachedExchange.class);

    /** What this exchange needs of its {@link Forwarding}. */
    interface Pipeline {
        /** Answers the client from the cache; ends the exchange. */
        void answer(int status, HttpFields.Mutable headers, ByteBuffer body);

        /** Goes to the backend the usual way. */
        void forward();

        /**
         * Starts a background exchange that revalidates the stored response with {@code revalidation}. Called
         * before the client is answered; copies what it needs of the client's request before it returns.
         */
        void revalidateInBackground(CachedExchange revalidation);
    }

    private final CachingStep step;
    private final HttpCache cache;
    private final ClientExchange client;
    private CacheLookup lookup;
    private Coalescer.Leader leader;
    private volatile BodyBuffer body;
    private int backendStatus;
    private HttpFields.Mutable headersToStore;
    private long requestTimeMillis;
    private long responseTimeMillis;
    private volatile String logToken;
    private boolean validating;
    /** Set when a 304 did not select the stored response: the request goes again, without conditions. */
    private boolean unconditional;
    /** Set when a wait for another node's fill ended in {@link Coalescer.Outcome.Kind#RETRY}: once only. */
    private boolean retried;

    /**
     * The range asked of the backend to complete a stored piece (RFC 9111 §3.4), while the answer is awaited;
     * {@code null} otherwise.
     */
    private String askedRange;
    /** Collects the backend's 206 of {@link #askedRange}, whose answer to the client is made from it and the piece. */
    private BodyBuffer completion;

    private HttpFields.Mutable completionHeaders;

    private volatile long expectedLength = -1;
    /** The access-log token once the response is stored. */
    private CacheStatus statusOfStored;

    CachedExchange(CachingStep step, ClientExchange client) {
        this.step = step;
        this.cache = step.cache();
        this.client = client;
    }

    /** The leader of a background revalidation of {@code stale}'s stored response. */
    private CachedExchange(CachingStep step, CacheLookup stale, Coalescer.Leader leader) {
        this.step = step;
        this.cache = step.cache();
        this.client = null;
        CacheRequest r = stale.request(); // copied: the client's request may be recycled before this ends
        CacheRequest copy = new CacheRequest(
                r.method(),
                r.scheme(),
                r.authority(),
                r.path(),
                r.query(),
                HttpFields.build(r.headers()).asImmutable());
        this.lookup = new CacheLookup(
                copy,
                stale.primaryKey(),
                stale.entryKey(),
                stale.stored(),
                new dev.proxyfilter.cache.CacheDecision(CacheAction.VALIDATE, CacheStatus.Forward.STALE, 0, 0),
                CacheStatus.forward(cache.name(), CacheStatus.Forward.STALE));
        this.leader = leader;
    }

    /** Starts a background revalidation: it goes straight to the backend. */
    void beginRevalidation(Pipeline pipeline) {
        forward(pipeline);
    }

    void begin(Pipeline pipeline) {
        String basePath = client.basePath(); // "" for the standalone handler: no concatenation per request
        CacheRequest request = new CacheRequest(
                client.method(),
                client.scheme(),
                client.authority(),
                basePath.isEmpty() ? client.path() : basePath + client.path(),
                client.query(),
                client.requestHeaders());
        if (client.hasRequestBody() && ("GET".equals(request.method()) || "HEAD".equals(request.method()))) {
            // A GET with a body (Elasticsearch's _search, some RPC styles): the answer may depend on the body,
            // which no key holds. Forwarded, but never stored, never answered from the cache, never coalesced.
            lookup = cache.bypass(request, "request-body");
            forward(pipeline);
            return;
        }
        long now = step.now();
        lookup = cache.lookup(request, now);
        CacheAction action = lookup.action();
        switch (action) {
            case HIT, STALE_HIT, STALE_WHILE_REVALIDATE -> {
                (action == CacheAction.HIT ? step.hits : step.staleServed).increment();
                CacheAnswer stale = cache.answer(lookup, now);
                if (action == CacheAction.STALE_WHILE_REVALIDATE && "GET".equals(request.method())) {
                    // Started before the client is answered: the background exchange copies the client's
                    // request, which the container recycles as soon as the answer below completes.
                    Coalescer.Leader refresher = cache.tryLead(lookup); // one refresh per key, cluster-wide too
                    if (refresher != null) {
                        try {
                            pipeline.revalidateInBackground(new CachedExchange(step, lookup, refresher));
                        } catch (RuntimeException e) {
                            // The client still gets its stale answer below; the next stale hit tries again.
                            refresher.release();
                            LOG.warn("background revalidation of {} could not start", lookup.primaryKey(), e);
                        }
                    }
                }
                answer(pipeline, stale, lookup.cacheStatus());
            }
            case GATEWAY_TIMEOUT -> {
                HttpFields.Mutable headers = HttpFields.build(3);
                headers.put(HttpHeader.CONTENT_LENGTH, "0");
                answer(pipeline, new CacheAnswer(504, headers, ByteBuffer.allocate(0)), lookup.cacheStatus());
            }
            case MISS, VALIDATE, COMPLETE -> {
                step.misses.increment();
                if (!"GET".equals(request.method())) {
                    forward(pipeline);
                    return;
                }
                Coalescer.Ticket ticket = cache.join(lookup); // on this node, and across the cluster if shared
                if (ticket instanceof Coalescer.Leader first) {
                    leader = first;
                    forward(pipeline);
                } else {
                    Coalescer.Follower follower = (Coalescer.Follower) ticket;
                    follower.outcome().whenComplete((outcome, failure) -> {
                        if (outcome != null && outcome.kind() == Coalescer.Outcome.Kind.RETRY && !retried) {
                            // Another node's fill left a response to validate or another variant: start over
                            // (once), off the thread that ended the wait, since a shared lookup may block.
                            retried = true;
                            step.misses.decrement(); // counted again
                            client.dispatch(() -> begin(pipeline));
                            return;
                        }
                        CacheAnswer answer = outcome == null || outcome.stored() == null
                                ? null
                                : cache.answerFollower(request, outcome.stored(), step.now());
                        if (answer == null) {
                            forward(pipeline);
                        } else {
                            step.coalesced.increment();
                            step.misses.decrement();
                            answer(pipeline, answer, lookup.cacheStatus().withCollapsed());
                        }
                    });
                }
            }
            default -> forward(pipeline);
        }
    }

    private void forward(Pipeline pipeline) {
        requestTimeMillis = step.now();
        pipeline.forward();
    }

    private void answer(Pipeline pipeline, CacheAnswer answer, CacheStatus status) {
        withOurFields(answer, status);
        pipeline.answer(answer.status(), answer.headers(), answer.body());
    }

    /** Adjusts the backend request: a leader asks for the whole response, not the client's conditional one. */
    void proxyToServer(HttpFields.Mutable headers) {
        askedRange = null;
        if (leader != null && lookup.action() == CacheAction.COMPLETE && !unconditional) {
            String[] missing = cache.missingRange(lookup);
            if (missing != null) {
                // RFC 9111 §3.4: only the bytes the stored piece lacks, under its validator
                Conditionals.stripClientConditionals(headers);
                headers.put(HttpHeader.RANGE, missing[0]);
                headers.put(HttpHeader.IF_RANGE, missing[1]);
                askedRange = missing[0];
                return;
            }
        }
        if (leader != null && lookup.action() == CacheAction.VALIDATE && lookup.stored() != null && !unconditional) {
            Conditionals.toValidationRequest(headers, lookup.stored());
            validating = true;
        } else if (leader != null && lookup.action() != CacheAction.VALIDATE && !unconditional) {
            Conditionals.stripClientConditionalsKeepingOneRange(headers); // a 206 is stored and combined (§3.4)
        } else if (leader != null) {
            Conditionals.stripClientConditionals(headers);
        }
    }

    /**
     * Whether the backend's response must be dropped and the request sent again without conditions: a 304 to
     * our validation that does not select the stored response (its validators differ, RFC 9111 §4.3.3 and
     * §4.3.4). It must not update the stored response, and the client, who did not send these conditions,
     * must not get it. Once per exchange, so that a backend that keeps answering 304 cannot loop.
     */
    boolean resendUnconditionally(int status, HttpFields backendHeaders) {
        if (askedRange != null
                && (status == 206 || status == 416)
                && !cache.completesPiece(lookup, askedRange, status, backendHeaders)) {
            // Not the bytes asked for, so not an answer to the client's request: ask again for the whole
            LOG.debug(
                    "{}: the backend's {} does not complete the stored piece; asking again",
                    lookup.primaryKey(),
                    status);
            askedRange = null;
            unconditional = true;
            requestTimeMillis = step.now();
            return true;
        }
        if (!validating
                || status != 304
                || unconditional
                || Conditionals.notModifiedSelects(lookup.stored(), backendHeaders)) {
            return false;
        }
        LOG.debug(
                "{}: the backend's 304 does not select the stored response; asking again without conditions",
                lookup.primaryKey());
        validating = false;
        unconditional = true;
        requestTimeMillis = step.now();
        return true;
    }

    /**
     * An answer from the cache that replaces the backend's response, decided on its headers: the stored
     * response freshened by a 304 to a validation, or the stored response when the backend answered 5xx and
     * {@code stale-if-error} allows it; {@code null} to send the backend's response. Headers carry {@code Via}
     * and {@code Cache-Status}.
     */
    CacheAnswer replaceResponse(int status, HttpFields backendHeaders) {
        long now = step.now();
        if (validating && status == 304) {
            responseTimeMillis = now;
            StoredResponse freshened = cache.freshen(lookup, withoutOurVia(backendHeaders), requestTimeMillis, now);
            if (freshened != null) {
                step.revalidated.increment();
                leader.complete(freshened);
                CacheAnswer answer = cache.answer(lookup.request(), freshened, now, true);
                if (answer != null) {
                    return withOurFields(answer, lookup.cacheStatus().withForwardStatus(304));
                }
            }
            return null;
        }
        if (status >= 500 && cache.serveStaleOnError(lookup, now)) {
            return answerOnError(status);
        }
        return null;
    }

    /** The stored response when the backend failed ({@code status} 0) or answered 5xx, if it may serve; else null. */
    CacheAnswer answerOnError(int status) {
        long now = step.now();
        if (lookup == null || lookup.stored() == null || !cache.serveStaleOnError(lookup, now)) {
            return null;
        }
        step.staleServed.increment();
        CacheStatus cacheStatus = lookup.cacheStatus();
        if (status > 0) {
            cacheStatus = cacheStatus.withForwardStatus(status);
        }
        CacheAnswer stale = cache.answer(lookup.request(), lookup.stored(), now, false);
        if (stale == null) {
            step.staleServed.decrement();
            return null; // a stored piece that does not hold what is asked for
        }
        return withOurFields(stale, cacheStatus.withDetail("stale-if-error"));
    }

    /**
     * The backend could not be reached: whether the stored response this exchange was validating must not
     * answer instead, so that the client gets 504 (RFC 9111 §4.2.4: {@code must-revalidate},
     * {@code proxy-revalidate}, {@code s-maxage}, {@code no-cache}).
     */
    boolean gatewayTimeoutWhenDisconnected() {
        return lookup != null && cache.gatewayTimeoutWhenDisconnected(lookup, step.now());
    }

    private CacheAnswer withOurFields(CacheAnswer answer, CacheStatus status) {
        HttpFields.Mutable headers = answer.headers();
        stripTargeted(headers);
        // One pass to learn whether the fields hold a Via or a Cache-Status already: usually neither, and then
        // ours are appended (put would search the fields with an iterator each).
        boolean via = false;
        boolean cacheStatus = false;
        for (int i = 0, size = headers.size(); i < size; i++) {
            HttpField field = headers.getField(i);
            HttpHeader known = field.getHeader(); // Jetty resolves known names, Via included, when fields are made
            if (known == HttpHeader.VIA) {
                via = true;
            } else if (known == null && field.is(CacheStatus.HEADER)) {
                cacheStatus = true;
            }
        }
        if (via) {
            String ours = "1.1 " + step.via();
            headers.put(HttpHeader.VIA, String.join(", ", headers.getValuesList(HttpHeader.VIA)) + ", " + ours);
        } else {
            headers.add(step.viaField());
        }
        String member = status.toString();
        if (cacheStatus) {
            headers.put(CacheStatus.HEADER, member);
        } else {
            headers.add(new HttpField(null, CacheStatus.HEADER, member)); // not a name Jetty knows: no lookup
        }
        logToken = member;
        return answer;
    }

    /**
     * The backend's response headers as the client will get them (after {@code Location} rewriting, with this
     * proxy's {@code Via}), before the sticky cookie: decides whether to collect the body, invalidates after
     * an unsafe method, and adds {@code Cache-Status}.
     */
    void serverToClient(int status, HttpFields.Mutable clientHeaders) {
        responseTimeMillis = step.now();
        backendStatus = status;
        CacheStatus cacheStatus = lookup.cacheStatus().withForwardStatus(status);
        boolean collects = leader != null;
        if (lookup.action() == CacheAction.PASS) {
            if (cache.invalidate(lookup.request(), status, clientHeaders) > 0) {
                step.invalidated.increment();
            }
            // RFC 9110 §9.3.3: a POST response that says it is the GET response of its target (after the
            // invalidation above, so that it is what remains)
            collects = cache.storesPostAsGet(lookup, clientHeaders);
        }
        if (collects) {
            // Judged on the client's fields: our Via, the only difference from what would be stored, governs
            // nothing here. The copy to store is made only for a response that is stored, or that supersedes
            // a stored one: an uncacheable response (no-store, private) to a request that found nothing
            // stored copies no headers.
            Storability storability = cache.storability(lookup, status, clientHeaders);
            if (storability.storable()) {
                HttpFields.Mutable toStore = withoutOurVia(clientHeaders);
                long length;
                try {
                    length = clientHeaders.getLongField(HttpHeader.CONTENT_LENGTH);
                } catch (NumberFormatException e) {
                    length = -1;
                }
                body = new BodyBuffer(cache.store().maxEntryBytes(), length);
                expectedLength = length;
                headersToStore = toStore;
                // RFC 9211 "stored" goes out with the headers, before the body: only said when the whole
                // response is known to fit (a Content-Length within the limit), and the store takes any entry
                // within it. A body of unknown length may pass the limit while streaming: it says nothing
                // here, and the access log's token tells whether it was stored (bodyComplete).
                if (length >= 0) {
                    cacheStatus = cacheStatus.withStored();
                }
                statusOfStored = lookup.cacheStatus().withForwardStatus(status).withStored();
            } else {
                cacheStatus = cacheStatus.withDetail(storability.detail());
                if (leader != null) {
                    cache.markUncacheable(lookup, storability); // the next misses need not wait for each other
                    leader.release(); // followers need not wait for a body that will not be stored
                }
                if (storability != Storability.TOO_LARGE && leader != null && lookup.entryKey() != null) {
                    // Lets the cache drop what the response supersedes (no-store, private, ...); with no entry
                    // key the lookup found nothing stored, and there is nothing to drop.
                    cache.store(
                            lookup,
                            status,
                            withoutOurVia(clientHeaders),
                            new byte[0],
                            requestTimeMillis,
                            responseTimeMillis);
                }
            }
        }
        stripTargeted(clientHeaders); // after the copy to store: the stored response keeps what governs it
        String member = cacheStatus.toString();
        if (hasCacheStatus(clientHeaders)) {
            clientHeaders.put(CacheStatus.HEADER, member); // the backend's (or another cache's) is replaced
        } else {
            clientHeaders.add(new HttpField(null, CacheStatus.HEADER, member)); // not a name Jetty knows: no lookup
        }
        logToken = member;
    }

    /** Whether the fields hold a {@code Cache-Status}: one indexed pass, where put would iterate and search. */
    private static boolean hasCacheStatus(HttpFields headers) {
        for (int i = 0, size = headers.size(); i < size; i++) {
            HttpField field = headers.getField(i);
            if (field.getHeader() == null && field.is(CacheStatus.HEADER)) {
                return true;
            }
        }
        return false;
    }

    /** With {@code cache.strip-targeted}, the targeted fields this cache obeys go (RFC 9213 leaves it to us). */
    private void stripTargeted(HttpFields.Mutable headers) {
        java.util.List<String> stripped = cache.policy().strippedFields();
        for (int i = 0, n = stripped.size(); i < n; i++) {
            headers.remove(stripped.get(i));
        }
    }

    private HttpFields.Mutable withoutOurVia(HttpFields clientHeaders) {
        if (clientHeaders.get(HttpHeader.VIA) == null) {
            return HttpFields.build(clientHeaders);
        }
        HttpFields.Mutable copy = HttpFields.build(clientHeaders);
        String via = copy.get(HttpHeader.VIA);
        String ours = "1.1 " + step.via();
        if (via != null) {
            if (via.equals(ours)) {
                copy.remove(HttpHeader.VIA);
            } else if (via.endsWith(", " + ours)) {
                copy.put(HttpHeader.VIA, via.substring(0, via.length() - ours.length() - 2));
            }
        }
        return copy;
    }

    /**
     * Whether the backend's response is the rest of a stored piece ({@link #askedRange}): its head is not for
     * the client, who asked for something else; {@link #completionSink} collects its body and
     * {@link #completedAnswer} makes the client's answer. Called on the backend's headers, after
     * {@link #resendUnconditionally}.
     *
     * @param clientHeaders the backend's headers as a client would get them
     */
    boolean beginsCompletion(int status, HttpFields.Mutable clientHeaders) {
        if (askedRange == null || status != 206) {
            askedRange = null;
            return false;
        }
        responseTimeMillis = step.now();
        completionHeaders = withoutOurVia(clientHeaders);
        completion = new BodyBuffer(cache.store().maxEntryBytes(), -1);
        return true;
    }

    /** Where the body of a completing 206 goes: only into the buffer; the client gets the combined answer. */
    Content.Sink completionSink() {
        BodyBuffer buffer = completion;
        return (last, content, callback) -> {
            if (content != null) {
                buffer.append(content);
            }
            callback.succeeded();
        };
    }

    /**
     * The client's answer from the stored piece and the backend's 206 of the rest, combined and stored (RFC
     * 9111 §3.4), with {@code Via} and {@code Cache-Status}; {@code null} when they do not combine after all.
     */
    CacheAnswer completedAnswer() {
        BodyBuffer buffer = completion;
        completion = null;
        if (buffer == null || buffer.overflowed()) {
            return null;
        }
        HttpCache.Completion done = cache.complete(
                lookup, completionHeaders, buffer.toByteArray(), requestTimeMillis, responseTimeMillis, step.now());
        if (done == null) {
            return null;
        }
        CacheStatus status = lookup.cacheStatus().withForwardStatus(206);
        if (done.stored() != null) {
            status = status.withStored();
            step.stored.increment();
            if (leader != null) {
                leader.complete(done.stored());
            }
        }
        if (leader != null) {
            leader.release(); // ignored when completed
        }
        return withOurFields(done.answer(), status);
    }

    /** Aborts a backend response that {@link #resendUnconditionally} dropped; the exchange asks again. */
    static final class Resend extends Exception {
        private static final long serialVersionUID = 1L;

        Resend() {
            super(
                    "the 304 does not select the stored response; sending the request again without conditions",
                    null,
                    false,
                    false);
        }
    }

    /** The sink the backend's body is copied to: the client, plus the cache's copy when it is collected. */
    Content.Sink tee(Content.Sink clientSink) {
        BodyBuffer buffer = body;
        if (buffer == null) {
            return clientSink;
        }
        return (last, content, callback) -> {
            if (content != null) {
                buffer.append(content);
            }
            // Store before the client has the whole body, so that its next request finds the entry: with a
            // Content-Length the client has it with the last byte, before the last (empty) write.
            if (last || (expectedLength >= 0 && buffer.size() == expectedLength)) {
                bodyComplete();
            }
            clientSink.write(last, content, callback);
        };
    }

    /** The whole body reached the client: store the response and serve the followers from it. */
    void bodyComplete() {
        BodyBuffer buffer = body;
        if (buffer == null) {
            return; // nothing collected, or stored already
        }
        body = null; // once
        try {
            StoreResult result = buffer.overflowed()
                    ? cache.discard(lookup)
                    : cache.store(
                            lookup,
                            backendStatus,
                            headersToStore,
                            buffer.toByteArray(),
                            requestTimeMillis,
                            responseTimeMillis);
            if (result.isStored()) {
                logToken = statusOfStored.toString();
                step.stored.increment();
                if (leader != null) {
                    leader.complete(result.stored());
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("storing {} failed", lookup.primaryKey(), e);
        } finally {
            if (leader != null) {
                leader.release(); // ignored when completed
            }
        }
    }

    /** The exchange ended, however it ended: followers never wait for a leader that is gone. */
    void end() {
        if (leader != null) {
            leader.release();
        }
    }

    /** {@code Cache-Status} member for the access log, or {@code null}. */
    String logToken() {
        return logToken;
    }
}
