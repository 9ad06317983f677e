package dev.proxyfilter.cache;

import dev.proxyfilter.config.CacheConfig;
import dev.proxyfilter.http.Header;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;

/**
 * The HTTP caching rules of a shared cache (RFC 9111, with RFC 5861's stale extensions), as pure functions:
 * no I/O, no state, and the clock passed in as {@code nowMillis}, the way OkHttp's
 * {@code CacheStrategy.Factory(nowMillis, ...)} takes it. Tests give any time they like and never sleep.
 *
 * <h2>Storing (§3)</h2>
 * {@link #storability} lets a response be stored when all of these hold:
 * <ul>
 * <li>the method is {@code GET} ({@code HEAD} is answered from a stored {@code GET});</li>
 * <li>the request has no {@code no-store};</li>
 * <li>the status is final: 200..599, except 304 (which only updates, §4.3.4); a 206 only as one piece
 *     of a known length ({@link PartialContent}, §3.3); a status this cache does not understand (not registered in RFC 9110) only with an
 *     explicit lifetime ({@code max-age}, {@code s-maxage}, {@code Expires}), and such a response is never
 *     served stale; under {@code must-understand}, only a status it understands;</li>
 * <li>the response has no {@code no-store} (ignored under {@code must-understand}, §5.2.2.3) and no
 *     unqualified {@code private}; qualified {@code private="F"} stores the response without field F;</li>
 * <li>a request with {@code Authorization} only when the response says {@code public}, {@code s-maxage} or
 *     {@code must-revalidate} (§3.5);</li>
 * <li>{@code Set-Cookie} does not stop it (RFC 9111 allows storing it, and a response that sets a cookie
 *     for everybody is what a cacheable response with one means); the cookie is stored and served with it,
 *     unless {@code private="Set-Cookie"} or {@code no-cache="Set-Cookie"} withholds the field, or
 *     {@code private} the whole response. {@code cache.store-set-cookie=false} refuses such responses, as
 *     nginx and Varnish do by default;</li>
 * <li>no {@code Vary: *};</li>
 * <li>explicit freshness ({@code s-maxage}, {@code max-age}, {@code Expires}, {@code public}) or a
 *     heuristically cacheable status (200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501);</li>
 * <li>something could use it later: a freshness lifetime above 0, a validator, or a stale extension.</li>
 * </ul>
 *
 * <h2>Freshness (§4.2)</h2>
 * The lifetime is {@code s-maxage}, else {@code max-age}, else {@code Expires − Date}, else heuristic: 10% of
 * {@code Date − Last-Modified}, capped (24 h by default), only for heuristically cacheable statuses or
 * {@code public} responses. URIs with a query get heuristic freshness too: RFC 2616's exception for them is
 * gone from RFC 7234 and 9111. The age is {@link #currentAgeMillis exactly §4.2.3}, in milliseconds.
 *
 * <h2>Choosing (§4, §5.2.1, RFC 5861)</h2>
 * {@link #decide} applies the request's {@code no-cache} (or {@code Pragma: no-cache} without
 * {@code Cache-Control}), {@code max-age}, {@code min-fresh}, {@code max-stale} and {@code only-if-cached}
 * and the response's {@code no-cache}, {@code must-revalidate}, {@code proxy-revalidate}, {@code s-maxage}
 * and {@code stale-while-revalidate}; {@link #mayServeStaleOnError} applies {@code stale-if-error}.
 * Qualified {@code no-cache="F"} is served without validation minus field F (see {@link HttpCache#answer}).
 *
 * <h2>Targeted cache control (RFC 9213)</h2>
 * Every rule above reads the response's directives through {@link #responseDirectives}: the first field of the
 * target list ({@code cache.targeted-field} if configured, then {@code CDN-Cache-Control}) that is present and
 * valid, as a Structured Field Dictionary, governs alone, and {@code Cache-Control} and {@code Expires} are then
 * ignored; without one, {@code Cache-Control} governs as usual. Only response directives can be targeted.
 */
