package dev.proxyfilter.cache;

import dev.proxyfilter.config.CacheConfig;
import dev.proxyfilter.http.Header;
import dev.proxyfilter.time.ProxyClock;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;

/**
 * The shared HTTP cache as the forwarding pipeline uses it: a {@link ResponseStore}, the rules of
 * {@link CachePolicy}, and a {@link Coalescer}, behind the few calls an exchange makes.
 *
 * <h2>How an exchange uses it</h2>
 * <ol>
 * <li>{@link #lookup}: the {@link CacheAction} for the request, with the stored response it concerns.</li>
 * <li>{@link CacheAction#HIT}, {@link CacheAction#STALE_HIT}: {@link #answer(CacheLookup, long)} and send it.
 *     {@link CacheAction#STALE_WHILE_REVALIDATE}: the same, then revalidate in the background (at most one
 *     at a time per key: only the {@link Coalescer.Leader} of {@code primaryKey} does it).
 *     {@link CacheAction#GATEWAY_TIMEOUT}: answer 504.</li>
 * <li>{@link CacheAction#MISS} (and {@link CacheAction#VALIDATE}): {@link #join} the misses in flight for
 *     {@code primaryKey}, on this node ({@link Coalescer}) and, with a {@link SharedCache}, across the cluster
 *     ({@link ClusterCoalescing}). A follower waits, then {@link #answerFollower} (or goes to the backend itself when
 *     that gives {@code null}). The leader forwards: for {@code VALIDATE} with
 *     {@link Conditionals#toValidationRequest}, for {@code MISS} with
 *     {@link Conditionals#stripClientConditionals} so that the response is a whole, storable 200.</li>
 * <li>On the backend's response headers: a 304 to a validation goes to {@link #freshen} and the client gets
 *     {@link #answer(CacheRequest, StoredResponse, long, boolean)}; a 500/502/503/504 or a failure may be
 *     answered from the stored response when {@link #serveStaleOnError}; otherwise {@link #storability}
 *     says whether to collect the body in a {@link BodyBuffer} while it streams to the client.</li>
 * <li>At the end of the body: {@link #store} (or {@link #discard} when the body passed the limit), then
 *     complete or release the leader.</li>
 * <li>For methods that are not served from the cache ({@link CacheAction#PASS}): forward, then
 *     {@link #invalidate}.</li>
 * </ol>
 *
 * <h2>Variants</h2>
 * A response without {@code Vary} is stored under its primary key. A response with {@code Vary} is stored
 * under a variant key, and the primary key holds a {@link VaryIndex} naming the {@code Vary} headers. A
 * lookup then reads two entries: the index, then the variant that the request's normalised header values
 * select. The index carries a random generation that is part of every variant key, so removing the index
 * (invalidation) makes every variant unreachable at once, without a scan; the orphans are evicted by the
 * store in time. When a resource's {@code Vary} names change, the new index replaces the old one in the
 * same way.
 *
 * <h2>What is stored</h2>
 * The body as received from the backend, and the header fields as the client would receive them (the
 * pipeline passes them after rewriting {@code Location}, but before adding its own {@code Via}, sticky
 * cookie and {@code Cache-Status}), without hop-by-hop fields and {@code Content-Length};
 * see {@link CachePolicy#headersToStore}.
 *
 * <h2>Several instances</h2>
 * Built with a {@link SharedCache} ({@link #create(CacheConfig, SharedCache, String, ProxyClock)}), the store is
 * this instance's tier in front of the cluster's ({@link TieredResponseStore}): a lookup says in
 * {@code Cache-Status} which one answered ({@code detail=local} or {@code detail=shared}), and misses are
 * coalesced across nodes.
 *
 * <h2>Time</h2>
 * The cache holds the engine's {@link ProxyClock} ({@link #clock()}), but its calls take the time as
 * {@code nowMillis}, as {@link CachePolicy}'s do: an exchange reads {@code clock().millis()} once and judges
 * its lookup, answer and {@code Age} by that one instant, and tests pass any time they like.
 *
 * <p>Thread-safe; one instance per proxy.
 */
public final class HttpCache implements AutoCloseable {
    private static final List<String> NOT_MODIFIED_FIELDS =
            List.of("Cache-Control", "Content-Location", "Date", "ETag", "Expires", "Vary", "Last-Modified");

    private final ResponseStore store;
    private final CachePolicy policy;
    private final Coalescer coalescer;
    private final String name;
    private final ProxyClock clock;
    /** The {@code Cache-Status} of a hit before its {@code ttl}: made once, its name serialised once. */
    private final CacheStatus hit;
    /**
     * The {@code Cache-Status} of each {@link CacheStatus.Forward} reason before anything is added to it, made
     * once (statuses are immutable): a lookup that misses allocates none.
     */
    private final CacheStatus[] forwards;
    /** The cluster side, or {@code null} for a cache of this instance alone. */
    private final SharedCache shared;
    /** Coalescing across nodes, or {@code null} without a cluster or with coalescing off. */
    private final ClusterCoalescing clusterCoalescing;

