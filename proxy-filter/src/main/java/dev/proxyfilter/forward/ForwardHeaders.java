package dev.proxyfilter.forward;

import dev.proxyfilter.balance.Backend;
import dev.proxyfilter.http.Header;
import dev.proxyfilter.security.Admission;
import dev.proxyfilter.security.ResponseHygiene;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.PreEncodedHttpField;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Header hygiene in both directions: hop-by-hop removal (RFC 9110 §7.6.1), the forwarding headers
 * ({@code X-Forwarded-*}, RFC 7239 {@code Forwarded}, {@code Via}) and the rewriting of
 * {@code Location}/{@code Content-Location} that point at a backend.
 */
final class ForwardHeaders {
    private static final Logger LOG = LoggerFactory.getLogger(ForwardHeaders.class);

    /**
     * Room kept in the client's response head for what is added after {@link #serverToClient}: the status
     * line, the container's {@code Date}, {@code Cache-Status}, a sticky cookie.
     */
    static final int RESPONSE_HEAD_RESERVE = 512;

    /** Never dropped to make a response head fit: without them the body would mean something else. */
    private static final Set<HttpHeader> ESSENTIAL = EnumSet.of(
            HttpHeader.CONTENT_LENGTH,
            HttpHeader.CONTENT_TYPE,
            HttpHeader.CONTENT_ENCODING,
            HttpHeader.CONTENT_RANGE,
            HttpHeader.LOCATION,
            HttpHeader.VIA);
    /**
     * Never forwarded in either direction. {@code Expect} is answered by the container itself, as
     * nginx does, so the backend never waits for a 100 that nobody will read.
     */
    private static final Set<HttpHeader> HOP_BY_HOP = EnumSet.of(
            HttpHeader.CONNECTION,
            HttpHeader.KEEP_ALIVE,
            HttpHeader.PROXY_AUTHORIZATION,
            HttpHeader.PROXY_AUTHENTICATE,
            HttpHeader.PROXY_CONNECTION,
            HttpHeader.TRANSFER_ENCODING,
            HttpHeader.TE,
            HttpHeader.TRAILER,
            HttpHeader.UPGRADE,
            HttpHeader.EXPECT);

    private ForwardHeaders() {}