public final class CachePolicy {
    private static final CacheControl PRAGMA_NO_CACHE = CacheControl.parse("no-cache");

    /** Never stored with a response: hop-by-hop fields (RFC 9110 §7.6.1), proxy credentials, cookies. */
    private static final Set<String> NOT_STORED = Set.of(
            "connection",
            "keep-alive",
            "proxy-connection",
            "te",
            "transfer-encoding",
            "trailer",
            "upgrade",
            "proxy-authenticate",
            "proxy-authentication-info",
            "proxy-authorization",
            "content-length");

    /** Stored only with {@code cache.store-set-cookie} (the default), and not when a directive withholds them. */
    private static final Set<String> COOKIES = Set.of("set-cookie", "set-cookie2");

    /** The targeted field every cache of this kind honours (RFC 9213 §3). */
    public static final String CDN_CACHE_CONTROL = "CDN-Cache-Control";

    private final long maxHeuristicMillis;
    /** The target list, most specific first; one instance, so that stored responses can cache by identity. */
    private final List<String> targets;

    private final boolean stripTargeted;

    private final boolean storeSetCookie;
    private final boolean normaliseAccept;

    /** @param maxHeuristicFreshness cap of heuristic freshness; {@link Duration#ZERO} turns it off */
    public CachePolicy(Duration maxHeuristicFreshness) {
        this(CacheConfig.builder()
                .maxHeuristicFreshness(checked(maxHeuristicFreshness))
                .build());
    }

    private static Duration checked(Duration maxHeuristicFreshness) {
        if (maxHeuristicFreshness.isNegative()) {
            throw new IllegalArgumentException("maxHeuristicFreshness: " + maxHeuristicFreshness + " (expected: >= 0)");
        }
        return maxHeuristicFreshness;
    }

    /** The rules a configuration asks for: heuristic cap, targeted field, {@code Set-Cookie}, {@code Vary}. */
    private CachePolicy(CacheConfig config) {
        this.maxHeuristicMillis = config.maxHeuristicFreshness().toMillis();
        String targetedField = config.targetedField();
        this.targets = targetedField == null || targetedField.equalsIgnoreCase(CDN_CACHE_CONTROL)
                ? List.of(CDN_CACHE_CONTROL)
                : List.of(targetedField, CDN_CACHE_CONTROL);
        this.stripTargeted = config.stripTargeted();
        this.storeSetCookie = config.storeSetCookie();
        this.normaliseAccept = config.normaliseAccept();
    }

    /**
     * The request's values for a response's {@code Vary} names (RFC 9111 §4.1), normalised as this cache
     * compares them: see {@link CacheKeys#varySelection(List, HttpFields, boolean)} and
     * {@code cache.normalise-accept}.
     */
    public List<Header> varySelection(List<String> varyNames, HttpFields requestHeaders) {
        return CacheKeys.varySelection(varyNames, requestHeaders, normaliseAccept);
    }

    /** A shared cache with the default heuristic cap of 24 hours. */
    public static CachePolicy sharedCache() {
        return new CachePolicy(CacheConfig.DEFAULT_MAX_HEURISTIC_FRESHNESS);
    }

    /** The policy the configuration asks for. */
    public static CachePolicy from(CacheConfig config) {
        return new CachePolicy(config);
    }

    // ---- RFC 9213: targeted cache control ----

    /** The target list (RFC 9213 §2.1): the targeted fields this cache obeys, the first valid one winning. */
    public List<String> targetedFields() {
        return targets;
    }

    /** The fields to remove from responses to clients: the target list with {@code cache.strip-targeted}, else none. */
    public List<String> strippedFields() {
        return stripTargeted ? targets : List.of();
    }

    /** The directives that govern a stored response here (see the class comment). */
    public CacheControl responseDirectives(StoredResponse stored) {
        return stored.directives(targets);
    }