    /**
     * Primary keys whose last response the resource forbade storing ({@code no-store}, {@code private}, ...; see
     * {@link #markUncacheable}), for {@link #PASS_MARK_MILLIS}: their misses lead alone instead of waiting for
     * a leader whose response will not be stored anyway (which would only release them to the backend after
     * its own round trip). Lossy and bounded: one mark per slot, the slot chosen by the key's hash; a mark lost
     * to another key only means that the key's misses are coalesced again. A stored response clears its mark.
     */
    private final AtomicReferenceArray<PassMark> passMarks = new AtomicReferenceArray<>(PASS_MARKS);

    private static final int PASS_MARKS = 1024;
    static final long PASS_MARK_MILLIS = 5_000;

    private record PassMark(String key, long untilMillis) {}

    /**
     * A cache on the system clock.
     *
     * @param store     where entries live; closed with this cache
     * @param policy    the HTTP rules
     * @param coalescer the in-flight table for misses
     * @param name      this cache's name in {@code Cache-Status}, e.g. the {@code Via} pseudonym
     */
    public HttpCache(ResponseStore store, CachePolicy policy, Coalescer coalescer, String name) {
        this(store, policy, coalescer, name, ProxyClock.system());
    }

    /**
     * As {@link #HttpCache(ResponseStore, CachePolicy, Coalescer, String)}, with the clock whose
     * {@linkplain ProxyClock#millis() wall time} callers pass as {@code nowMillis}.
     */
    public HttpCache(ResponseStore store, CachePolicy policy, Coalescer coalescer, String name, ProxyClock clock) {
        this(store, policy, coalescer, name, clock, null, java.time.Duration.ZERO);
    }

    private HttpCache(
            ResponseStore store,
            CachePolicy policy,
            Coalescer coalescer,
            String name,
            ProxyClock clock,
            SharedCache shared,
            java.time.Duration coalesceTimeout) {
        this.store = Objects.requireNonNull(store, "store");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.coalescer = Objects.requireNonNull(coalescer, "coalescer");
        this.name = Objects.requireNonNull(name, "name");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.hit = CacheStatus.hit(name);
        CacheStatus.Forward[] reasons = CacheStatus.Forward.values();
        this.forwards = new CacheStatus[reasons.length];
        for (CacheStatus.Forward reason : reasons) {
            forwards[reason.ordinal()] = CacheStatus.forward(name, reason);
        }
        this.shared = shared;
        // Last: from here on the cluster's events may call back into this cache.
        this.clusterCoalescing = shared == null || coalesceTimeout.isZero()
                ? null
                : new ClusterCoalescing(this, shared.fills(), shared.executor(), coalesceTimeout);
    }

    /** A cache over {@code store} with the policy and coalescing timeout of {@code config}, on the system clock. */
    public static HttpCache create(CacheConfig config, ResponseStore store, String name) {
        return create(config, store, name, ProxyClock.system());
    }

    /** A cache over {@code store} with the policy and coalescing timeout of {@code config}, on {@code clock}. */
    public static HttpCache create(CacheConfig config, ResponseStore store, String name, ProxyClock clock) {
        return new HttpCache(store, CachePolicy.from(config), new Coalescer(config.coalesceTimeout()), name, clock);
    }

    /**
     * A cache over a store shared by a cluster of instances, with the policy and coalescing timeout of
     * {@code config}, on {@code clock}: misses are coalesced across the cluster too.
     *
     * @param shared the cluster side; closed with this cache
     */
    public static HttpCache create(CacheConfig config, SharedCache shared, String name, ProxyClock clock) {
        return new HttpCache(
                shared.store(),
                CachePolicy.from(config),
                new Coalescer(config.coalesceTimeout()),
                name,
                clock,
                shared,
                config.coalesceTimeout());
    }

    /** The clock this cache's callers read {@code nowMillis} from: {@code clock().millis()}. */
    public ProxyClock clock() {
        return clock;
    }

    public ResponseStore store() {
        return store;
    }

    public CachePolicy policy() {
        return policy;
    }

    public Coalescer coalescer() {
        return coalescer;
    }

    /** The name in {@code Cache-Status}. */
    public String name() {
        return name;
    }

    /** {@code CacheStatus.forward(name(), reason)}, made once per reason. */
    CacheStatus forwarded(CacheStatus.Forward reason) {
        return forwards[reason.ordinal()];
    }

    // ---- the request ----

    /** Finds the stored response for a request and decides what to do with it. */
    public CacheLookup lookup(CacheRequest request, long nowMillis) {
        return lookup(request, nowMillis, false);
    }

    /**
     * As {@link #lookup(CacheRequest, long)}, reading what the store's authority holds now
     * ({@link ResponseStore#getLatest}): after another node said it stored the response.
     */
    CacheLookup lookupLatest(CacheRequest request, long nowMillis) {
        return lookup(request, nowMillis, true);
    }