    /**
     * Copies the client's headers to the backend request, minus hop-by-hop, plus the forwarding headers.
     *
     * <p>{@code X-Forwarded-For} and {@code Forwarded} are appended to (nginx's
     * {@code $proxy_add_x_forwarded_for}) only when the peer is a trusted proxy; from any other peer they
     * are dropped and the chain starts afresh at the peer, so a backend can believe its left-most entry as
     * far as this proxy's trust reaches. From such a peer the headers of {@code security.strip-request-headers}
     * go too ({@code X-Original-URL}, {@code X-HTTP-Method-Override}...): applications read them, caches do
     * not key on them, so a client could otherwise store its own variant of a page for everybody. The
     * security step may also remove headers ({@code Authorization}
     * on an authenticated route, claim headers a client sent itself) and add the validated claims.
     */
    static void clientToServer(
            ClientExchange client,
            Admission admission,
            boolean preserveHost,
            String via,
            Set<String> untrustedStripped,
            HttpFields.Mutable out) {
        boolean trusted = admission.peerTrusted();
        boolean stripsUntrusted = !trusted && !untrustedStripped.isEmpty();
        boolean removes = admission.removesRequestHeaders();
        HttpFields in = client.requestHeaders();
        Set<String> connectionTokens = connectionTokens(in);
        String xff = null;
        String forwarded = null;
        String viaIn = null;
        for (int i = 0, n = in.size(); i < n; i++) { // by index: no iterator per request
            HttpField field = in.getField(i);
            HttpHeader header = field.getHeader();
            if (header != null) {
                if (HOP_BY_HOP.contains(header) || header == HttpHeader.HOST) {
                    continue;
                }
                if (header == HttpHeader.X_FORWARDED_FOR) {
                    xff = trusted ? join(xff, field.getValue()) : null;
                    continue;
                }
                if (header == HttpHeader.FORWARDED) {
                    forwarded = trusted ? join(forwarded, field.getValue()) : null;
                    continue;
                }
                if (header == HttpHeader.VIA) {
                    viaIn = join(viaIn, field.getValue());
                    continue;
                }
                if (header == HttpHeader.X_FORWARDED_PROTO
                        || header == HttpHeader.X_FORWARDED_HOST
                        || header == HttpHeader.X_FORWARDED_PORT) {
                    continue; // replaced below: this hop knows better than the client
                }
            }
            if (connectionTokens != null && connectionTokens.contains(field.getLowerCaseName())) {
                continue;
            }
            if (removes && admission.removesRequestHeader(field.getLowerCaseName())) {
                continue;
            }
            if (stripsUntrusted
                    && untrustedStripped.contains(header == null ? field.getName() : header.lowerCaseName())) {
                continue; // security.strip-request-headers: unkeyed, yet read by applications (cache poisoning)
            }
            out.add(field);
        }
        List<Header> upstream = admission.upstreamHeaders();
        for (int i = 0, n = upstream.size(); i < n; i++) {
            out.put(upstream.get(i).name(), upstream.get(i).value());
        }
        String remote = client.remoteAddress();
        String authority = client.authority();
        String scheme = client.scheme();
        // The loop above copied none of these names; only the security step's headers might have set one.
        // Then put replaces it as before; else add, which skips put's search of the fields (an iterator each).
        boolean replace = !upstream.isEmpty();
        if (preserveHost) {
            set(out, replace, HOST, authority);
        }
        // Most requests carry the same values as the one before (one client address, one host, one port):
        // the fields are reused from the last request that had them, not made anew (see Recent).
        if (xff == null) {
            set(out, replace, XFF, remote);
        } else {
            set(out, replace, HttpHeader.X_FORWARDED_FOR, join(xff, remote));
        }
        set(out, replace, PROTO, scheme);
        set(out, replace, X_HOST, authority);
        set(out, replace, portField(client.localPort()));
        if (forwarded == null) {
            set(out, replace, forwardedField(remote, authority, scheme));
        } else {
            set(out, replace, HttpHeader.FORWARDED, join(forwarded, forwardedElement(remote, authority, scheme)));
        }
        if (viaIn == null) {
            set(out, replace, viaField(client.protocol(), via));
        } else {
            set(out, replace, HttpHeader.VIA, join(viaIn, viaElement(client.protocol(), via)));
        }
    }

    private static void set(HttpFields.Mutable out, boolean replace, HttpHeader header, String value) {
        if (replace) {
            out.put(header, value);
        } else {
            out.add(header, value);
        }
    }

    /** As {@link #set(HttpFields.Mutable, boolean, HttpHeader, String)}, with the field reused when it repeats. */
    private static void set(HttpFields.Mutable out, boolean replace, Recent recent, String value) {
        if (value == null) {
            set(out, replace, recent.header, value);
        } else {
            set(out, replace, recent.field(value));
        }
    }

    private static void set(HttpFields.Mutable out, boolean replace, HttpField field) {
        if (replace) {
            out.put(field);
        } else {
            out.add(field);
        }
    }

    /** Whether {@link #serverToClient} removes or rewrites this backend field. */
    private static boolean edited(
            HttpField field, Set<String> connectionTokens, boolean stripsMore, ResponseHygiene hygiene) {
        HttpHeader header = field.getHeader();
        if (header != null
                && (HOP_BY_HOP.contains(header)
                        || header == HttpHeader.VIA
                        || header == HttpHeader.LOCATION
                        || header == HttpHeader.CONTENT_LOCATION
                        || header == HttpHeader.SERVER
                        || header == HttpHeader.X_POWERED_BY)) {
            return true;
        }
        return (connectionTokens != null && connectionTokens.contains(field.getLowerCaseName()))
                || (stripsMore && hygiene.strips(field.getLowerCaseName()));
    }

    /** Whether a field of this name is among the fields: an indexed pass, where put would iterate and search. */
    private static boolean has(HttpFields fields, String name) {
        for (int i = 0, size = fields.size(); i < size; i++) {
            if (fields.getField(i).is(name)) {
                return true;
            }
        }
        return false;
    }

    /** The configured response headers as fields, made once each (a reload's new ones replace them in time). */
    private static final java.util.concurrent.ConcurrentHashMap<Header, HttpField> SECURITY_FIELDS =
            new java.util.concurrent.ConcurrentHashMap<>();

