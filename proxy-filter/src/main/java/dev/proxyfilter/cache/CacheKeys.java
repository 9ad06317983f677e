package dev.proxyfilter.cache;

import dev.proxyfilter.http.Header;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import org.eclipse.jetty.http.HttpFields;

/**
 * Cache keys: the request method and effective URI, plus the request headers a stored response names in
 * {@code Vary}, and nothing else. A header that is not in the key cannot select what is served, so a
 * client cannot poison the cache through {@code X-Forwarded-Host}, {@code Cookie} or any other unkeyed
 * header (the origin must list such headers in {@code Vary} when its response depends on them).
 *
 * <h2>Primary key</h2>
 * {@code scheme://authority/path?query} of the effective request URI (RFC 9110 §7.1), normalised as RFC
 * 3986 §6.2.2 allows: scheme and host in lower case, the default port dropped, an empty path made "/",
 * the hex digits of percent-encodings in upper case. The query is kept byte for byte, its absence and an
 * empty query included. Only {@code GET} responses are stored, and {@code HEAD} is answered from them, so
 * the method part of the key is implicit: {@link #primary(String, String, String, String, String)} gives
 * a key for those two methods and {@code null} for every other one.
 *
 * <h2>Variant key</h2>
 * For a resource whose responses carry {@code Vary}, the primary key holds a {@link VaryIndex} and each
 * response is stored under {@code primary + "\n" + generation + ("\n" + name [":" + value])*}, with the
 * names sorted and each value {@linkplain #normalise(String, String) normalised}. A line feed cannot
 * occur in a URI or a normalised header value, so a variant key never collides with another resource's
 * key, and purging by a URI prefix reaches every variant.
 *
 * <p>The builders run on every cacheable request: they scan characters by hand, with no regular
 * expression and one {@link StringBuilder} sized up front.
 */
public final class CacheKeys {
    /** Separates a primary key from the rest of a variant key; never part of a URI or a normalised value. */
    public static final char VARIANT_SEPARATOR = '\n';

    private CacheKeys() {}

    /**
     * The primary key for a request, or {@code null} when the method is neither {@code GET} nor {@code HEAD}.
     *
     * @param method    the request method, case-sensitive (RFC 9110 §9.1)
     * @param scheme    {@code http} or {@code https}, as the client connected
     * @param authority the {@code Host} the client asked for, with port if it gave one
     * @param path      the path as the client sent it, still percent-encoded
     * @param query     the raw query without "?", or {@code null}
     */
    public static String primary(String method, String scheme, String authority, String path, String query) {
        if (!"GET".equals(method) && !"HEAD".equals(method)) {
            return null;
        }
        return uri(scheme, authority, path, query);
    }

    /** The normalised effective URI; see the class comment. */
    public static String uri(String scheme, String authority, String path, String query) {
        int pathLength = path == null ? 0 : path.length();
        int queryLength = query == null ? 0 : query.length() + 1;
        StringBuilder key = new StringBuilder(scheme.length() + 3 + authority.length() + pathLength + queryLength + 1);
        appendLowerCase(key, scheme);
        key.append("://");
        int portStart = portStart(authority);
        int hostEnd = portStart < 0 ? authority.length() : portStart;
        appendLowerCase(key, authority, 0, hostEnd);
        if (portStart >= 0 && !isDefaultPort(scheme, authority, portStart + 1)) {
            key.append(authority, hostEnd, authority.length());
        }
        if (pathLength == 0) {
            key.append('/');
        } else {
            appendPath(key, path);
        }
        if (query != null) {
            key.append('?').append(query);
        }
        return key.toString();
    }

    /**
     * The key of one variant: {@code primary}, the index's generation and the selected request values.
     *
     * @param selection as {@link #varySelection(List, HttpFields)} returns it for the index's names
     */
    public static String variant(String primary, VaryIndex index, List<Header> selection) {
        int length = primary.length() + 18;
        for (Header header : selection) {
            length += header.name().length()
                    + 2
                    + (header.value() == null ? 0 : header.value().length());
        }
        StringBuilder key = new StringBuilder(length);
        key.append(primary).append(VARIANT_SEPARATOR).append(Long.toHexString(index.generation()));
        for (Header header : selection) {
            key.append(VARIANT_SEPARATOR).append(header.name());
            if (header.value() != null) {
                key.append(':').append(header.value());
            }
        }
        return key.toString();
    }