    private CacheLookup lookup(CacheRequest request, long nowMillis, boolean latest) {
        String primary = CacheKeys.primary(
                request.method(), request.scheme(), request.authority(), request.path(), request.query());
        if (primary == null) {
            CacheDecision pass = new CacheDecision(CacheAction.PASS, CacheStatus.Forward.METHOD, 0, 0);
            return new CacheLookup(request, null, null, null, pass, forwarded(CacheStatus.Forward.METHOD));
        }
        ResponseStore.Found found = find(primary, latest);
        if (found == null) {
            return miss(request, primary, null, CacheStatus.Forward.URI_MISS);
        }
        StoreEntry entry = found.entry();
        String tier = found.tier();
        String entryKey = primary;
        StoredResponse stored;
        if (entry instanceof VaryIndex index) {
            List<Header> selection = policy.varySelection(index.names(), request.headers());
            entryKey = CacheKeys.variant(primary, index, selection);
            ResponseStore.Found variant = find(entryKey, latest);
            if (variant == null
                    || !(variant.entry() instanceof StoredResponse response)
                    || !response.varySelection().equals(selection)) {
                return miss(request, primary, entryKey, CacheStatus.Forward.VARY_MISS);
            }
            stored = response;
            tier = variant.tier();
        } else {
            stored = (StoredResponse) entry;
            if (!stored.varySelection().isEmpty()) {
                return miss(request, primary, null, CacheStatus.Forward.VARY_MISS); // not written by this class
            }
        }
        if (stored.status() == 206 && !covers(request, stored)) {
            // §3.4: what is stored is part of what is asked for; the response will be combined with it
            CacheAction action =
                    CachePolicy.requestDirectives(request.headers()).onlyIfCached()
                            ? CacheAction.GATEWAY_TIMEOUT
                            : CacheAction.COMPLETE;
            CacheDecision complete = new CacheDecision(action, CacheStatus.Forward.PARTIAL, 0, 0);
            return new CacheLookup(
                    request, primary, entryKey, stored, complete, forwarded(CacheStatus.Forward.PARTIAL));
        }
        CacheDecision decision = policy.decide(request.headers(), stored, nowMillis);
        CacheStatus status = decision.forward() == null
                ? hit.withTtlMillis(decision.ttlMillis())
                : forwarded(decision.forward()).withTtlMillis(decision.ttlMillis());
        if (tier != null && decision.forward() == null) {
            status = status.withDetail(tier); // which tier answered: local or shared
        }
        return new CacheLookup(request, primary, entryKey, stored, decision, status);
    }

    /**
     * A lookup that keeps the request away from the cache: it is forwarded as it is, never coalesced, its
     * response never stored and never answered from what is stored ({@code Cache-Status: fwd=bypass}).
     *
     * @param detail why, for {@code Cache-Status; detail}
     */
    public CacheLookup bypass(CacheRequest request, String detail) {
        CacheDecision pass = new CacheDecision(CacheAction.PASS, CacheStatus.Forward.BYPASS, 0, 0);
        return new CacheLookup(
                request,
                null,
                null,
                null,
                pass,
                forwarded(CacheStatus.Forward.BYPASS).withDetail(detail));
    }

    private ResponseStore.Found find(String key, boolean latest) {
        if (!latest) {
            return store.find(key);
        }
        StoreEntry entry = store.getLatest(key);
        return entry == null ? null : new ResponseStore.Found(entry, TieredResponseStore.SHARED);
    }

    /**
     * Joins the misses in flight for the lookup's primary key: on this node through the {@link Coalescer}, and,
     * with a {@link SharedCache}, across the cluster ({@link ClusterCoalescing}). A {@link Coalescer.Leader}
     * goes to the backend; a {@link Coalescer.Follower} waits for a leader here or on another node.
     */
    public Coalescer.Ticket join(CacheLookup lookup) {
        if (clusterCoalescing == null && passMarked(lookup.primaryKey())) {
            return coalescer.leadAlone(lookup.primaryKey()); // its response will not be stored: nobody waits
        }
        Coalescer.Ticket ticket = coalescer.join(lookup.primaryKey());
        if (clusterCoalescing == null || !(ticket instanceof Coalescer.Leader leader)) {
            return ticket;
        }
        return clusterCoalescing.lead(leader, lookup);
    }

    /**
     * The leader of a background revalidation of the lookup's key if nobody, on this node or (with a
     * {@link SharedCache}) in the cluster, revalidates it now; else {@code null}.
     */
    public Coalescer.Leader tryLead(CacheLookup lookup) {
        Coalescer.Leader leader = coalescer.tryLead(lookup.primaryKey());
        if (leader == null || clusterCoalescing == null) {
            return leader;
        }
        return clusterCoalescing.tryLead(leader);
    }

    /**
     * A leader's response was not storable: when the resource itself said so ({@code no-store}, {@code private},
     * not cacheable, useless, {@code Vary: *}), the next misses of its primary key lead alone for a while
     * instead of waiting for each other ({@link #join}). Reasons of the request ({@code Authorization}, a
     * request {@code no-store}) or of the status leave coalescing as it is.
     */
    public void markUncacheable(CacheLookup lookup, Storability storability) {
        String key = lookup.primaryKey();
        if (key == null || !supersedes(storability)) {
            return;
        }
        int slot = passSlot(key);
        long now = clock.millis();
        PassMark mark = passMarks.get(slot);
        if (mark == null || !mark.key().equals(key) || mark.untilMillis() - now < PASS_MARK_MILLIS / 2) {
            passMarks.set(slot, new PassMark(key, now + PASS_MARK_MILLIS)); // renewed at most twice per period
        }
    }