    private static HttpField securityField(Header header) {
        HttpField field = SECURITY_FIELDS.get(header);
        if (field == null) {
            if (SECURITY_FIELDS.size() > 256) {
                SECURITY_FIELDS.clear(); // many reloads with other values: start again rather than grow
            }
            field = new PreEncodedHttpField(header.name(), header.value());
            SECURITY_FIELDS.put(header, field);
        }
        return field;
    }

    /**
     * The last field made of one header and a value, reused while the value repeats. Fields are immutable, so
     * requests on any thread may share one; a race only makes one more.
     */
    private static final class Recent {
        private final HttpHeader header;
        /** The value is one of very few (a scheme): worth encoding once into bytes the writers copy. */
        private final boolean preEncoded;

        private volatile HttpField last;

        Recent(HttpHeader header, boolean preEncoded) {
            this.header = header;
            this.preEncoded = preEncoded;
        }

        HttpField field(String value) {
            HttpField field = last;
            if (field == null || !field.getValue().equals(value)) {
                field = preEncoded ? new PreEncodedHttpField(header, value) : new HttpField(header, value);
                last = field;
            }
            return field;
        }
    }

    // Values that change with the client (its address, its Host) are not pre-encoded: with many clients taking
    // turns, each request would encode its field for every protocol, where a plain field costs one object.
    private static final Recent HOST = new Recent(HttpHeader.HOST, false);
    private static final Recent XFF = new Recent(HttpHeader.X_FORWARDED_FOR, false);
    private static final Recent PROTO = new Recent(HttpHeader.X_FORWARDED_PROTO, true);
    private static final Recent X_HOST = new Recent(HttpHeader.X_FORWARDED_HOST, false);

    private record PortField(int port, HttpField field) {}

    private static volatile PortField lastPort = new PortField(-1, null);

    private static HttpField portField(int port) {
        PortField last = lastPort;
        if (last.port() != port) {
            last = new PortField(port, new PreEncodedHttpField(HttpHeader.X_FORWARDED_PORT, Integer.toString(port)));
            lastPort = last;
        }
        return last.field();
    }

    private record ForwardedField(String remote, String authority, String scheme, HttpField field) {}

    private static volatile ForwardedField lastForwarded = new ForwardedField("", "", "", null);

    /** {@code Forwarded} of a request that had none: made once for each new remote, authority and scheme. */
    private static HttpField forwardedField(String remote, String authority, String scheme) {
        ForwardedField last = lastForwarded;
        if (!last.remote().equals(remote)
                || !last.authority().equals(authority)
                || !last.scheme().equals(scheme)) {
            last = new ForwardedField(
                    remote,
                    authority,
                    scheme,
                    new HttpField(HttpHeader.FORWARDED, forwardedElement(remote, authority, scheme)));
            lastForwarded = last;
        }
        return last.field();
    }

    private record ViaField(String protocol, String pseudonym, HttpField field) {}

    private static volatile ViaField lastRequestVia = new ViaField("", "", null);
    private static volatile ViaField lastResponseVia = new ViaField("", "", null);

    /** {@code Via} of a request that had none: this hop alone. */
    private static HttpField viaField(String protocol, String pseudonym) {
        ViaField last = lastRequestVia;
        if (!java.util.Objects.equals(last.protocol(), protocol)
                || !last.pseudonym().equals(pseudonym)) {
            last = new ViaField(
                    protocol, pseudonym, new PreEncodedHttpField(HttpHeader.VIA, viaElement(protocol, pseudonym)));
            lastRequestVia = last;
        }
        return last.field();
    }

    /** {@code Via} of a response that had none: this hop alone, in HTTP/1.1 as the backend spoke it. */
    private static HttpField responseViaField(String pseudonym) {
        ViaField last = lastResponseVia;
        if (!last.pseudonym().equals(pseudonym)) {
            last = new ViaField(
                    "HTTP/1.1", pseudonym, new PreEncodedHttpField(HttpHeader.VIA, viaElement("HTTP/1.1", pseudonym)));
            lastResponseVia = last;
        }
        return last.field();
    }

