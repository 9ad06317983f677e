package dev.proxyfilter.cache;

import dev.proxyfilter.http.Header;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.PreEncodedHttpField;

/**
 * A stored response: status, header fields, the whole body, the times of the exchange that produced it
 * (for the age calculation of RFC 9111 §4.2.3) and the request header values that selected it when the
 * response carries {@code Vary} (§4.1).
 *
 * <p>Immutable. The body array passed to the constructor is owned by the instance from then on and must
 * not be changed by the caller; {@link #body()} hands out read-only views. Parsed header values
 * ({@code Cache-Control}, dates) are computed on first use and kept.
 */
public final class StoredResponse implements StoreEntry {
    private static final byte[] NO_BODY = new byte[0];

    private final int status;
    private final List<Header> headers;
    private final byte[] body;
    private final long requestTimeMillis;
    private final long responseTimeMillis;
    private final List<Header> varySelection;

    // Derived from headers on first use; a race computes the same value twice, which is harmless. Not part
    // of the codec's form: an entry read back from off-heap or disk derives them again.
    private CacheControl cacheControl;
    private Directives directives;
    private Derived derived;

    /**
     * @param status             the final status, 200..599
     * @param headers            the stored header fields, in order
     * @param body               the whole body; owned by this instance from now on ({@code null} for none)
     * @param requestTimeMillis  when the request that produced this response was sent (§4.2.3 request_time)
     * @param responseTimeMillis when this response was received (§4.2.3 response_time)
     * @param varySelection      the selecting request header values, sorted by lower-case name; empty
     *                           without {@code Vary}
     */
    public StoredResponse(
            int status,
            List<Header> headers,
            byte[] body,
            long requestTimeMillis,
            long responseTimeMillis,
            List<Header> varySelection) {
        if (status < 200 || status > 599) {
            throw new IllegalArgumentException("status: " + status + " (expected: 200..599)");
        }
        this.status = status;
        this.headers = List.copyOf(headers);
        for (Header header : this.headers) {
            Objects.requireNonNull(header.value(), "header value");
        }
        this.body = body == null ? NO_BODY : body;
        this.requestTimeMillis = requestTimeMillis;
        this.responseTimeMillis = responseTimeMillis;
        this.varySelection = List.copyOf(varySelection);
    }

    public int status() {
        return status;
    }

    /** The stored header fields, in order, without hop-by-hop fields or {@code Content-Length}. */
    public List<Header> headers() {
        return headers;
    }

    /** A read-only view of the whole body, positioned at 0. */
    public ByteBuffer body() {
        return ByteBuffer.wrap(body).asReadOnlyBuffer();
    }

    public int bodyLength() {
        return body.length;
    }

    /** The body array itself, for the codec; never modified. */
    byte[] bodyArray() {
        return body;
    }

    /** When the request that produced this response was sent, epoch millis. */
    public long requestTimeMillis() {
        return requestTimeMillis;
    }

    /** When this response was received, epoch millis. */
    public long responseTimeMillis() {
        return responseTimeMillis;
    }

    /**
     * The normalised values of the request headers named by {@code Vary}, sorted by lower-case name, a
     * {@code null} value for a header the request lacked; empty when the response has no {@code Vary}.
     */
    public List<Header> varySelection() {
        return varySelection;
    }

    /** The first value of the named field, or {@code null}. */
    public String header(String name) {
        for (Header header : headers) {
            if (header.name().equalsIgnoreCase(name)) {
                return header.value();
            }
        }
        return null;
    }

    /** Every value of the named field, in order; empty when absent. */
    public List<String> headerValues(String name) {
        List<String> values = null;
        for (Header header : headers) {
            if (header.name().equalsIgnoreCase(name)) {
                if (values == null) {
                    values = new ArrayList<>(2);
                }
                values.add(header.value());
            }
        }
        return values == null ? List.of() : values;
    }

    /**
     * The directives that govern this response for a cache whose target list (RFC 9213 §2.1) is
     * {@code targets}: those of the first targeted field present and valid, else {@code Cache-Control}'s.
     * Computed once per target list instance ({@link CachePolicy} keeps one).
     */
    CacheControl directives(List<String> targets) {
        Directives d = directives;
        if (d == null || d.targets != targets) {
            d = new Directives(targets, CachePolicy.responseDirectives(targets, this::headerValues));
            directives = d;
        }
        return d.cacheControl;
    }

    /** {@link #directives(List)} for one target list; immutable, so a racy publication is harmless. */
    private record Directives(List<String> targets, CacheControl cacheControl) {}

    /**
     * The response's {@code Cache-Control} field alone. What governs caching may be a targeted field instead:
     * see {@link CachePolicy#responseDirectives(StoredResponse)}.
     */
    public CacheControl cacheControl() {
        CacheControl cc = cacheControl;
        if (cc == null) {
            cc = CacheControl.parse(headerValues("Cache-Control"));
            cacheControl = cc;
        }
        return cc;
    }

    /**
     * The values every hit needs, parsed once per instance instead of once per hit (an HTTP-date parse is
     * a tokenizer and a {@code ZonedDateTime}): the dates, the stored {@code Age}, the entity-tag, and the
     * stored fields pre-encoded for the client, with whether they hold the fields an answer adds.
     */
    Derived derived() {
        Derived d = derived;
        if (d == null) {
            d = new Derived(this);
            derived = d;
        }
        return d;
    }

