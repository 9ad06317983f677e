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

/**
 * Header hygiene in both directions: hop-by-hop removal (RFC 9110 §7.6.1), the forwarding headers
 * ({@code X-Forwarded-*}, RFC 7239 {@code Forwarded}, {@code Via}) and the rewriting of
 * {@code Location}/{@code Content-Location} that point at a backend.
 */
final class ForwardHeaders {
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
     * far as this proxy's trust reaches. The security step may also remove headers ({@code Authorization}
     * on an authenticated route, claim headers a client sent itself) and add the validated claims.
     */
    static void clientToServer(
            ClientExchange client, Admission admission, boolean preserveHost, String via, HttpFields.Mutable out) {
        boolean trusted = admission.peerTrusted();
        boolean removes = admission.removesRequestHeaders();
        HttpFields in = client.requestHeaders();
        Set<String> connectionTokens = connectionTokens(in);
        String xff = null;
        String forwarded = null;
        String viaIn = null;
        for (HttpField field : in) {
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
            set(out, replace, HttpHeader.HOST, authority);
        }
        set(out, replace, HttpHeader.X_FORWARDED_FOR, join(xff, remote));
        set(out, replace, HttpHeader.X_FORWARDED_PROTO, scheme);
        set(out, replace, HttpHeader.X_FORWARDED_HOST, authority);
        set(out, replace, HttpHeader.X_FORWARDED_PORT, Integer.toString(client.localPort()));
        set(out, replace, HttpHeader.FORWARDED, join(forwarded, forwardedElement(remote, authority, scheme)));
        set(out, replace, HttpHeader.VIA, join(viaIn, viaElement(client.protocol(), via)));
    }

    private static void set(HttpFields.Mutable out, boolean replace, HttpHeader header, String value) {
        if (replace) {
            out.put(header, value);
        } else {
            out.add(header, value);
        }
    }

    /**
     * Copies the backend's response headers for the client, minus hop-by-hop and backend identity
     * ({@code Server}, {@code X-Powered-By}, configured ones), plus {@code Via} and the configured
     * security headers.
     */
    static HttpFields.Mutable serverToClient(
            HttpFields in,
            ClientExchange client,
            Backend backend,
            ForwardRoute route,
            String via,
            ResponseHygiene hygiene) {
        boolean stripsMore = hygiene.stripsMore();
        HttpFields.Mutable out = HttpFields.build(in.size() + 1);
        Set<String> connectionTokens = connectionTokens(in);
        String viaIn = null;
        for (HttpField field : in) {
            HttpHeader header = field.getHeader();
            if (header != null) {
                if (HOP_BY_HOP.contains(header)) {
                    continue;
                }
                if (header == HttpHeader.VIA) {
                    viaIn = join(viaIn, field.getValue());
                    continue;
                }
                if (header == HttpHeader.LOCATION || header == HttpHeader.CONTENT_LOCATION) {
                    out.add(header, rewriteLocation(field.getValue(), backend, route, client));
                    continue;
                }
                if (header == HttpHeader.SERVER || header == HttpHeader.X_POWERED_BY) {
                    continue;
                }
            }
            if (connectionTokens != null && connectionTokens.contains(field.getLowerCaseName())) {
                continue;
            }
            if (stripsMore && hygiene.strips(field.getLowerCaseName())) {
                continue;
            }
            out.add(field);
        }
        out.add(HttpHeader.VIA, join(viaIn, viaElement("HTTP/1.1", via))); // the loop copied no Via
        List<Header> security = hygiene.headers("https".equalsIgnoreCase(client.scheme()));
        for (int i = 0, n = security.size(); i < n; i++) {
            out.put(security.get(i).name(), security.get(i).value());
        }
        return out;
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
        for (HttpField field : fields) {
            if (field.getHeader() != HttpHeader.CONNECTION) {
                continue;
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