    /**
     * Makes the backend's response headers the client's, in place: hop-by-hop fields and backend identity
     * ({@code Server}, {@code X-Powered-By}, configured ones) go, {@code Location}/{@code Content-Location} are
     * rewritten, {@code Via} and the configured security headers are added. The fields are the exchange's own,
     * parsed for this response (the backend's fields a caller still needs, it copies first): no field is made
     * again and no second set is built.
     */
    static HttpFields.Mutable serverToClient(
            HttpFields.Mutable out,
            ClientExchange client,
            Backend backend,
            ForwardRoute route,
            String via,
            ResponseHygiene hygiene) {
        boolean stripsMore = hygiene.stripsMore();
        Set<String> connectionTokens = connectionTokens(out);
        String viaIn = null;
        java.util.ListIterator<HttpField> edits = null;
        for (int i = 0, n = out.size(); i < n; i++) {
            HttpField field = out.getField(i);
            if (edited(field, connectionTokens, stripsMore, hygiene)) {
                edits = out.listIterator(i); // the first edit: from here on, through one iterator
                break;
            }
        }
        if (edits != null) {
            while (edits.hasNext()) {
                HttpField field = edits.next();
                if (!edited(field, connectionTokens, stripsMore, hygiene)) {
                    continue;
                }
                HttpHeader header = field.getHeader();
                if (header == HttpHeader.LOCATION || header == HttpHeader.CONTENT_LOCATION) {
                    String value = field.getValue();
                    String rewritten = rewriteLocation(value, backend, route, client);
                    if (rewritten != null && !rewritten.equals(value)) {
                        edits.set(new HttpField(header, field.getName(), rewritten));
                    }
                    continue;
                }
                if (header == HttpHeader.VIA) {
                    viaIn = join(viaIn, field.getValue());
                }
                edits.remove();
            }
        }
        if (viaIn == null) {
            out.add(responseViaField(via)); // the backend sent no Via
        } else {
            out.add(HttpHeader.VIA, join(viaIn, viaElement("HTTP/1.1", via)));
        }
        List<Header> security = hygiene.headers("https".equalsIgnoreCase(client.scheme()));
        for (int i = 0, n = security.size(); i < n; i++) {
            Header header = security.get(i);
            if (header.value() == null || has(out, header.name())) {
                out.put(header.name(), header.value()); // replaces the backend's
            } else {
                out.add(securityField(header)); // the usual case: the backend sent none
            }
        }
        fitResponseHead(out, client.maxResponseHeadBytes() - RESPONSE_HEAD_RESERVE, client, backend);
        return out;
    }

    /**
     * Makes the response head fit the client side's limit. A backend may send a head this proxy's upstream
     * client accepts (up to 64 KiB) but the container cannot send on (8 KiB by default in Jetty and Tomcat):
     * the container would then fail the response (Jetty answers 500, Tomcat closes the connection) after the
     * backend answered well. Instead the largest fields go, essential ones last never, until the head fits,
     * and each one dropped is logged with its size and why.
     *
     * @param budget bytes for the fields, each counted as {@code name: value CRLF}
     */
    static void fitResponseHead(HttpFields.Mutable out, int budget, ClientExchange client, Backend backend) {
        int total = 0;
        for (int i = 0, n = out.size(); i < n; i++) {
            total += size(out.getField(i));
        }
        if (total <= budget) {
            return;
        }
        int before = total;
        StringBuilder dropped = new StringBuilder();
        while (total > budget) {
            HttpField largest = null;
            int largestSize = 0;
            for (int i = 0, n = out.size(); i < n; i++) {
                HttpField field = out.getField(i);
                int size = size(field);
                if (size > largestSize && (field.getHeader() == null || !ESSENTIAL.contains(field.getHeader()))) {
                    largest = field;
                    largestSize = size;
                }
            }
            if (largest == null) {
                break; // only essential fields left: the container decides
            }
            for (java.util.ListIterator<HttpField> it = out.listIterator(); it.hasNext(); ) {
                if (it.next() == largest) {
                    it.remove();
                    break;
                }
            }
            total -= largestSize;
            dropped.append(dropped.length() == 0 ? "" : ", ")
                    .append(largest.getName())
                    .append(" (")
                    .append(largestSize)
                    .append(" bytes)");
        }
        LOG.warn(
                "{} {}: dropped response headers of backend {} to fit the client side's {}-byte response head"
                        + " (it would have been {} bytes): {}",
                client.method(),
                client.path(),
                backend == null ? "-" : backend.name(),
                budget + RESPONSE_HEAD_RESERVE,
                before + RESPONSE_HEAD_RESERVE,
                dropped);
    }