    /** See {@link #derived()}. Immutable. */
    static final class Derived {
        /** {@code Date}, {@code Last-Modified}, {@code Expires}: epoch millis or {@link HttpDates#INVALID}. */
        final long dateMillis;

        final long lastModifiedMillis;
        final long expiresMillis;
        /** Whether there is an {@code Expires} field at all (an invalid one means "already expired"). */
        final boolean hasExpires;
        /** The stored {@code Age} in seconds, negative when absent or invalid. */
        final long ageSeconds;
        /**
         * Whether an {@code Age} is there but is not one non-negative integer ({@code Age: old},
         * {@code Age: 5, 0}, two field lines): the response is then stale (see {@link CachePolicy}).
         */
        final boolean invalidAge;
        /** The trimmed {@code ETag}, or {@code null}. */
        final String etag;
        /** The stored fields in order, pre-encoded once. */
        final HttpField[] fields;
        /** Whether the stored fields include one of these (so that an answer must replace, not append). */
        final boolean hasAge;

        final boolean hasContentLength;
        /** The {@code Content-Length} of the whole body. */
        final HttpField contentLength;

        private Derived(StoredResponse response) {
            String date = null;
            String lastModified = null;
            String expires = null;
            String age = null;
            int ages = 0;
            int expireses = 0;
            String etag = null;
            boolean hasAge = false;
            boolean hasContentLength = false;
            HttpField[] fields = new HttpField[response.headers.size()];
            int i = 0;
            for (Header header : response.headers) {
                String name = header.name();
                HttpHeader known = HttpHeader.CACHE.get(name);
                // Date stays a plain field: the client side replaces Jetty's own Date with it, and Jetty
                // pre-encodes again (HTTP/1 and HPACK) a pre-encoded field that replaces its persistent one.
                // A value Jetty's generator would sanitise (control characters, beyond Latin-1) stays a plain
                // field too: pre-encoding copies the bytes as they are.
                fields[i++] = known == HttpHeader.DATE || !plain(name) || !plain(header.value())
                        ? new HttpField(known, name, header.value())
                        : new PreEncodedHttpField(known, name, header.value());
                if (known == HttpHeader.DATE) {
                    date = date == null ? header.value() : date;
                } else if (known == HttpHeader.LAST_MODIFIED) {
                    lastModified = lastModified == null ? header.value() : lastModified;
                } else if (known == HttpHeader.EXPIRES) {
                    expires = expires == null ? header.value() : expires;
                    expireses++;
                } else if (known == HttpHeader.AGE) {
                    age = age == null ? header.value() : age;
                    ages++;
                    hasAge = true;
                } else if (known == HttpHeader.ETAG) {
                    etag = etag == null ? header.value() : etag;
                } else if (known == HttpHeader.CONTENT_LENGTH) {
                    hasContentLength = true;
                }
            }
            // Two-digit years are read against the time the response arrived, which they describe.
            long received = response.responseTimeMillis;
            this.dateMillis = HttpDates.parse(date, received);
            this.lastModifiedMillis = HttpDates.parse(lastModified, received);
            this.hasExpires = expires != null;
            // Expires is a singleton: two field lines are as invalid as a bad date, and so in the past
            this.expiresMillis = expireses > 1 ? HttpDates.INVALID : HttpDates.parse(expires, received);
            long ageSeconds = ages == 1 ? CachePolicy.ageSeconds(age) : -1;
            this.ageSeconds = ageSeconds;
            this.invalidAge = ages > 0 && ageSeconds < 0;
            this.etag = etag == null ? null : etag.trim();
            this.fields = fields;
            this.hasAge = hasAge;
            this.hasContentLength = hasContentLength;
            this.contentLength =
                    new PreEncodedHttpField(HttpHeader.CONTENT_LENGTH, Integer.toString(response.body.length));
        }

        /** Visible ASCII, space and tab only. */
        private static boolean plain(String text) {
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if ((c < 0x20 && c != '\t') || c > 0x7e) {
                    return false;
                }
            }
            return true;
        }
    }

    /** The {@code Vary} field names, lower case, sorted, without duplicates; {@code *} stays as is. */
    public List<String> varyNames() {
        return CacheKeys.varyNames(headerValues("Vary"));
    }

    /** The same response with other headers and exchange times, as after a 304 (RFC 9111 §4.3.4). */
    public StoredResponse withHeaders(List<Header> newHeaders, long newRequestTimeMillis, long newResponseTimeMillis) {
        return new StoredResponse(status, newHeaders, body, newRequestTimeMillis, newResponseTimeMillis, varySelection);
    }

    /** The stored headers as Jetty fields, for the engine. */
    public HttpFields.Mutable toHttpFields() {
        HttpFields.Mutable fields = HttpFields.build(headers.size() + 4);
        for (Header header : headers) {
            fields.add(header.name(), header.value());
        }
        return fields;
    }

    @Override
    public long weightBytes() {
        return body.length;
    }

    @Override
    public String toString() {
        return "StoredResponse[" + status + ", " + headers.size() + " headers, " + body.length + " bytes"
                + (varySelection.isEmpty()
                        ? ""
                        : ", vary " + varySelection.toString().toLowerCase(Locale.ROOT)) + "]";
    }
}