    /** The directives that govern a backend's response here (see the class comment). */
    public CacheControl responseDirectives(HttpFields responseHeaders) {
        return responseDirectives(targets, name -> FieldValues.of(responseHeaders, name));
    }

    /**
     * The first targeted field of {@code targets} that is present and valid, else {@code Cache-Control}.
     *
     * @param fieldValues the field lines of a field name, empty when absent
     */
    static CacheControl responseDirectives(List<String> targets, Function<String, List<String>> fieldValues) {
        for (String target : targets) {
            List<String> lines = fieldValues.apply(target);
            if (!lines.isEmpty()) {
                CacheControl targeted = CacheControl.parseTargeted(lines);
                if (targeted != null) {
                    return targeted;
                }
            }
        }
        return CacheControl.parse(fieldValues.apply("Cache-Control"));
    }

    // ---- §3: storing ----

    /** Statuses cacheable without explicit freshness (RFC 9110 §15.1). */
    public static boolean isHeuristicallyCacheable(int status) {
        return switch (status) {
            case 200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501 -> true;
            default -> false;
        };
    }

    /**
     * A final status (200..599) other than 304 (which only updates, §4.3.4): what may be stored at all,
     * understood or not.
     */
    static boolean isFinalAndNotSpecial(int status) {
        return status >= 200 && status <= 599 && status != 304;
    }

    /**
     * Whether this cache understands the status (its semantics are registered in RFC 9110, or RFC 6585 and
     * RFC 7725): a stored response with any other status is reused only while explicitly fresh (§3, §4.2.4).
     */
    public static boolean isUnderstoodStatus(int status) {
        return isStorableStatus(status);
    }

    /** Final statuses this cache understands and may store with explicit freshness. */
    public static boolean isStorableStatus(int status) {
        return switch (status) {
            case 200,
                    201,
                    202,
                    203,
                    204,
                    205,
                    206,
                    300,
                    301,
                    302,
                    303,
                    305,
                    307,
                    308,
                    400,
                    401,
                    402,
                    403,
                    404,
                    405,
                    406,
                    407,
                    408,
                    409,
                    410,
                    411,
                    412,
                    413,
                    414,
                    415,
                    416,
                    417,
                    421,
                    422,
                    426,
                    428,
                    429,
                    431,
                    451,
                    500,
                    501,
                    502,
                    503,
                    504,
                    505 -> true;
            default -> false;
        };
    }