    private static int size(HttpField field) {
        String value = field.getValue();
        return field.getName().length() + 4 + (value == null ? 0 : value.length());
    }

    /**
     * Maps a {@code Location} that points at the backend back to the proxy, the way nginx's
     * {@code proxy_redirect default} does, and puts back what the proxy took off the path
     * (the webapp context path, a stripped route prefix).
     */
    static String rewriteLocation(String location, Backend backend, ForwardRoute route, ClientExchange client) {
        if (location == null || location.isEmpty()) {
            return location;
        }
        String clientPrefix = client.basePath() + (route.stripPrefix() ? route.prefix() : "");
        int schemeEnd = location.indexOf("://");
        if (schemeEnd > 0) {
            int authorityStart = schemeEnd + 3;
            int authorityEnd = authorityStart;
            while (authorityEnd < location.length() && "/?#".indexOf(location.charAt(authorityEnd)) < 0) {
                authorityEnd++;
            }
            String scheme = location.substring(0, schemeEnd);
            String authority = location.substring(authorityStart, authorityEnd);
            if (pointsAt(scheme, authority, backend)) {
                String rest = location.substring(authorityEnd);
                if (rest.isEmpty() || rest.charAt(0) != '/') {
                    rest = "/" + rest;
                }
                return client.scheme() + "://" + client.authority() + clientPrefix + rest;
            }
            return location;
        }
        if (!clientPrefix.isEmpty() && location.charAt(0) == '/' && !location.startsWith("//")) {
            return clientPrefix + location;
        }
        return location;
    }

    private static boolean pointsAt(String scheme, String authority, Backend backend) {
        if (!scheme.equalsIgnoreCase(backend.scheme())) {
            return false;
        }
        String host = authority;
        int port = "https".equalsIgnoreCase(scheme) ? 443 : 80;
        int colon = authority.lastIndexOf(':');
        if (colon > authority.lastIndexOf(']')) {
            host = authority.substring(0, colon);
            try {
                port = Integer.parseInt(authority.substring(colon + 1));
            } catch (NumberFormatException e) {
                return false;
            }
        }
        return port == backend.port() && host.equalsIgnoreCase(backend.host());
    }

    /** Header names listed in {@code Connection}, lower case; null when there are none to remove. */
    private static Set<String> connectionTokens(HttpFields fields) {
        Set<String> tokens = null;
        for (int i = 0, size = fields.size(); i < size; i++) { // by index: no iterator per call
            HttpField field = fields.getField(i);
            if (field.getHeader() != HttpHeader.CONNECTION) {
                continue;
            }
            String value = field.getValue();
            if (value == null || value.equalsIgnoreCase("keep-alive") || value.equalsIgnoreCase("close")) {
                continue; // the usual value, and one this loop skips anyway: not parsed as a list
            }
            for (String token : field.getValues()) {
                String name = token.trim().toLowerCase(Locale.ROOT);
                if (name.isEmpty() || name.equals("close") || name.equals("keep-alive")) {
                    continue;
                }
                if (tokens == null) {
                    tokens = new TreeSet<>();
                }
                tokens.add(name);
            }
        }
        return tokens;
    }

    private static String forwardedElement(String remote, String authority, String scheme) {
        String node = remote.indexOf(':') >= 0 ? "\"[" + remote + "]\"" : remote;
        return "for=" + node + ";host=\"" + authority.replace("\\", "\\\\").replace("\"", "\\\"") + "\";proto="
                + scheme;
    }

    private static String viaElement(String protocol, String pseudonym) {
        String version = protocol != null && protocol.startsWith("HTTP/") ? protocol.substring(5) : "1.1";
        if (version.equals("2.0")) {
            version = "2";
        }
        return version + " " + pseudonym;
    }

    private static String join(String existing, String value) {
        if (existing == null || existing.isEmpty()) {
            return value;
        }
        return existing + ", " + value;
    }
}
