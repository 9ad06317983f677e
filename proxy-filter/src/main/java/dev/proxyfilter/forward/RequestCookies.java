package dev.proxyfilter.forward;

import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;

/**
 * Finds one cookie in a request's {@code Cookie} headers (RFC 6265 section 4.2), on demand: the engine
 * never parses cookies unless a pool asks for one, and then reads only up to the cookie it wants.
 */
final class RequestCookies {
    private RequestCookies() {}

    /**
     * The value of the first cookie called {@code name} (case-sensitive) in any {@code Cookie} header,
     * without surrounding double quotes, or {@code null}.
     */
    static String find(HttpFields headers, String name) {
        // Indexed rather than iterated: no iterator for the common case of a request with no Cookie.
        for (int f = 0; f < headers.size(); f++) {
            HttpField field = headers.getField(f);
            if (field.getHeader() != HttpHeader.COOKIE) {
                continue;
            }
            String value = find(field.getValue(), name);
            if (value != null) {
                return value;
            }
        }
        return null;
    }

    /** The value of cookie {@code name} in one {@code Cookie} header value, or {@code null}. */
    static String find(String header, String name) {
        if (header == null) {
            return null;
        }
        int n = header.length();
        int i = 0;
        while (i < n) {
            while (i < n && (header.charAt(i) == ' ' || header.charAt(i) == '\t' || header.charAt(i) == ';')) {
                i++;
            }
            int pairEnd = header.indexOf(';', i);
            if (pairEnd < 0) {
                pairEnd = n;
            }
            int eq = header.indexOf('=', i);
            if (eq > i
                    && eq < pairEnd
                    && trimmedEnd(header, i, eq) - i == name.length()
                    && header.regionMatches(i, name, 0, name.length())) {
                int start = eq + 1;
                int end = pairEnd;
                while (start < end && (header.charAt(start) == ' ' || header.charAt(start) == '\t')) {
                    start++;
                }
                end = trimmedEnd(header, start, end);
                if (end - start >= 2 && header.charAt(start) == '"' && header.charAt(end - 1) == '"') {
                    start++;
                    end--;
                }
                return header.substring(start, end);
            }
            i = pairEnd + 1;
        }
        return null;
    }

    /** {@code end} moved back over spaces and tabs, not before {@code start}. */
    private static int trimmedEnd(String text, int start, int end) {
        while (end > start && (text.charAt(end - 1) == ' ' || text.charAt(end - 1) == '\t')) {
            end--;
        }
        return end;
    }
}
