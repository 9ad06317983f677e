package dev.proxyfilter.route;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Host plus longest-path-prefix lookup, built once and then read concurrently without locks.
 *
 * <p>Matching follows nginx: the request's host selects a group of host-specific routes (a
 * {@code server} block), and the longest path prefix inside it wins (a {@code location}). When no
 * host-specific route matches the path, the host-less routes are tried the same way.
 *
 * <ul>
 *   <li>Hosts compare ASCII case-insensitively. The request host may carry a {@code :port}, may be an
 *       IPv6 literal ({@code [::1]} or {@code [::1]:8080}) and may end with the root dot
 *       ({@code example.com.}); none of that affects the match.</li>
 *   <li>A prefix matches whole segments: {@code /api} matches {@code /api}, {@code /api/} and
 *       {@code /api/x} but not {@code /apix}; {@code /api/} matches {@code /api/} and {@code /api/x} but
 *       not {@code /api}; {@code /} matches every path.</li>
 * </ul>
 *
 * <p>{@link #match} runs on every request, so everything is precomputed here: hosts are folded to
 * lower case into an open-addressing table probed with a case-folding hash of the request host, and
 * each group's prefixes are sorted longest first. A lookup allocates nothing.
 *
 * @param <T> what a route maps to
 */
public final class RouteTable<T> {

    /**
     * One route.
     *
     * @param host       host to match, without port, any case; {@code null} or empty for any host
     *                   (empty is stored as {@code null})
     * @param pathPrefix path prefix starting with "/"
     * @param value      what {@link RouteTable#match} returns for this route
     */
    public record Entry<T>(String host, String pathPrefix, T value) {
        public Entry {
            Objects.requireNonNull(pathPrefix, "pathPrefix");
            Objects.requireNonNull(value, "value");
            if (!pathPrefix.startsWith("/")) {
                throw new IllegalArgumentException("pathPrefix: " + pathPrefix + " (expected: starts with /)");
            }
            if (host != null && host.isEmpty()) {
                host = null;
            }
        }
    }

    /** Host-specific groups by folded host; slots are null where empty. Length is a power of two. */
    private final String[] hosts;

    private final Group[] hostGroups;
    private final int hostMask;
    private final boolean hasHosts;
    /** Routes for any host, tried when the host's own routes have no match; possibly empty. */
    private final Group anyHost;

    private RouteTable(List<Entry<T>> entries) {
        Map<String, List<Entry<T>>> byHost = new LinkedHashMap<>();
        List<Entry<T>> hostless = new ArrayList<>();
        for (Entry<T> entry : entries) {
            Objects.requireNonNull(entry, "entry");
            if (entry.host() == null) {
                hostless.add(entry);
            } else {
                byHost.computeIfAbsent(normalizeHost(entry.host()), h -> new ArrayList<>())
                        .add(entry);
            }
        }
        int capacity = Integer.highestOneBit(Math.max(1, byHost.size()) * 2 - 1) << 1;
        hosts = new String[capacity];
        hostGroups = new Group[capacity];
        hostMask = capacity - 1;
        hasHosts = !byHost.isEmpty();
        for (Map.Entry<String, List<Entry<T>>> e : byHost.entrySet()) {
            String host = e.getKey();
            int slot = spread(hash(host, 0, host.length())) & hostMask;
            while (hosts[slot] != null) {
                slot = (slot + 1) & hostMask;
            }
            hosts[slot] = host;
            hostGroups[slot] = new Group(host, e.getValue());
        }
        anyHost = new Group("any host", hostless);
    }

    /**
     * Builds a table; entries may come in any order.
     *
     * @throws IllegalArgumentException if two entries have the same host (ignoring case) and prefix, or
     *                                  an entry's host carries a port
     */
    public static <T> RouteTable<T> of(List<Entry<T>> entries) {
        return new RouteTable<>(entries);
    }

    /**
     * The value of the best route, or {@code null}.
     *
     * @param host the request's Host (may carry a port, any case; may be null)
     * @param path the request path, already normalised, starting with "/"; not null
     */
    public T match(String host, String path) {
        if (hasHosts && host != null && !host.isEmpty()) {
            Group group = hostGroup(host);
            if (group != null) {
                T value = group.match(path);
                if (value != null) {
                    return value;
                }
            }
        }
        return anyHost.match(path);
    }

    /** The group for the request host, or null; parses host[:port], [v6][:port] and bare v6 in place. */
    private Group hostGroup(String host) {
        int start = 0;
        int end = host.length();
        if (host.charAt(0) == '[') {
            int close = host.indexOf(']');
            if (close < 0) {
                return null;
            }
            start = 1;
            end = close;
        } else {
            int colon = host.indexOf(':');
            // One colon is host:port; more is a bare IPv6 literal, which has no port.
            if (colon >= 0 && host.indexOf(':', colon + 1) < 0) {
                end = colon;
            }
            if (end > 0 && host.charAt(end - 1) == '.') {
                end--;
            }
        }
        int length = end - start;
        int slot = spread(hash(host, start, end)) & hostMask;
        String candidate;
        while ((candidate = hosts[slot]) != null) {
            if (candidate.length() == length && equalsFolded(candidate, host, start)) {
                return hostGroups[slot];
            }
            slot = (slot + 1) & hostMask;
        }
        return null;
    }

    /** Lower case for ASCII letters only: host names are ASCII, and the result must not depend on locale. */
    private static char fold(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
    }

    /** Same as {@code fold(s.substring(start, end)).hashCode()}, without the substring. */
    private static int hash(String s, int start, int end) {
        int h = 0;
        for (int i = start; i < end; i++) {
            h = 31 * h + fold(s.charAt(i));
        }
        return h;
    }

    private static int spread(int h) {
        return h ^ (h >>> 16);
    }

    /** {@code folded} equals {@code s[start, start + folded.length())} ignoring ASCII case. */
    private static boolean equalsFolded(String folded, String s, int start) {
        for (int i = 0; i < folded.length(); i++) {
            if (folded.charAt(i) != fold(s.charAt(start + i))) {
                return false;
            }
        }
        return true;
    }

    /** Folds case, removes IPv6 brackets and a root dot, so that it compares with a parsed request host. */
    private static String normalizeHost(String host) {
        String h = host;
        if (h.startsWith("[")) {
            if (!h.endsWith("]")) {
                throw new IllegalArgumentException("host: " + host + " (expected: host name without port)");
            }
            h = h.substring(1, h.length() - 1);
        } else {
            int colon = h.indexOf(':');
            if (colon >= 0 && h.indexOf(':', colon + 1) < 0) {
                throw new IllegalArgumentException("host: " + host + " (expected: host name without port)");
            }
            if (h.endsWith(".")) {
                h = h.substring(0, h.length() - 1);
            }
        }
        if (h.isEmpty()) {
            throw new IllegalArgumentException("host: " + host + " (expected: host name or IP literal)");
        }
        StringBuilder folded = new StringBuilder(h.length());
        for (int i = 0; i < h.length(); i++) {
            folded.append(fold(h.charAt(i)));
        }
        return folded.toString();
    }

    /** The routes of one host (or of any host), longest prefix first. */
    private static final class Group {
        private final String[] prefixes;
        private final Object[] values;

        Group(String name, List<? extends Entry<?>> entries) {
            List<Entry<?>> sorted = new ArrayList<>(entries);
            // Longest first, so the first hit is the best; ties by text so that duplicates sit side by side.
            sorted.sort(Comparator.comparingInt((Entry<?> e) -> e.pathPrefix().length())
                    .reversed()
                    .thenComparing(Entry::pathPrefix));
            prefixes = new String[sorted.size()];
            values = new Object[sorted.size()];
            for (int i = 0; i < prefixes.length; i++) {
                prefixes[i] = sorted.get(i).pathPrefix();
                values[i] = sorted.get(i).value();
                if (i > 0 && prefixes[i].equals(prefixes[i - 1])) {
                    throw new IllegalArgumentException("pathPrefix: " + prefixes[i]
                            + " (expected: at most one route per host and prefix, found two for " + name + ")");
                }
            }
        }

        @SuppressWarnings("unchecked")
        <T> T match(String path) {
            for (int i = 0; i < prefixes.length; i++) {
                String prefix = prefixes[i];
                if (path.startsWith(prefix)) {
                    int n = prefix.length();
                    if (path.length() == n || prefix.charAt(n - 1) == '/' || path.charAt(n) == '/') {
                        return (T) values[i];
                    }
                }
            }
            return null;
        }
    }
}
