package dev.proxyfilter.cache;

import dev.proxyfilter.http.Header;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;

/**
 * Validation in both directions: the conditional request this cache sends to refresh a stored response
 * and the 304 that freshens it (RFC 9111 §4.3), and the client's own conditional request answered from a
 * stored response (RFC 9110 §13).
 */
public final class Conditionals {
    /** The client's preconditions and range: meant for the representation the client has, not ours. */
    private static final Set<HttpHeader> CLIENT_CONDITIONALS = Set.of(
            HttpHeader.IF_MATCH,
            HttpHeader.IF_NONE_MATCH,
            HttpHeader.IF_MODIFIED_SINCE,
            HttpHeader.IF_UNMODIFIED_SINCE,
            HttpHeader.IF_RANGE,
            HttpHeader.RANGE);

    /**
     * Not taken from a 304 into the stored response (§3.2): the stored body's framing and encoding stay
     * those of the stored body; hop-by-hop fields and cookies are never stored.
     */
    private static final Set<String> NOT_UPDATED = Set.of(
            "content-length",
            "content-encoding",
            "content-range",
            "transfer-encoding",
            "connection",
            "keep-alive",
            "proxy-connection",
            "te",
            "trailer",
            "upgrade",
            "proxy-authenticate",
            "proxy-authentication-info",
            "proxy-authorization",
            "set-cookie",
            "set-cookie2");

    private Conditionals() {}

    // ---- RFC 9111 §4.3.1: asking the backend ----

    /**
     * For a miss: strips the client's preconditions, and its {@code Range} too unless it is one range without
     * {@code If-Range}. One range is then asked for as it is, and its {@code 206} stored as partial content
     * (RFC 9111 §3.3) and combined with what is stored (§3.4); several ranges, or a range the client makes
     * conditional on its own copy, fetch the whole representation, and the cache answers the client's range
     * and conditions from it.
     *
     * @return whether a {@code Range} was kept
     */
    public static boolean stripClientConditionalsKeepingOneRange(HttpFields.Mutable proxyToServer) {
        if (!hasClientConditional(proxyToServer)) {
            return false; // the usual request: nothing to strip, no Range to keep
        }
        String range = proxyToServer.get(HttpHeader.RANGE);
        boolean keep = range != null
                && !proxyToServer.contains(HttpHeader.IF_RANGE)
                && proxyToServer.getValuesList(HttpHeader.RANGE).size() == 1
                && range.indexOf(',') < 0
                && range.regionMatches(true, 0, "bytes=", 0, 6);
        stripClientConditionals(proxyToServer);
        if (keep) {
            proxyToServer.put(HttpHeader.RANGE, range);
        }
        return keep;
    }

    /** Whether the stored response has a validator, so that a conditional request can refresh it. */
    public static boolean hasValidator(StoredResponse stored) {
        return stored.header("ETag") != null || stored.header("Last-Modified") != null;
    }

    /**
     * Turns the request for the backend into a validation of {@code stored}: the client's preconditions and
     * {@code Range} go (the cache wants the whole, current representation; it answers the client's own
     * conditions and range afterwards), {@code If-None-Match} carries the stored {@code ETag} and
     * {@code If-Modified-Since} the stored {@code Last-Modified}. Without a validator the request becomes
     * a plain one, and the response simply replaces the stored one.
     *
     * @param proxyToServer the headers of the request about to be sent to the backend
     */
    public static void toValidationRequest(HttpFields.Mutable proxyToServer, StoredResponse stored) {
        stripClientConditionals(proxyToServer);
        String etag = stored.header("ETag");
        if (etag != null) {
            proxyToServer.put(HttpHeader.IF_NONE_MATCH, etag);
        }
        String lastModified = stored.header("Last-Modified");
        if (lastModified != null) {
            proxyToServer.put(HttpHeader.IF_MODIFIED_SINCE, lastModified);
        }
    }

    /**
     * Removes the client's preconditions and {@code Range}, so that a miss fetches a whole, storable
     * {@code 200}; the client's conditions and range are then answered from the stored copy.
     */
    public static void stripClientConditionals(HttpFields.Mutable proxyToServer) {
        if (!hasClientConditional(proxyToServer)) {
            return; // one indexed pass instead of six removes, each an iterator over the fields
        }
        for (HttpHeader header : CLIENT_CONDITIONALS) {
            proxyToServer.remove(header);
        }
    }