    /**
     * Whether the response to this request may be stored, and if not why (see the class comment).
     *
     * @param method          the request method
     * @param requestHeaders  the client's request headers
     * @param status          the backend's status
     * @param responseHeaders the backend's response headers, before this proxy adds any (a sticky cookie
     *                        added by the proxy is not the backend's {@code Set-Cookie})
     */
    public Storability storability(String method, HttpFields requestHeaders, int status, HttpFields responseHeaders) {
        if (!"GET".equals(method)) {
            return Storability.METHOD;
        }
        if (requestDirectives(requestHeaders).noStore()) {
            return Storability.REQUEST_NO_STORE;
        }
        if (!isFinalAndNotSpecial(status)) {
            return Storability.STATUS;
        }
        if (status == 206 && PartialContent.parse(responseHeaders.get(HttpHeader.CONTENT_RANGE)) == null) {
            return Storability.STATUS; // §3.3: one piece of a known length, or nothing
        }
        boolean understood = isStorableStatus(status);
        CacheControl cc = responseDirectives(responseHeaders);
        if (cc.mustUnderstand() && !understood) {
            return Storability.STATUS; // §5.2.2.3: only for a cache that understands the status
        }
        if (cc.noStore() && !cc.mustUnderstand()) {
            return Storability.NO_STORE; // under must-understand of a status we understand, no-store is ignored
        }
        if (cc.isPrivate()) {
            return Storability.PRIVATE;
        }
        if (requestHeaders.contains(HttpHeader.AUTHORIZATION)
                && !(cc.isPublic() || cc.sMaxAge() >= 0 || cc.mustRevalidate())) {
            return Storability.AUTHORIZATION;
        }
        if (!storeSetCookie
                && (responseHeaders.contains(HttpHeader.SET_COOKIE)
                        || responseHeaders.contains(HttpHeader.SET_COOKIE2))) {
            return Storability.SET_COOKIE; // cache.store-set-cookie=false: as nginx and Varnish do by default
        }
        if (CacheKeys.varyNames(FieldValues.of(responseHeaders, HttpHeader.VARY))
                .contains("*")) {
            return Storability.VARY_STAR;
        }
        String expires = cc.targeted() ? null : responseHeaders.get(HttpHeader.EXPIRES); // RFC 9213 §2.1
        boolean explicitLifetime = cc.sMaxAge() >= 0 || cc.maxAge() >= 0 || expires != null;
        if (!understood) {
            // §3: a status this cache does not know is reused only as long as an explicit lifetime says, and
            // never stale (see decide): no heuristics, no public-alone, nothing useless stored
            if (!explicitLifetime) {
                return Storability.NOT_CACHEABLE;
            }
            long date = HttpDates.parse(responseHeaders.get(HttpHeader.DATE));
            if (lifetimeMillis(status, cc, date, expires, null) <= 0) {
                return Storability.USELESS;
            }
        }
        boolean explicit = explicitLifetime || cc.isPublic();
        if (!explicit && !isHeuristicallyCacheable(status)) {
            return Storability.NOT_CACHEABLE;
        }
        boolean validator =
                responseHeaders.contains(HttpHeader.ETAG) || responseHeaders.contains(HttpHeader.LAST_MODIFIED);
        if (!validator && cc.staleWhileRevalidate() < 0 && cc.staleIfError() < 0) {
            long date = HttpDates.parse(responseHeaders.get(HttpHeader.DATE));
            List<String> expiresLines = cc.targeted() ? List.of() : responseHeaders.getValuesList(HttpHeader.EXPIRES);
            if (expiresLines.size() > 1) {
                expires = "invalid: more than one"; // a singleton given twice is in the past
            }
            List<String> ages = responseHeaders.getValuesList(HttpHeader.AGE);
            boolean invalidAge = !ages.isEmpty() && (ages.size() > 1 || ageSeconds(ages.get(0)) < 0);
            long lifetime = invalidAge ? 0 : lifetimeMillis(status, cc, date, expires, null);
            if (lifetime <= 0) {
                return Storability.USELESS;
            }
        }
        return Storability.STORABLE;
    }

    /**
     * The header fields to store with a response: all but hop-by-hop fields and those named in
     * {@code Connection}, proxy credentials, {@code Content-Length} (the stored body's
     * length is sent instead) and the fields named by a qualified {@code private} (§5.2.2.7).
     */
    public List<Header> headersToStore(HttpFields responseHeaders) {
        Set<String> dropped = null;
        for (HttpField field : responseHeaders) {
            if (field.getHeader() == HttpHeader.CONNECTION) {
                dropped = addNames(dropped, List.of(field.getValue()));
            }
        }
        CacheControl cc = responseDirectives(responseHeaders);
        if (!cc.privateFields().isEmpty()) {
            dropped = addNames(dropped, cc.privateFields());
        }
        // A cookie withheld until revalidation would reach the next client after one: it belongs to the first
        // client, so it is never stored (other fields of a qualified no-cache are stored and withheld).
        boolean cookies = storeSetCookie
                && !cc.noCacheFields().contains("set-cookie")
                && !cc.noCacheFields().contains("set-cookie2");
        List<Header> stored = new ArrayList<>(responseHeaders.size());
        for (HttpField field : responseHeaders) {
            String name = field.getLowerCaseName();
            if (NOT_STORED.contains(name)
                    || (dropped != null && dropped.contains(name))
                    || (!cookies && COOKIES.contains(name))) {
                continue;
            }
            stored.add(new Header(field.getName(), field.getValue()));
        }
        return stored;
    }