    /**
     * The request's values for the given {@code Vary} names, in the same order: several field lines joined
     * with ", ", then {@linkplain #normalise(String, String) normalised}; a {@code null} value where the
     * request lacks the header.
     *
     * @param names lower case and sorted, as {@link #varyNames(List)} returns them
     */
    public static List<Header> varySelection(List<String> names, HttpFields requestHeaders) {
        return varySelection(names, requestHeaders, false);
    }

    /**
     * As {@link #varySelection(List, HttpFields)}; with {@code normaliseAccept}, {@code Accept-Language} and
     * {@code Accept-Encoding} are also {@linkplain #normaliseAcceptList normalised as lists}, so that values
     * that mean the same select the same variant.
     */
    public static List<Header> varySelection(List<String> names, HttpFields requestHeaders, boolean normaliseAccept) {
        if (names.isEmpty()) {
            return List.of();
        }
        List<Header> selection = new ArrayList<>(names.size());
        for (String name : names) {
            List<String> values = requestHeaders.getValuesList(name);
            String value;
            if (values.isEmpty()) {
                value = null;
            } else if (values.size() == 1) {
                value = normalise(name, values.get(0));
            } else {
                value = normalise(name, String.join(", ", values));
            }
            if (value != null
                    && normaliseAccept
                    && (name.equals("accept-language") || name.equals("accept-encoding"))) {
                value = normaliseAcceptList(value);
            }
            selection.add(new Header(name, value));
        }
        return List.copyOf(selection);
    }

    /**
     * The field names of {@code Vary} field values: lower case, sorted, without duplicates or empty
     * members. {@code *} is kept, alone, when present (the response is then never served from the cache).
     */
    public static List<String> varyNames(List<String> varyValues) {
        if (varyValues.isEmpty()) {
            return List.of();
        }
        TreeSet<String> names = new TreeSet<>();
        for (String value : varyValues) {
            int start = 0;
            for (int i = 0; i <= value.length(); i++) {
                if (i == value.length() || value.charAt(i) == ',') {
                    String name = value.substring(start, i).trim().toLowerCase(Locale.ROOT);
                    if (name.equals("*")) {
                        return List.of("*");
                    }
                    if (!name.isEmpty()) {
                        names.add(name);
                    }
                    start = i + 1;
                }
            }
        }
        return List.copyOf(names);
    }

