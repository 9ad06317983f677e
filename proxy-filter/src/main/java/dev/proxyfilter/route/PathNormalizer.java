package dev.proxyfilter.route;

/**
 * Puts a request path into the one form that route matching, access rules and the backend all see,
 * so that {@code /public/../admin} cannot pass a rule for {@code /public} and then reach {@code /admin}.
 * A pure function: {@link #normalize} either returns the normal form or {@code null} for a path that
 * cannot be normalised safely, which the adapter answers with 400.
 *
 * <p>In order, following RFC 3986 section 6.2.2 where it is unambiguous:
 * <ol>
 *   <li>Percent-encoded unreserved characters are decoded ({@code %2e} is {@code .}, {@code %7E} is {@code ~});
 *       other escapes are kept, with upper-case hex digits.</li>
 *   <li>Empty segments are merged ({@code //} is {@code /}), as nginx's {@code merge_slashes} does.</li>
 *   <li>{@code .} segments are removed and {@code ..} removes the segment before it (section 5.2.4).</li>
 * </ol>
 * Rejected, because backends disagree about what they mean: an encoded slash or backslash ({@code %2F},
 * {@code %5C}), a raw backslash, an encoded NUL, a double-encoded dot, slash or backslash ({@code %252e}),
 * a malformed escape, a {@code ..} that would climb above the root, a dot segment carrying path
 * parameters ({@code ..;x}, which Tomcat reads as {@code ..}), and any character RFC 3986 does not allow
 * in a path (controls, space, non-ASCII, {@code "<>^`{|}}). Other path parameters ({@code ;jsessionid=...})
 * are kept as they are in the forwarded path; routes are matched on the path {@link #withoutParameters
 * without them}, as a servlet container backend maps it, so that {@code /admin;x} is routed (and
 * guarded) as {@code /admin}.
 */
public final class PathNormalizer {
    /** RFC 3986 pchar plus "/", as raw ASCII: unreserved, sub-delims, ":", "@", "%" (checked apart). */
    private static final boolean[] ALLOWED = new boolean[128];

    static {
        for (char c = 'a'; c <= 'z'; c++) {
            ALLOWED[c] = true;
        }
        for (char c = 'A'; c <= 'Z'; c++) {
            ALLOWED[c] = true;
        }
        for (char c = '0'; c <= '9'; c++) {
            ALLOWED[c] = true;
        }
        for (char c : "-._~!$&'()*+,;=:@/%".toCharArray()) {
            ALLOWED[c] = true;
        }
    }

    private PathNormalizer() {}

    /**
     * The normal form of a percent-encoded request path (without query), or {@code null} when it cannot be
     * normalised safely.
     */
    public static String normalize(String path) {
        if (path == null || path.isEmpty() || path.charAt(0) != '/') {
            return null;
        }
        if (isNormal(path)) {
            return path;
        }
        String decoded = decodeUnreserved(path);
        if (decoded == null) {
            return null;
        }
        return removeDotSegments(decoded);
    }

    /**
     * The path with every segment's parameters removed ({@code /a;x=1/b;jsessionid=2} is {@code /a/b}), and
     * a segment that was only parameters removed too ({@code /;x/admin} is {@code /admin}): what Tomcat and
     * Jetty map a request by, so what route matching must see. Returns {@code path} itself when it has none.
     */
    public static String withoutParameters(String path) {
        if (path.indexOf(';') < 0) {
            return path;
        }
        StringBuilder stripped = new StringBuilder(path.length());
        for (int i = 0; i < path.length(); i = next(path, i)) {
            if (keeps(path, i)) {
                stripped.append(path.charAt(i));
            }
        }
        return stripped.toString();
    }

    /**
     * Where in {@code path} the first {@code strippedLength} characters of {@link #withoutParameters}
     * end, past the parameters of the segment they end in: {@code /api;x/items} with 4 ({@code /api}) is 6,
     * the index of {@code /items}. For cutting a matched prefix off the path as it was received.
     */
    public static int indexAfter(String path, int strippedLength) {
        int kept = 0;
        int i = 0;
        while (i < path.length() && kept < strippedLength) {
            if (keeps(path, i)) {
                kept++;
            }
            i = next(path, i);
        }
        while (i < path.length() && !keeps(path, i)) {
            i = next(path, i);
        }
        return i;
    }