    private static Set<String> addNames(Set<String> names, List<String> lists) {
        Set<String> result = names == null ? new TreeSet<>() : names;
        for (String list : lists) {
            for (String name : list.split(",")) {
                String trimmed = name.trim().toLowerCase(Locale.ROOT);
                if (!trimmed.isEmpty()) {
                    result.add(trimmed);
                }
            }
        }
        return result;
    }

    // ---- §4.2: freshness ----

    /** The freshness lifetime of a stored response (§4.2.1), in milliseconds, 0 when it has none. */
    public long freshnessLifetimeMillis(StoredResponse response) {
        // The stored dates, parsed once per entry (StoredResponse.derived): this runs on every hit.
        StoredResponse.Derived d = response.derived();
        long date = d.dateMillis == HttpDates.INVALID ? response.responseTimeMillis() : d.dateMillis;
        if (d.invalidAge) {
            return 0; // RFC 9111 §5.1: a cache should ignore such a response; it is stale, never fresh
        }
        CacheControl cc = responseDirectives(response);
        boolean expires = d.hasExpires && !cc.targeted(); // a targeted field overrides Expires (RFC 9213 §2.1)
        return lifetimeMillis(response.status(), cc, date, expires, d.expiresMillis, d.lastModifiedMillis);
    }

    private long heuristicMillis(int status, CacheControl cc, long dateValue, long lastModifiedMillis) {
        if (maxHeuristicMillis > 0
                && (isHeuristicallyCacheable(status) || (cc.isPublic() && isStorableStatus(status)))
                && lastModifiedMillis != HttpDates.INVALID
                && dateValue != HttpDates.INVALID
                && dateValue > lastModifiedMillis) {
            return Math.min((dateValue - lastModifiedMillis) / 10, maxHeuristicMillis);
        }
        return 0;
    }

    /**
     * @param dateValue    the Date, or the response time without one; {@link HttpDates#INVALID} when neither
     *                     is known (only while deciding storability, when any positive result will do)
     * @param lastModified {@code null} when heuristics do not matter to the caller
     */
    private long lifetimeMillis(int status, CacheControl cc, long dateValue, String expires, String lastModified) {
        return lifetimeMillis(
                status,
                cc,
                dateValue,
                expires != null,
                expires == null ? HttpDates.INVALID : HttpDates.parse(expires),
                lastModified == null ? HttpDates.INVALID : HttpDates.parse(lastModified));
    }

    /** §4.2.1 on parsed dates; {@link HttpDates#INVALID} for a date that is absent or unparseable. */
    private long lifetimeMillis(
            int status,
            CacheControl cc,
            long dateValue,
            boolean hasExpires,
            long expiresMillis,
            long lastModifiedMillis) {
        if (cc.sMaxAge() >= 0) {
            return cc.sMaxAge() * 1000;
        }
        if (cc.maxAge() >= 0) {
            return cc.maxAge() * 1000;
        }
        if (hasExpires) {
            if (expiresMillis == HttpDates.INVALID) {
                return 0; // an invalid date, "0" in particular, is in the past (§5.3)
            }
            if (dateValue == HttpDates.INVALID) {
                return 1; // no Date yet to compare with: let the store decide with the response time
            }
            return Math.max(0, expiresMillis - dateValue);
        }
        return heuristicMillis(status, cc, dateValue, lastModifiedMillis);
    }

    /**
     * The value of one {@code Age} field line (RFC 9111 §5.1): one non-negative integer, surrounding
     * whitespace aside, capped at 2^31; -1 for anything else, a list included ({@code 5, 0}, {@code old, 0}).
     * RFC 9111 would take the first member of a list; a shared cache takes the safer reading, since a list
     * means that some hop sent something odd, and the response then counts as stale.
     */
    static long ageSeconds(String value) {
        return value == null ? -1 : CacheControl.deltaSeconds(value.strip());
    }