    /** Whether any of {@link #CLIENT_CONDITIONALS} is among the fields (a field of a known name has its header). */
    private static boolean hasClientConditional(HttpFields fields) {
        for (int i = 0, size = fields.size(); i < size; i++) {
            HttpHeader header = fields.getField(i).getHeader();
            if (header != null && CLIENT_CONDITIONALS.contains(header)) {
                return true;
            }
        }
        return false;
    }

    // ---- RFC 9111 §4.3.3, §4.3.4: the 304 ----

    /**
     * Whether a 304 is about {@code stored} (§4.3.4): a strong {@code ETag} in the 304 must equal the stored
     * one; else its {@code Last-Modified} must equal the stored one; else a weak {@code ETag} must match
     * weakly. A 304 with no validator at all is taken as confirming {@code stored}: this cache's conditional
     * request named that one response's validators and nothing else.
     */
    public static boolean notModifiedSelects(StoredResponse stored, HttpFields notModified) {
        String etag = notModified.get(HttpHeader.ETAG);
        String storedEtag = stored.header("ETag");
        if (etag != null && !isWeak(etag.trim())) {
            return storedEtag != null && strongMatch(etag.trim(), storedEtag.trim());
        }
        String lastModified = notModified.get(HttpHeader.LAST_MODIFIED);
        if (lastModified != null) {
            long storedMillis = HttpDates.parse(stored.header("Last-Modified"), stored.responseTimeMillis());
            return storedMillis != HttpDates.INVALID
                    && storedMillis == HttpDates.parse(lastModified, stored.responseTimeMillis());
        }
        if (etag != null) {
            return storedEtag != null && weakMatch(etag.trim(), storedEtag.trim());
        }
        return true;
    }

    /**
     * The stored response freshened by a 304 (§4.3.4, §3.2): every field the 304 carries replaces the stored
     * field of that name, except framing, encoding and hop-by-hop fields; the exchange times become those of
     * the validation. The stored {@code Age} and {@code Date} describe the old exchange, so they go when the
     * 304 has none of its own (else the new age would count the old one twice).
     *
     * @param requestTimeMillis  when the conditional request was sent
     * @param responseTimeMillis when the 304 arrived
     */
    public static StoredResponse freshen(
            StoredResponse stored, HttpFields notModified, long requestTimeMillis, long responseTimeMillis) {
        List<HttpField> replacing = new ArrayList<>(notModified.size());
        for (HttpField field : notModified) {
            if (!NOT_UPDATED.contains(field.getLowerCaseName())) {
                replacing.add(field);
            }
        }
        List<Header> headers = new ArrayList<>(stored.headers().size() + replacing.size());
        for (Header header : stored.headers()) {
            boolean replaced =
                    header.name().equalsIgnoreCase("Age") || header.name().equalsIgnoreCase("Date");
            for (HttpField field : replacing) {
                if (replaced) {
                    break;
                }
                replaced = field.is(header.name());
            }
            if (!replaced) {
                headers.add(header);
            }
        }
        for (HttpField field : replacing) {
            headers.add(new Header(field.getName(), field.getValue()));
        }
        return stored.withHeaders(headers, requestTimeMillis, responseTimeMillis);
    }

    // ---- RFC 9110 §13.2.2: the client's conditions, answered from a stored response ----