    /**
     * Normalises a request header value for variant matching (RFC 9111 §4.1 allows any normalisation that
     * keeps the semantics): whitespace (and any control character) runs become one space, whitespace around
     * list commas goes, leading and trailing whitespace goes. The {@code Accept*} fields, whose tokens,
     * codings, charsets and language tags are case-insensitive, are also lower-cased.
     *
     * @param name the lower-case field name
     */
    public static String normalise(String name, String value) {
        boolean lowerCase = name.equals("accept-encoding")
                || name.equals("accept-language")
                || name.equals("accept-charset")
                || name.equals("accept");
        StringBuilder out = new StringBuilder(value.length());
        boolean pendingSpace = false;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c <= ' ' || c == 0x7f) {
                pendingSpace = out.length() > 0;
                continue;
            }
            if (c == ',') {
                pendingSpace = false;
                out.append(',');
                while (i + 1 < value.length() && value.charAt(i + 1) <= ' ') {
                    i++;
                }
                continue;
            }
            if (pendingSpace) {
                out.append(' ');
                pendingSpace = false;
            }
            out.append(lowerCase && c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c);
        }
        return out.toString();
    }

    /**
     * {@code Accept-Language} or {@code Accept-Encoding} (already {@linkplain #normalise normalised}: lower case,
     * no space around commas) in a canonical form, for {@code cache.normalise-accept}: the members in order of
     * descending weight (a stable sort, so members of equal weight keep the client's order, which some
     * servers read as a preference), each as {@code token[;q=weight]} with the weight in its shortest form and
     * left out when it is 1; later duplicates and empty members go. {@code en-US;q=1.0, en;q=0.90} and
     * {@code en-US,en;q=0.9} become the same {@code en-us,en;q=0.9}. A member whose parameters are not a
     * plain {@code q} keeps them as they are, and a value that is not a list of such members is left alone.
     */
    static String normaliseAcceptList(String value) {
        String[] members = value.split(",", -1);
        List<String> tokens = new ArrayList<>(members.length);
        List<Integer> weights = new ArrayList<>(members.length);
        List<String> rests = new ArrayList<>(members.length);
        for (String member : members) {
            String m = member.strip();
            if (m.isEmpty()) {
                continue;
            }
            int semicolon = m.indexOf(';');
            String token = (semicolon < 0 ? m : m.substring(0, semicolon)).strip();
            int weight = 1000;
            String rest = "";
            if (semicolon >= 0) {
                String params = m.substring(semicolon + 1).replace(" ", "");
                if (params.startsWith("q=") && params.indexOf(';') < 0) {
                    weight = qvalue(params.substring(2));
                    if (weight < 0) {
                        return value; // not a qvalue: nothing we can say it means
                    }
                } else {
                    rest = ";" + params;
                }
            }
            if (token.isEmpty() || tokens.contains(token)) {
                continue;
            }
            tokens.add(token);
            weights.add(weight);
            rests.add(rest);
        }
        Integer[] order = new Integer[tokens.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> Integer.compare(weights.get(b), weights.get(a)));
        StringBuilder out = new StringBuilder(value.length());
        for (int i : order) {
            if (out.length() > 0) {
                out.append(',');
            }
            out.append(tokens.get(i)).append(rests.get(i));
            int weight = weights.get(i);
            if (weight < 1000) {
                String digits = String.format(Locale.ROOT, "%03d", weight).replaceAll("0+$", "");
                out.append(";q=0").append(digits.isEmpty() ? "" : "." + digits);
            }
        }
        return out.toString();
    }

    /** An RFC 9110 §12.4.2 qvalue in thousandths, or -1: {@code 0}, {@code 0.5}, {@code 1.000}. */
    private static int qvalue(String q) {
        if (q.isEmpty() || q.length() > 5 || (q.charAt(0) != '0' && q.charAt(0) != '1')) {
            return -1;
        }
        int whole = q.charAt(0) - '0';
        if (q.length() == 1) {
            return whole * 1000;
        }
        if (q.charAt(1) != '.') {
            return -1;
        }
        int thousandths = 0;
        for (int i = 2, scale = 100; i < q.length(); i++, scale /= 10) {
            char c = q.charAt(i);
            if (c < '0' || c > '9' || (whole == 1 && c != '0')) {
                return -1;
            }
            thousandths += (c - '0') * scale;
        }
        return whole * 1000 + thousandths;
    }

    /** The index of the ':' before the port, or -1; IPv6 literals are bracketed. */
    private static int portStart(String authority) {
        for (int i = authority.length() - 1; i >= 0; i--) {
            char c = authority.charAt(i);
            if (c == ':') {
                return i;
            }
            if (c < '0' || c > '9') {
                return -1;
            }
        }
        return -1;
    }

    private static boolean isDefaultPort(String scheme, String authority, int portStart) {
        int length = authority.length() - portStart;
        if (length == 0) {
            return true; // "host:" is "host" (RFC 3986 §6.2.3)
        }
        if (length == 2 && scheme.equalsIgnoreCase("http")) {
            return authority.charAt(portStart) == '8' && authority.charAt(portStart + 1) == '0';
        }
        if (length == 3 && scheme.equalsIgnoreCase("https")) {
            return authority.startsWith("443", portStart);
        }
        return false;
    }

    private static void appendLowerCase(StringBuilder out, String s) {
        appendLowerCase(out, s, 0, s.length());
    }

    private static void appendLowerCase(StringBuilder out, String s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            out.append(c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c);
        }
    }

    /** Appends the path with percent-encoding hex digits in upper case. */
    private static void appendPath(StringBuilder out, String path) {
        if (path.charAt(0) != '/') {
            out.append('/');
        }
        int n = path.length();
        for (int i = 0; i < n; i++) {
            char c = path.charAt(i);
            out.append(c);
            if (c == '%' && i + 2 < n) {
                out.append(upperHex(path.charAt(i + 1))).append(upperHex(path.charAt(i + 2)));
                i += 2;
            }
        }
    }

    private static char upperHex(char c) {
        return c >= 'a' && c <= 'f' ? (char) (c - ('a' - 'A')) : c;
    }
}