    /**
     * The current age of a stored response (§4.2.3), in milliseconds:
     * <pre>
     * apparent_age          = max(0, response_time - date_value)
     * response_delay        = response_time - request_time
     * corrected_age_value   = age_value + response_delay
     * corrected_initial_age = max(apparent_age, corrected_age_value)
     * resident_time         = now - response_time
     * current_age           = corrected_initial_age + resident_time
     * </pre>
     * {@code age_value} is the stored {@code Age} (0 when absent; when invalid, the response is stale anyway,
     * see {@link #freshnessLifetimeMillis}); without a valid {@code Date}
     * the apparent age is 0. A clock that went backwards gives no negative resident time.
     */
    public static long currentAgeMillis(StoredResponse response, long nowMillis) {
        StoredResponse.Derived d = response.derived();
        long ageValue = d.ageSeconds;
        long ageValueMillis = ageValue < 0 ? 0 : ageValue * 1000;
        long dateValue = d.dateMillis;
        long responseTime = response.responseTimeMillis();
        long apparentAge = dateValue == HttpDates.INVALID ? 0 : Math.max(0, responseTime - dateValue);
        long responseDelay = Math.max(0, responseTime - response.requestTimeMillis());
        long correctedAgeValue = ageValueMillis + responseDelay;
        long correctedInitialAge = Math.max(apparentAge, correctedAgeValue);
        long residentTime = Math.max(0, nowMillis - responseTime);
        return correctedInitialAge + residentTime;
    }

    // ---- §4, §5.2.1, RFC 5861: choosing ----

    /**
     * The request's {@code Cache-Control}, or {@code no-cache} when it has none but {@code Pragma: no-cache}
     * (RFC 9111 §5.4).
     */
    public static CacheControl requestDirectives(HttpFields requestHeaders) {
        List<String> values = FieldValues.of(requestHeaders, HttpHeader.CACHE_CONTROL);
        if (values.isEmpty()) {
            String pragma = requestHeaders.get(HttpHeader.PRAGMA);
            if (pragma != null && pragma.toLowerCase(Locale.ROOT).contains("no-cache")) {
                return PRAGMA_NO_CACHE;
            }
            return CacheControl.NONE;
        }
        return CacheControl.parse(values);
    }

    /**
     * What to do when nothing usable is stored: {@link CacheAction#MISS}, or
     * {@link CacheAction#GATEWAY_TIMEOUT} under {@code only-if-cached}.
     *
     * @param reason {@link CacheStatus.Forward#URI_MISS} or {@link CacheStatus.Forward#VARY_MISS}
     */
    public static CacheDecision noStoredResponse(HttpFields requestHeaders, CacheStatus.Forward reason) {
        if (requestDirectives(requestHeaders).onlyIfCached()) {
            return new CacheDecision(CacheAction.GATEWAY_TIMEOUT, reason, 0, 0);
        }
        return MISSES[reason.ordinal()]; // a record: the same for every miss of a reason
    }

    private static final CacheDecision[] MISSES = java.util.Arrays.stream(CacheStatus.Forward.values())
            .map(reason -> new CacheDecision(CacheAction.MISS, reason, 0, 0))
            .toArray(CacheDecision[]::new);