    /** Whether {@code key}'s last response forbade storing, recently: see {@link #markUncacheable}. */
    boolean passMarked(String key) {
        PassMark mark = passMarks.get(passSlot(key));
        return mark != null
                && mark.untilMillis() - clock.millis() > 0
                && mark.key().equals(key);
    }

    private void clearPassMark(String key) {
        int slot = passSlot(key);
        PassMark mark = passMarks.get(slot);
        if (mark != null && mark.key().equals(key)) {
            passMarks.compareAndSet(slot, mark, null);
        }
    }

    private static int passSlot(String key) {
        int h = key.hashCode();
        return (h ^ (h >>> 16)) & (PASS_MARKS - 1);
    }

    private CacheLookup miss(CacheRequest request, String primary, String entryKey, CacheStatus.Forward reason) {
        CacheDecision decision = CachePolicy.noStoredResponse(request.headers(), reason);
        return new CacheLookup(request, primary, entryKey, null, decision, forwarded(reason));
    }

    // ---- answering from the cache ----

    /** The answer for a lookup that {@linkplain CacheAction#servesStored() serves a stored response}. */
    public CacheAnswer answer(CacheLookup lookup, long nowMillis) {
        if (lookup.stored() == null) {
            throw new IllegalStateException("no stored response for " + lookup.decision());
        }
        return answer(lookup.request(), lookup.stored(), nowMillis, false);
    }

    /**
     * The answer to {@code request} from {@code stored}: the client's preconditions (304, 412,
     * {@link Conditionals#evaluate}), then its {@code Range} (206, 416, {@link ByteRanges}), else the whole
     * response; {@code Age} as of {@code nowMillis}; no body for {@code HEAD}.
     *
     * @param validated whether {@code stored} was just validated with the backend; if not, the fields named by
     *                  a qualified {@code no-cache} are left out (RFC 9111 §5.2.2.4)
     */
    public CacheAnswer answer(CacheRequest request, StoredResponse stored, long nowMillis, boolean validated) {
        String method = request.method();
        HttpFields requestHeaders = request.headers();
        String age = Long.toString(CachePolicy.currentAgeMillis(stored, nowMillis) / 1000);
        int condition = Conditionals.evaluate(method, requestHeaders, stored);
        if (condition == 412) {
            HttpFields.Mutable headers = HttpFields.build(2);
            headers.put(HttpHeader.CONTENT_LENGTH, "0");
            return new CacheAnswer(412, headers, ByteBuffer.allocate(0));
        }
        if (condition == 304) {
            HttpFields.Mutable headers = HttpFields.build(NOT_MODIFIED_FIELDS.size() + 1);
            for (Header header : stored.headers()) {
                for (String field : NOT_MODIFIED_FIELDS) {
                    if (field.equalsIgnoreCase(header.name())) {
                        headers.add(header.name(), header.value());
                    }
                }
            }
            headers.put(HttpHeader.AGE, age);
            return new CacheAnswer(304, headers, ByteBuffer.allocate(0));
        }
        PartialContent.Piece piece = stored.status() == 206 ? PartialContent.piece(stored) : null;
        if (stored.status() == 206 && !covers(request, stored)) {
            return null; // the stored piece does not hold what is asked for
        }
        StoredResponse.Derived derived = stored.derived();
        HttpFields.Mutable headers = fieldsToSend(stored, validated);
        // add, not put, when the stored fields cannot hold the field (put searches with an iterator)
        if (derived.hasAge) {
            headers.put(HttpHeader.AGE, age);
        } else {
            headers.add(HttpHeader.AGE, age);
        }
        boolean head = "HEAD".equals(method);
        int length = stored.bodyLength();
        String range = requestHeaders.get(HttpHeader.RANGE);
        if (range != null
                && "GET".equals(method)
                && (stored.status() == 200 || piece != null)
                && Conditionals.ifRangeHolds(requestHeaders.get(HttpHeader.IF_RANGE), stored)) {
            long complete = piece == null ? length : piece.completeLength();
            long offset = piece == null ? 0 : piece.first(); // where the stored bytes start
            ByteRanges.Result result = ByteRanges.parse(range, complete);
            if (result.kind() == ByteRanges.Kind.UNSATISFIABLE) {
                HttpFields.Mutable unsatisfiable = HttpFields.build(3);
                unsatisfiable.put(HttpHeader.CONTENT_RANGE, result.contentRange(complete));
                unsatisfiable.put(HttpHeader.CONTENT_LENGTH, "0");
                return new CacheAnswer(416, unsatisfiable, ByteBuffer.allocate(0));
            }
            if (result.kind() == ByteRanges.Kind.PARTIAL) {
                headers.put(HttpHeader.CONTENT_RANGE, result.contentRange(complete));
                headers.put(HttpHeader.CONTENT_LENGTH, Long.toString(result.length()));
                ByteBuffer body = ByteBuffer.wrap(
                                stored.bodyArray(), (int) (result.first() - offset), (int) result.length())
                        .slice();
                return new CacheAnswer(206, headers, body);
            }
            if (result.kind() == ByteRanges.Kind.MULTIPART) {
                return multipart(headers, stored, result.parts(), complete, offset);
            }
        }
        if (stored.status() != 204) {
            if (derived.hasContentLength) {
                headers.put(HttpHeader.CONTENT_LENGTH, Integer.toString(length));
            } else {
                headers.add(derived.contentLength);
            }
        }
        // The stored array itself, not a read-only view: the container then writes from it, with no copy
        // per hit (a read-only buffer hides its array). CacheAnswer's contract forbids writing to it.
        return new CacheAnswer(
                stored.status(), headers, head ? ByteBuffer.allocate(0) : ByteBuffer.wrap(stored.bodyArray()));
    }

