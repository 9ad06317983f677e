package dev.proxyfilter.cache;

import dev.proxyfilter.config.CacheConfig;
import dev.proxyfilter.time.ProxyClock;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
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
 *     {@link #answer(CacheRequest, CachedResponse, long, boolean)}; a 500/502/503/504 or a failure may be
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
 * cookie and {@code Cache-Status}), without hop-by-hop fields, {@code Set-Cookie} and {@code Content-Length};
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
    /** The cluster side, or {@code null} for a cache of this instance alone. */
    private final SharedCache shared;
    /** Coalescing across nodes, or {@code null} without a cluster or with coalescing off. */
    private final ClusterCoalescing clusterCoalescing;

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
            return new CacheLookup(
                    request, null, null, null, pass, CacheStatus.forward(name, CacheStatus.Forward.METHOD));
        }
        ResponseStore.Found found = find(primary, latest);
        if (found == null) {
            return miss(request, primary, null, CacheStatus.Forward.URI_MISS);
        }
        CacheEntry entry = found.entry();
        String tier = found.tier();
        String entryKey = primary;
        CachedResponse stored;
        if (entry instanceof VaryIndex index) {
            List<Header> selection = CacheKeys.varySelection(index.names(), request.headers());
            entryKey = CacheKeys.variant(primary, index, selection);
            ResponseStore.Found variant = find(entryKey, latest);
            if (variant == null
                    || !(variant.entry() instanceof CachedResponse response)
                    || !response.varySelection().equals(selection)) {
                return miss(request, primary, entryKey, CacheStatus.Forward.VARY_MISS);
            }
            stored = response;
            tier = variant.tier();
        } else {
            stored = (CachedResponse) entry;
            if (!stored.varySelection().isEmpty()) {
                return miss(request, primary, null, CacheStatus.Forward.VARY_MISS); // not written by this class
            }
        }
        CacheDecision decision = policy.decide(request.headers(), stored, nowMillis);
        CacheStatus status = decision.forward() == null
                ? hit.withTtlMillis(decision.ttlMillis())
                : CacheStatus.forward(name, decision.forward()).withTtlMillis(decision.ttlMillis());
        if (tier != null && decision.forward() == null) {
            status = status.withDetail(tier); // which tier answered: local or shared
        }
        return new CacheLookup(request, primary, entryKey, stored, decision, status);
    }

    private ResponseStore.Found find(String key, boolean latest) {
        if (!latest) {
            return store.find(key);
        }
        CacheEntry entry = store.getLatest(key);
        return entry == null ? null : new ResponseStore.Found(entry, TieredResponseStore.SHARED);
    }

    /**
     * Joins the misses in flight for the lookup's primary key: on this node through the {@link Coalescer}, and,
     * with a {@link SharedCache}, across the cluster ({@link ClusterCoalescing}). A {@link Coalescer.Leader}
     * goes to the backend; a {@link Coalescer.Follower} waits for a leader here or on another node.
     */
    public Coalescer.Ticket join(CacheLookup lookup) {
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

    private CacheLookup miss(CacheRequest request, String primary, String entryKey, CacheStatus.Forward reason) {
        CacheDecision decision = CachePolicy.noStoredResponse(request.headers(), reason);
        return new CacheLookup(request, primary, entryKey, null, decision, CacheStatus.forward(name, reason));
    }

    // ---- answering from the cache ----

    /** The answer for a lookup that {@linkplain CacheAction#servesStored() serves a stored response}. */
    public CachedAnswer answer(CacheLookup lookup, long nowMillis) {
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
    public CachedAnswer answer(CacheRequest request, CachedResponse stored, long nowMillis, boolean validated) {
        String method = request.method();
        HttpFields requestHeaders = request.headers();
        String age = Long.toString(CachePolicy.currentAgeMillis(stored, nowMillis) / 1000);
        int condition = Conditionals.evaluate(method, requestHeaders, stored);
        if (condition == 412) {
            HttpFields.Mutable headers = HttpFields.build(2);
            headers.put(HttpHeader.CONTENT_LENGTH, "0");
            return new CachedAnswer(412, headers, ByteBuffer.allocate(0));
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
            return new CachedAnswer(304, headers, ByteBuffer.allocate(0));
        }
        CachedResponse.Derived derived = stored.derived();
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
                && stored.status() == 200
                && Conditionals.ifRangeHolds(requestHeaders.get(HttpHeader.IF_RANGE), stored)) {
            ByteRanges.Result result = ByteRanges.parse(range, length);
            if (result.kind() == ByteRanges.Kind.UNSATISFIABLE) {
                HttpFields.Mutable unsatisfiable = HttpFields.build(3);
                unsatisfiable.put(HttpHeader.CONTENT_RANGE, result.contentRange(length));
                unsatisfiable.put(HttpHeader.CONTENT_LENGTH, "0");
                return new CachedAnswer(416, unsatisfiable, ByteBuffer.allocate(0));
            }
            if (result.kind() == ByteRanges.Kind.PARTIAL) {
                headers.put(HttpHeader.CONTENT_RANGE, result.contentRange(length));
                headers.put(HttpHeader.CONTENT_LENGTH, Long.toString(result.length()));
                ByteBuffer body = ByteBuffer.wrap(stored.bodyArray(), (int) result.first(), (int) result.length())
                        .slice();
                return new CachedAnswer(206, headers, body);
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
        // per hit (a read-only buffer hides its array). CachedAnswer's contract forbids writing to it.
        return new CachedAnswer(
                stored.status(), headers, head ? ByteBuffer.allocate(0) : ByteBuffer.wrap(stored.bodyArray()));
    }

    /**
     * The stored fields for the client: the entry's pre-encoded fields (built once per entry), minus those a
     * qualified {@code no-cache} withholds; room for what the answer and the pipeline add.
     */
    private static HttpFields.Mutable fieldsToSend(CachedResponse stored, boolean validated) {
        List<String> withheld = validated ? List.of() : stored.cacheControl().noCacheFields();
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
    public CachedAnswer answerFollower(CacheRequest request, CachedResponse leaderStored, long nowMillis) {
        List<Header> selection = CacheKeys.varySelection(leaderStored.varyNames(), request.headers());
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

    // ---- the backend's response ----

    /**
     * Whether the backend's response may be stored, judged on its headers, before its body: the pipeline
     * collects the body only when this is {@link Storability#STORABLE}. A {@code Content-Length} above the
     * per-entry limit gives {@link Storability#TOO_LARGE}.
     */
    public Storability storability(CacheLookup lookup, int status, HttpFields responseHeaders) {
        Storability storability =
                policy.storability(lookup.request().method(), lookup.request().headers(), status, responseHeaders);
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
        Storability storability = primary == null
                ? Storability.METHOD
                : policy.storability(lookup.request().method(), lookup.request().headers(), status, responseHeaders);
        if (!storability.storable()) {
            if (lookup.entryKey() != null && status < 500 && supersedes(storability)) {
                store.remove(lookup.entryKey());
            }
            return new StoreResult(storability, null);
        }
        List<String> names = CacheKeys.varyNames(responseHeaders.getValuesList(HttpHeader.VARY));
        List<Header> selection = CacheKeys.varySelection(names, lookup.request().headers());
        CachedResponse response = new CachedResponse(
                status,
                CachePolicy.headersToStore(responseHeaders),
                body,
                requestTimeMillis,
                responseTimeMillis,
                selection);
        String key = primary;
        if (!names.isEmpty()) {
            CacheEntry current = store.get(primary);
            VaryIndex index =
                    current instanceof VaryIndex existing && existing.names().equals(names)
                            ? existing
                            : new VaryIndex(names, ThreadLocalRandom.current().nextLong());
            if (index != current) {
                store.put(primary, index);
            }
            key = CacheKeys.variant(primary, index, selection);
        }
        if (!store.put(key, response)) {
            return new StoreResult(Storability.TOO_LARGE, null); // the store counted it and removed the old one
        }
        return new StoreResult(Storability.STORABLE, response);
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
     * {@code no-store} or {@code Authorization} in the request, a personal {@code Set-Cookie}), and no for
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
    public CachedResponse freshen(
            CacheLookup lookup, HttpFields notModifiedHeaders, long requestTimeMillis, long responseTimeMillis) {
        CachedResponse stored = lookup.stored();
        if (stored == null
                || lookup.entryKey() == null
                || !Conditionals.notModifiedSelects(stored, notModifiedHeaders)) {
            return null;
        }
        CachedResponse freshened =
                Conditionals.freshen(stored, notModifiedHeaders, requestTimeMillis, responseTimeMillis);
        CacheControl cc = freshened.cacheControl();
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