    /**
     * Whether and how a stored response that matches the request (same key, same variant) may answer it.
     *
     * @param requestHeaders the client's request headers
     * @param stored         the stored response selected for the request
     * @param nowMillis      the current time
     */
    public CacheDecision decide(HttpFields requestHeaders, StoredResponse stored, long nowMillis) {
        CacheControl request = requestDirectives(requestHeaders);
        CacheControl response = responseDirectives(stored);
        long age = currentAgeMillis(stored, nowMillis);
        long lifetime = freshnessLifetimeMillis(stored);
        long ttl = lifetime - age;
        CacheDecision validate = validate(request, CacheStatus.Forward.STALE, age, ttl);

        if (response.noCache()) {
            return validate; // §5.2.2.4: never without validation, fresh or not
        }
        if (request.noCache()
                || (request.maxAge() >= 0 && age > request.maxAge() * 1000)
                || (request.minFresh() >= 0 && ttl < request.minFresh() * 1000)) {
            // §5.2.1.4, §5.2.1.1, §5.2.1.3: a stored response exists but the request won't take it
            return validate(request, ttl > 0 ? CacheStatus.Forward.REQUEST : CacheStatus.Forward.STALE, age, ttl);
        }
        if (ttl > 0) {
            return new CacheDecision(CacheAction.HIT, null, age, ttl);
        }
        long staleness = -ttl;
        if (response.forbidsStale() || !isStorableStatus(stored.status())) {
            return validate; // §4.2.4, §5.2.2.2, §5.2.2.8, §5.2.2.10: overrides max-stale and RFC 5861
        }
        if (request.maxStale() >= 0
                && (request.maxStale() == CacheControl.ANY || staleness <= request.maxStale() * 1000)) {
            return new CacheDecision(CacheAction.STALE_HIT, null, age, ttl);
        }
        if (response.staleWhileRevalidate() >= 0 && staleness <= response.staleWhileRevalidate() * 1000) {
            return new CacheDecision(CacheAction.STALE_WHILE_REVALIDATE, null, age, ttl);
        }
        return validate;
    }

    private static CacheDecision validate(CacheControl request, CacheStatus.Forward reason, long age, long ttl) {
        // §5.2.1.7: only-if-cached never contacts the backend, so what needs validation is a 504
        CacheAction action = request.onlyIfCached() ? CacheAction.GATEWAY_TIMEOUT : CacheAction.VALIDATE;
        return new CacheDecision(action, reason, age, ttl);
    }

    /**
     * Whether a stored response may answer when the backend failed or answered with an error
     * (RFC 5861 §4 {@code stale-if-error}, request or response directive; RFC 9111 §4.2.4): only within the
     * window a directive gives, never when the response forbids stale service, and never when the request
     * insisted on validation ({@code no-cache}).
     *
     * @see #isErrorForStale(int)
     */
    public boolean mayServeStaleOnError(HttpFields requestHeaders, StoredResponse stored, long nowMillis) {
        CacheControl response = responseDirectives(stored);
        if (response.forbidsStale() || !isStorableStatus(stored.status())) {
            return false;
        }
        CacheControl request = requestDirectives(requestHeaders);
        if (request.noCache()) {
            return false;
        }
        long staleness = currentAgeMillis(stored, nowMillis) - freshnessLifetimeMillis(stored);
        long window = Math.max(response.staleIfError(), request.staleIfError());
        if (window < 0) {
            return false;
        }
        return staleness <= window * 1000;
    }

    /**
     * Whether, the backend being unreachable, the cache must answer 504 rather than serve {@code stored}
     * (RFC 9111 §4.2.4, §5.2.2.2): the response says {@code no-cache} (never used unvalidated, §5.2.2.4), or it
     * is stale and says {@code must-revalidate}, {@code proxy-revalidate} or {@code s-maxage} (§5.2.2.8,
     * §5.2.2.10), or it is stale with a status this cache does not understand. Anything else is up to
     * {@code stale-if-error} ({@link #mayServeStaleOnError}), and without it the failure shows as usual.
     */
    public boolean mustNotServeWhenDisconnected(StoredResponse stored, long nowMillis) {
        CacheControl response = responseDirectives(stored);
        if (response.noCache()) {
            return true;
        }
        boolean stale = currentAgeMillis(stored, nowMillis) >= freshnessLifetimeMillis(stored);
        return stale && (response.forbidsStale() || !isStorableStatus(stored.status()));
    }

    /** The statuses that count as an error for {@code stale-if-error} (RFC 5861 §4): 500, 502, 503, 504. */
    public static boolean isErrorForStale(int status) {
        return status == 500 || status == 502 || status == 503 || status == 504;
    }
}