    /**
     * For a {@link CacheAction#COMPLETE} lookup (RFC 9111 §3.4): the one range of bytes the stored piece lacks
     * to answer the request, and the validator to send it under, so that the origin answers the rest of
     * the same representation ({@code If-Range}) or else the whole current one. {@code null} when no one range
     * does it (the piece lies inside what is asked for, or apart from it), when the piece has no strong
     * validator, or when the result would not fit an entry.
     *
     * @return {@code [Range value, If-Range value]}, or {@code null}
     */
    public String[] missingRange(CacheLookup lookup) {
        StoredResponse stored = lookup.stored();
        CacheRequest request = lookup.request();
        if (lookup.action() != CacheAction.COMPLETE || stored == null || !"GET".equals(request.method())) {
            return null;
        }
        PartialContent.Piece piece = PartialContent.piece(stored);
        if (piece == null || stored.status() != 206) {
            return null;
        }
        long first = 0;
        long last = piece.completeLength() - 1;
        String range = request.headers().get(HttpHeader.RANGE);
        if (range != null && Conditionals.ifRangeHolds(request.headers().get(HttpHeader.IF_RANGE), stored)) {
            ByteRanges.Result result = ByteRanges.parse(range, piece.completeLength());
            if (!result.parts().isEmpty()) {
                first = Long.MAX_VALUE;
                last = -1;
                for (ByteRanges.Part part : result.parts()) {
                    first = Math.min(first, part.first());
                    last = Math.max(last, part.last());
                }
            }
        }
        long from;
        long to;
        if (first >= piece.first() && first <= piece.last() + 1 && last > piece.last()) {
            from = piece.last() + 1; // the piece holds the start: ask for the rest
            to = last;
        } else if (last <= piece.last() && last >= piece.first() - 1 && first < piece.first()) {
            from = first; // the piece holds the end: ask for the beginning
            to = piece.first() - 1;
        } else {
            return null;
        }
        long union = Math.max(last, piece.last()) - Math.min(first, piece.first()) + 1;
        if (union > store.maxEntryBytes()) {
            return null;
        }
        String validator = stored.derived().etag;
        if (validator == null || Conditionals.isWeak(validator)) {
            validator = null;
            if (PartialContent.sameStrongValidator(stored, stored)) {
                validator = stored.header("Last-Modified");
            }
        }
        return validator == null ? null : new String[] {"bytes=" + from + "-" + to, validator};
    }

    /**
     * Whether the backend's response to a {@link #missingRange} request is that range of the stored piece's
     * representation: a {@code 206} of exactly those bytes, of the same complete length, under the same
     * validator. Anything else answers another question than the client's.
     */
    public boolean completesPiece(CacheLookup lookup, String askedRange, int status, HttpFields backendHeaders) {
        StoredResponse stored = lookup.stored();
        if (status != 206 || stored == null) {
            return false;
        }
        PartialContent.Piece received = PartialContent.parse(backendHeaders.get(HttpHeader.CONTENT_RANGE));
        PartialContent.Piece piece = PartialContent.piece(stored);
        if (received == null
                || piece == null
                || received.completeLength() != piece.completeLength()
                || !askedRange.equals("bytes=" + received.first() + "-" + received.last())) {
            return false;
        }
        String etag = stored.derived().etag;
        if (etag != null && !Conditionals.isWeak(etag)) {
            String newEtag = backendHeaders.get(HttpHeader.ETAG);
            return newEtag != null && Conditionals.strongMatch(newEtag.trim(), etag);
        }
        String lastModified = backendHeaders.get(HttpHeader.LAST_MODIFIED);
        return lastModified != null && lastModified.equals(stored.header("Last-Modified"));
    }

    /**
     * Combines the backend's {@code 206} of the bytes a stored piece lacked with that piece (RFC 9111 §3.4),
     * stores the result when it may be stored, and answers the request from it, as if it had all been stored.
     *
     * @return the answer and the combined response; {@code null} when they do not combine after all
     */
    public Completion complete(
            CacheLookup lookup,
            HttpFields responseHeaders,
            byte[] body,
            long requestTimeMillis,
            long responseTimeMillis,
            long nowMillis) {
        StoreResult result = store(lookup, 206, responseHeaders, body, requestTimeMillis, responseTimeMillis);
        StoredResponse combined = result.isStored() ? result.stored() : null;
        if (combined == null) { // not storable (no-store, too large...), yet the client's answer is the combination
            StoredResponse received = new StoredResponse(
                    206,
                    policy.headersToStore(responseHeaders),
                    body,
                    requestTimeMillis,
                    responseTimeMillis,
                    lookup.stored().varySelection());
            combined = PartialContent.combine(lookup.stored(), received);
        }
        if (combined == null) {
            return null;
        }
        CacheAnswer answer = answer(lookup.request(), combined, nowMillis, true);
        return answer == null ? null : new Completion(answer, result.isStored() ? combined : null);
    }