    /** The index after the character at {@code i}, or after the whole parameter run starting there. */
    private static int next(String path, int i) {
        if (path.charAt(i) != ';') {
            return i + 1;
        }
        int slash = path.indexOf('/', i);
        return slash < 0 ? path.length() : slash;
    }

    /**
     * Whether the character at {@code i} (not inside a parameter run) survives: not a {@code ;}, and not
     * the {@code /} that ends a segment which was only parameters.
     */
    private static boolean keeps(String path, int i) {
        char c = path.charAt(i);
        return c != ';' && !(c == '/' && i > 0 && path.charAt(i - 1) != '/' && onlyParameters(path, i));
    }

    /** Whether the segment ending at the {@code /} at {@code slash} consists of parameters only. */
    private static boolean onlyParameters(String path, int slash) {
        int start = path.lastIndexOf('/', slash - 1) + 1;
        return start < slash && path.charAt(start) == ';' && start > 0;
    }

    /** Fast path: only allowed characters, no escape, no empty or dot segment. */
    private static boolean isNormal(String path) {
        char previous = 0;
        int length = path.length();
        for (int i = 0; i < length; i++) {
            char c = path.charAt(i);
            if (c >= 128 || !ALLOWED[c] || c == '%') {
                return false;
            }
            if (previous == '/' && (c == '/' || c == '.')) {
                return false;
            }
            previous = c;
        }
        return true;
    }

    /** Decodes escapes of unreserved characters, upper-cases the others; null for a forbidden one. */
    private static String decodeUnreserved(String path) {
        StringBuilder out = new StringBuilder(path.length());
        int length = path.length();
        for (int i = 0; i < length; i++) {
            char c = path.charAt(i);
            if (c >= 128 || !ALLOWED[c]) {
                return null;
            }
            if (c != '%') {
                out.append(c);
                continue;
            }
            if (i + 2 >= length) {
                return null;
            }
            int high = Character.digit(path.charAt(i + 1), 16);
            int low = Character.digit(path.charAt(i + 2), 16);
            if (high < 0 || low < 0) {
                return null;
            }
            int value = high * 16 + low;
            if (value == '/' || value == '\\' || value == 0) {
                return null;
            }
            if (value == '%' && i + 4 < length) {
                // %25 followed by the hex of a dot, slash or backslash: decoded twice, it is one of them.
                int high2 = Character.digit(path.charAt(i + 3), 16);
                int low2 = Character.digit(path.charAt(i + 4), 16);
                int twice = high2 < 0 || low2 < 0 ? -1 : high2 * 16 + low2;
                if (twice == '.' || twice == '/' || twice == '\\') {
                    return null;
                }
            }
            if (isUnreserved(value)) {
                out.append((char) value);
            } else {
                out.append('%')
                        .append(Character.toUpperCase(path.charAt(i + 1)))
                        .append(Character.toUpperCase(path.charAt(i + 2)));
            }
            i += 2;
        }
        return out.toString();
    }

    private static boolean isUnreserved(int c) {
        return (c >= 'a' && c <= 'z')
                || (c >= 'A' && c <= 'Z')
                || (c >= '0' && c <= '9')
                || c == '-'
                || c == '.'
                || c == '_'
                || c == '~';
    }

    /** Merges empty segments and resolves dot segments; null when ".." climbs above the root. */
    private static String removeDotSegments(String path) {
        String[] segments = path.substring(1).split("/", -1);
        String[] kept = new String[segments.length];
        int size = 0;
        boolean trailingSlash = false;
        for (int i = 0; i < segments.length; i++) {
            String segment = segments[i];
            boolean last = i == segments.length - 1;
            int semicolon = segment.indexOf(';');
            String name = semicolon < 0 ? segment : segment.substring(0, semicolon);
            if (semicolon >= 0 && (name.equals(".") || name.equals(".."))) {
                return null;
            }
            if (segment.isEmpty() || segment.equals(".")) {
                trailingSlash = last;
                continue;
            }
            if (segment.equals("..")) {
                if (size == 0) {
                    return null;
                }
                size--;
                trailingSlash = last;
                continue;
            }
            kept[size++] = segment;
            trailingSlash = false;
        }
        StringBuilder out = new StringBuilder(path.length());
        for (int i = 0; i < size; i++) {
            out.append('/').append(kept[i]);
        }
        if (size == 0 || trailingSlash) {
            out.append('/');
        }
        return out.toString();
    }
}