    /**
     * Evaluates the client's preconditions against a stored response in the order of RFC 9110 §13.2.2:
     * {@code If-Match} (strong comparison), else {@code If-Unmodified-Since}; then {@code If-None-Match}
     * (weak comparison), else {@code If-Modified-Since} (only for {@code GET}/{@code HEAD}, and taking the
     * stored {@code Last-Modified}, else its {@code Date}, else its response time, as RFC 9111 §4.3.2 says).
     *
     * @return 412 when a precondition fails, 304 when the client's copy is current, else 200 (answer in full,
     *     subject to {@code Range})
     */
    public static int evaluate(String method, HttpFields request, StoredResponse stored) {
        // The stored values come parsed (StoredResponse.derived); the request's only when it has the field.
        StoredResponse.Derived derived = stored.derived();
        String storedEtag = derived.etag;
        String ifMatch = request.get(HttpHeader.IF_MATCH);
        if (ifMatch != null) {
            if (!matchesAny(ifMatch, storedEtag, true)) {
                return 412;
            }
        } else {
            long ifUnmodifiedSince =
                    HttpDates.parse(request.get(HttpHeader.IF_UNMODIFIED_SINCE), stored.responseTimeMillis());
            long lastModified = derived.lastModifiedMillis;
            // ignored without a modification date (RFC 9110 §13.1.4)
            if (ifUnmodifiedSince != HttpDates.INVALID
                    && lastModified != HttpDates.INVALID
                    && lastModified > ifUnmodifiedSince) {
                return 412;
            }
        }
        boolean getOrHead = "GET".equals(method) || "HEAD".equals(method);
        String ifNoneMatch = joined(request.getValuesList(HttpHeader.IF_NONE_MATCH));
        if (ifNoneMatch != null) {
            if (matchesAny(ifNoneMatch, storedEtag, false)) {
                return getOrHead ? 304 : 412;
            }
            return 200;
        }
        if (getOrHead) {
            long ifModifiedSince =
                    HttpDates.parse(request.get(HttpHeader.IF_MODIFIED_SINCE), stored.responseTimeMillis());
            if (ifModifiedSince != HttpDates.INVALID && modificationTime(stored) <= ifModifiedSince) {
                return 304;
            }
        }
        return 200;
    }

    private static long modificationTime(StoredResponse stored) {
        StoredResponse.Derived derived = stored.derived();
        long lastModified = derived.lastModifiedMillis;
        if (lastModified != HttpDates.INVALID) {
            return lastModified;
        }
        long date = derived.dateMillis;
        return date != HttpDates.INVALID ? date : stored.responseTimeMillis();
    }

    /** Whether an {@code If-Range} allows answering the range (RFC 9110 §13.1.5). */
    public static boolean ifRangeHolds(String ifRange, StoredResponse stored) {
        if (ifRange == null) {
            return true;
        }
        String value = ifRange.trim();
        if (value.startsWith("\"") || value.startsWith("W/")) {
            String storedEtag = trim(stored.header("ETag"));
            return storedEtag != null && strongMatch(value, storedEtag);
        }
        long date = HttpDates.parse(value, stored.responseTimeMillis());
        return date != HttpDates.INVALID
                && date == HttpDates.parse(stored.header("Last-Modified"), stored.responseTimeMillis());
    }

    // ---- entity-tags (RFC 9110 §8.8.3) ----

    /** Whether {@code list} ({@code *} or entity-tags) matches {@code etag}; {@code *} matches any stored response. */
    static boolean matchesAny(String list, String etag, boolean strong) {
        String trimmed = list.trim();
        if (trimmed.equals("*")) {
            return true;
        }
        if (etag == null) {
            return false;
        }
        for (String candidate : entityTags(trimmed)) {
            if (strong ? strongMatch(candidate, etag) : weakMatch(candidate, etag)) {
                return true;
            }
        }
        return false;
    }

    /** The entity-tags of a comma-separated list, commas inside quotes respected. */
    static List<String> entityTags(String list) {
        List<String> tags = new ArrayList<>(2);
        int i = 0;
        int n = list.length();
        while (i < n) {
            char c = list.charAt(i);
            if (c == ',' || c == ' ' || c == '\t') {
                i++;
                continue;
            }
            int start = i;
            if (list.startsWith("W/", i)) {
                i += 2;
            }
            if (i < n && list.charAt(i) == '"') {
                i++;
                while (i < n && list.charAt(i) != '"') {
                    i++;
                }
                i++;
            } else {
                while (i < n && list.charAt(i) != ',') {
                    i++; // not an entity-tag; kept so that it simply never matches
                }
            }
            tags.add(list.substring(start, Math.min(i, n)).trim());
        }
        return tags;
    }

    static boolean isWeak(String etag) {
        return etag.startsWith("W/");
    }

    private static String opaque(String etag) {
        return isWeak(etag) ? etag.substring(2) : etag;
    }

    /** Both strong and their opaque-tags equal. */
    static boolean strongMatch(String a, String b) {
        return !isWeak(a) && !isWeak(b) && a.equals(b);
    }

    /** Their opaque-tags equal, either or both may be weak. */
    static boolean weakMatch(String a, String b) {
        return opaque(a).equals(opaque(b));
    }

    private static String trim(String value) {
        return value == null ? null : value.trim();
    }

    private static String joined(List<String> values) {
        if (values.isEmpty()) {
            return null;
        }
        return values.size() == 1 ? values.get(0) : String.join(", ", values);
    }
}