    /**
     * What {@link #complete} gives.
     *
     * @param answer the client's answer
     * @param stored the combined response as stored, or {@code null} when it was not stored
     */
    public record Completion(CacheAnswer answer, StoredResponse stored) {}

    /**
     * Whether a stored {@code 206} holds what the request asks for: a {@code GET} whose {@code Range} (with an
     * {@code If-Range} that holds) is unsatisfiable, or whose every range lies inside the stored piece. Without
     * a {@code Range} the request wants the whole representation, which a piece is not.
     */
    static boolean covers(CacheRequest request, StoredResponse stored) {
        PartialContent.Piece piece = PartialContent.piece(stored);
        String range = request.headers().get(HttpHeader.RANGE);
        if (piece == null
                || range == null
                || !"GET".equals(request.method())
                || !Conditionals.ifRangeHolds(request.headers().get(HttpHeader.IF_RANGE), stored)) {
            return false;
        }
        ByteRanges.Result result = ByteRanges.parse(range, piece.completeLength());
        if (result.kind() == ByteRanges.Kind.UNSATISFIABLE) {
            return true;
        }
        if (result.parts().isEmpty()) {
            return false; // FULL: the whole representation
        }
        for (ByteRanges.Part part : result.parts()) {
            if (!piece.covers(part.first(), part.last())) {
                return false;
            }
        }
        return true;
    }

