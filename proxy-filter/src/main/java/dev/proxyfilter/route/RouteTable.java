package dev.proxyfilter.route;

import java.util.List;

/**
 * Host plus longest-path-prefix lookup. TODO.
 *
 * @param <T> what a route maps to
 */
public final class RouteTable<T> {

    /** One route: {@code host} null or empty for any host; {@code pathPrefix} starts with "/". */
    public record Entry<T>(String host, String pathPrefix, T value) {
    }

    private RouteTable(List<Entry<T>> entries) {
    }

    /** Builds a table; entries may come in any order. */
    public static <T> RouteTable<T> of(List<Entry<T>> entries) {
        return new RouteTable<>(entries);
    }

    /**
     * The value of the best route, or {@code null}.
     *
     * @param host the request's Host (may carry a port, any case; may be null)
     * @param path the request path, already normalised, starting with "/"
     */
    public T match(String host, String path) {
        throw new UnsupportedOperationException("TODO");
    }
}
