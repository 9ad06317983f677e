package dev.proxyfilter.route;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Host plus longest-path-prefix lookup. (Interim; the balance-route branch replaces it.)
 *
 * @param <T> what a route maps to
 */
public final class RouteTable<T> {

    /** One route: {@code host} null or empty for any host; {@code pathPrefix} starts with "/". */
    public record Entry<T>(String host, String pathPrefix, T value) {
    }

    private final List<Entry<T>> entries;

    private RouteTable(List<Entry<T>> entries) {
        List<Entry<T>> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingInt((Entry<T> e) -> e.host() == null || e.host().isEmpty() ? 1 : 0)
                .thenComparing(Comparator.comparingInt((Entry<T> e) -> e.pathPrefix().length()).reversed()));
        this.entries = sorted;
    }

    /** Builds a table; entries may come in any order. */
    public static <T> RouteTable<T> of(List<Entry<T>> entries) {
        return new RouteTable<>(entries);
    }

    /** The value of the best route, or {@code null}. */
    public T match(String host, String path) {
        String h = host == null ? "" : host.replaceFirst(":\\d+$", "");
        for (Entry<T> e : entries) {
            if (e.host() != null && !e.host().isEmpty() && !e.host().equalsIgnoreCase(h)) {
                continue;
            }
            String p = e.pathPrefix();
            if (p.equals("/") || path.equals(p) || (path.startsWith(p) && (p.endsWith("/") || path.charAt(p.length()) == '/'))) {
                return e.value();
            }
        }
        return null;
    }
}