    /**
     * A {@code 206} of {@code multipart/byteranges} (RFC 9110 §14.6): each range a part with the stored
     * {@code Content-Type} and its {@code Content-Range}, in the order asked, under a random boundary.
     */
    private static CacheAnswer multipart(
            HttpFields.Mutable headers,
            StoredResponse stored,
            List<ByteRanges.Part> parts,
            long complete,
            long offset) {
        String contentType = stored.header("Content-Type");
        String boundary = Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE)
                + Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (ByteRanges.Part part : parts) {
            StringBuilder head =
                    new StringBuilder(96).append("--").append(boundary).append("\r\n");
            if (contentType != null) {
                head.append("Content-Type: ").append(contentType).append("\r\n");
            }
            head.append("Content-Range: bytes ")
                    .append(part.first())
                    .append('-')
                    .append(part.last())
                    .append('/')
                    .append(complete)
                    .append("\r\n\r\n");
            out.writeBytes(head.toString().getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            out.write(stored.bodyArray(), (int) (part.first() - offset), (int) part.length());
            out.writeBytes(new byte[] {'\r', '\n'});
        }
        out.writeBytes(("--" + boundary + "--\r\n").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        byte[] body = out.toByteArray();
        headers.remove(HttpHeader.CONTENT_RANGE);
        headers.put(HttpHeader.CONTENT_TYPE, "multipart/byteranges; boundary=" + boundary);
        headers.put(HttpHeader.CONTENT_LENGTH, Integer.toString(body.length));
        return new CacheAnswer(206, headers, ByteBuffer.wrap(body));
    }

    /**
     * The stored fields for the client: the entry's pre-encoded fields (built once per entry), minus those a
     * qualified {@code no-cache} withholds; room for what the answer and the pipeline add.
     */
    private HttpFields.Mutable fieldsToSend(StoredResponse stored, boolean validated) {
        List<String> withheld =
                validated ? List.of() : policy.responseDirectives(stored).noCacheFields();
        HttpField[] fields = stored.derived().fields;
        HttpFields.Mutable headers = HttpFields.build(fields.length + 5);
        for (HttpField field : fields) {
            if (withheld.isEmpty() || !withheld.contains(field.getName().toLowerCase(Locale.ROOT))) {
                headers.add(field);
            }
        }
        return headers;
    }

    /**
     * The answer for a coalesced follower from its leader's stored response, or {@code null} when that
     * response was selected by other {@code Vary} header values: the follower then goes to the backend itself.
     * The leader's response arrived after the follower's request did, so it counts as validated for it
     * ({@code no-cache}, {@code max-age=0} and qualified {@code no-cache} are satisfied).
     */
    public CacheAnswer answerFollower(CacheRequest request, StoredResponse leaderStored, long nowMillis) {
        List<Header> selection = policy.varySelection(leaderStored.varyNames(), request.headers());
        if (!selection.equals(leaderStored.varySelection())) {
            return null;
        }
        return answer(request, leaderStored, nowMillis, true);
    }

    /**
     * Whether the stored response of a lookup may answer when the backend failed or answered 500, 502,
     * 503 or 504 ({@code stale-if-error}, RFC 5861 §4).
     */
    public boolean serveStaleOnError(CacheLookup lookup, long nowMillis) {
        return lookup.stored() != null
                && policy.mayServeStaleOnError(lookup.request().headers(), lookup.stored(), nowMillis);
    }

    /**
     * Whether the backend could not be reached and the lookup's stored response may not stand in for it: the
     * client then gets 504 (RFC 9111 §4.2.4, {@link CachePolicy#mustNotServeWhenDisconnected}).
     */
    public boolean gatewayTimeoutWhenDisconnected(CacheLookup lookup, long nowMillis) {
        return lookup.stored() != null && policy.mustNotServeWhenDisconnected(lookup.stored(), nowMillis);
    }

    // ---- the backend's response ----

    /**
     * Whether the backend's response may be stored, judged on its headers, before its body: the pipeline
     * collects the body only when this is {@link Storability#STORABLE}. A {@code Content-Length} above the
     * per-entry limit gives {@link Storability#TOO_LARGE}.
     */
    public Storability storability(CacheLookup lookup, int status, HttpFields responseHeaders) {
        Storability storability = policy.storability(
                storingMethod(lookup, responseHeaders), lookup.request().headers(), status, responseHeaders);
        if (storability.storable()) {
            long length;
            try {
                length = responseHeaders.getLongField(HttpHeader.CONTENT_LENGTH);
            } catch (NumberFormatException e) {
                length = -1; // the body will tell
            }
            if (length > store.maxEntryBytes()) {
                return Storability.TOO_LARGE;
            }
        }
        return storability;
    }

    /**
     * Stores the backend's complete response if it may be stored. A response that the resource forbids
     * storing ({@code no-store}, {@code private}, ...) removes the one stored for the same request, which it
     * supersedes; a 5xx never does, so that {@code stale-if-error} can still hide it.
     *
     * @param lookup             the lookup of the request that was forwarded
     * @param status             the backend's status
     * @param responseHeaders    the response headers (see "What is stored" above)
     * @param body               the whole body; owned by the cache from now on
     * @param requestTimeMillis  when the request was sent to the backend
     * @param responseTimeMillis when the response headers arrived
     */
    public StoreResult store(
            CacheLookup lookup,
            int status,
            HttpFields responseHeaders,
            byte[] body,
            long requestTimeMillis,
            long responseTimeMillis) {
        String primary = lookup.primaryKey();
        String method = storingMethod(lookup, responseHeaders);
        if (primary == null && "GET".equals(method)) {
            primary = lookup.request().uri(); // a POST response that is the GET response of its target
        }
        Storability storability = primary == null
                ? Storability.METHOD
                : policy.storability(method, lookup.request().headers(), status, responseHeaders);
        if (!storability.storable()) {
            if (lookup.entryKey() != null && status < 500 && supersedes(storability)) {
                store.remove(lookup.entryKey());
            }
            return new StoreResult(storability, null);
        }
        List<String> names = CacheKeys.varyNames(responseHeaders.getValuesList(HttpHeader.VARY));
        List<Header> selection = policy.varySelection(names, lookup.request().headers());
        StoredResponse response = new StoredResponse(
                status, policy.headersToStore(responseHeaders), body, requestTimeMillis, responseTimeMillis, selection);
        String key = primary;
        if (!names.isEmpty()) {
            StoreEntry current = store.get(primary);
            VaryIndex index =
                    current instanceof VaryIndex existing && existing.names().equals(names)
                            ? existing
                            : new VaryIndex(names, ThreadLocalRandom.current().nextLong());
            if (index != current) {
                store.put(primary, index);
            }
            key = CacheKeys.variant(primary, index, selection);
        }
        if (status == 206) {
            StoredResponse combined = combineWithStored(key, response);
            if (combined == null) {
                return new StoreResult(Storability.STATUS, null); // a 206 whose body is not its Content-Range
            }
            response = combined;
        }
        if (!store.put(key, response)) {
            return new StoreResult(Storability.TOO_LARGE, null); // the store counted it and removed the old one
        }
        clearPassMark(primary); // cacheable again: its misses are coalesced again
        return new StoreResult(Storability.STORABLE, response);
    }

    /**
     * A {@code 206} combined with what is stored under {@code key} (RFC 9111 §3.4, {@link PartialContent}): the
     * union of both pieces, as a {@code 200} once complete; the stored complete {@code 200} itself when it has
     * the same strong validator (a piece never replaces the whole); the new response as it is when they do
     * not combine; {@code null} when the 206's body is not the piece its {@code Content-Range} names. A
     * {@code 200} is returned as it is.
     */
    private StoredResponse combineWithStored(String key, StoredResponse received) {
        if (received.status() != 206) {
            return received;
        }
        PartialContent.Piece piece = PartialContent.piece(received);
        if (piece == null || piece.length() != received.bodyLength()) {
            return null;
        }
        StoreEntry current = store.get(key);
        if (current instanceof StoredResponse existing && existing.status() == 200) {
            if (PartialContent.sameStrongValidator(existing, received)
                    && existing.bodyLength() == piece.completeLength()) {
                return existing;
            }
        } else if (current instanceof StoredResponse existing && existing.status() == 206) {
            StoredResponse combined = PartialContent.combine(existing, received);
            if (combined != null) {
                return combined;
            }
        }
        return piece.complete() ? PartialContent.asComplete(received) : received;
    }

    /**
     * Whether the response to a {@code POST} may be stored as the response to a {@code GET} of its target
     * (RFC 9110 §9.3.3, RFC 9111 §4): it has explicit freshness ({@code s-maxage}, {@code max-age} or
     * {@code Expires}) and a {@code Content-Location} that is the request's target URI. Later {@code GET}
     * and {@code HEAD} requests are then answered from it. Whether it is storable otherwise (status,
     * {@code no-store}, {@code Authorization}...) is still {@link #storability}'s to say.
     *
     * @param responseHeaders the response headers as the client gets them ({@code Content-Location} rewritten
     *                        from the backend's address to the proxy's)
     */
    public boolean storesPostAsGet(CacheLookup lookup, HttpFields responseHeaders) {
        CacheRequest request = lookup.request();
        if (!"POST".equals(request.method())) {
            return false;
        }
        CacheControl cc = policy.responseDirectives(responseHeaders);
        boolean explicit = cc.sMaxAge() >= 0
                || cc.maxAge() >= 0
                || (!cc.targeted() && responseHeaders.contains(HttpHeader.EXPIRES));
        if (!explicit) {
            return false;
        }
        String target = request.uri();
        String location = Invalidation.sameOriginKey(target, responseHeaders.get(HttpHeader.CONTENT_LOCATION));
        return target.equals(location);
    }

    /** {@code GET} for a {@code POST} that {@link #storesPostAsGet stores as a GET}, else the request's method. */
    private String storingMethod(CacheLookup lookup, HttpFields responseHeaders) {
        return storesPostAsGet(lookup, responseHeaders)
                ? "GET"
                : lookup.request().method();
    }

    /**
     * The backend's response was storable but its body passed the per-entry limit while streaming
     * ({@link BodyBuffer#overflowed()}): it is not stored, and the response stored for the same request,
     * which it supersedes, is removed.
     */
    public StoreResult discard(CacheLookup lookup) {
        if (lookup.entryKey() != null) {
            store.remove(lookup.entryKey());
        }
        return new StoreResult(Storability.TOO_LARGE, null);
    }

    /**
     * Whether a response that may not be stored makes the stored one outdated: yes when the resource itself
     * now says not to cache it; no when only this request could not store it (another method,
     * {@code no-store} or {@code Authorization} in the request, a {@code Set-Cookie} refused by configuration), and no for
     * statuses that are not stored at all (a 304, a 206, a 5xx that {@code stale-if-error} may want to hide).
     */
    private static boolean supersedes(Storability storability) {
        return switch (storability) {
            case NO_STORE, PRIVATE, NOT_CACHEABLE, USELESS, VARY_STAR -> true;
            default -> false;
        };
    }

    /**
     * Freshens the stored response of a {@link CacheAction#VALIDATE} lookup with the backend's 304
     * (RFC 9111 §4.3.4) and stores the result.
     *
     * @return the freshened response, to answer the client with; {@code null} when the 304 is not about the
     *     stored response, and the request must then be sent again without conditions
     */
    public StoredResponse freshen(
            CacheLookup lookup, HttpFields notModifiedHeaders, long requestTimeMillis, long responseTimeMillis) {
        StoredResponse stored = lookup.stored();
        if (stored == null
                || lookup.entryKey() == null
                || !Conditionals.notModifiedSelects(stored, notModifiedHeaders)) {
            return null;
        }
        StoredResponse freshened =
                Conditionals.freshen(stored, notModifiedHeaders, requestTimeMillis, responseTimeMillis);
        CacheControl cc = policy.responseDirectives(freshened);
        if ((cc.noStore() && !cc.mustUnderstand()) || cc.isPrivate()) {
            store.remove(lookup.entryKey());
        } else {
            store.put(lookup.entryKey(), freshened);
        }
        return freshened;
    }

    // ---- invalidation and purge ----

    /**
     * Invalidates what an unsafe request's success made outdated (RFC 9111 §4.4, {@link Invalidation}):
     * the target URI and same-origin {@code Location}/{@code Content-Location}, each with all its variants.
     *
     * @return how many primary keys were invalidated (0 for safe methods and error statuses)
     */
    public int invalidate(CacheRequest request, int status, HttpFields responseHeaders) {
        if (!Invalidation.isUnsafe(request.method())) {
            return 0;
        }
        List<String> keys = Invalidation.targets(request.method(), status, request.uri(), responseHeaders);
        keys.forEach(store::remove);
        return keys.size();
    }

    /**
     * Removes every entry whose URI starts with {@code uriPrefix}, such as {@code https://example.com/api/};
     * the prefix is compared with {@link CacheKeys#uri normalised} keys, so give it in that form (lower-case
     * scheme and host, no default port). May visit every entry.
     *
     * @return how many entries were removed, variants and indexes included
     */
    public int purge(String uriPrefix) {
        return store.removeByPrefix(uriPrefix);
    }

    /** Closes the store, and with a {@link SharedCache} stops listening to the cluster first. */
    @Override
    public void close() {
        if (shared != null) {
            shared.close(); // closes the store too
        } else {
            store.close();
        }
    }
}
