package dev.proxyfilter.cache;

import java.util.Objects;
import org.eclipse.jetty.http.HttpFields;

/**
 * What the cache reads of a client request: its method, effective URI parts and headers. Built by the
 * pipeline from its {@code ClientExchange}; nothing is copied.
 *
 * @param method    the request method
 * @param scheme    {@code http} or {@code https}, as the client connected
 * @param authority the {@code Host} the client asked for, with port if it gave one
 * @param path      the path as the client sent it (in a webapp, including the context path), percent-encoded
 * @param query     the raw query without "?", or {@code null}
 * @param headers   the client's request headers
 */
public record CacheRequest(
        String method, String scheme, String authority, String path, String query, HttpFields headers) {
    public CacheRequest {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(scheme, "scheme");
        Objects.requireNonNull(authority, "authority");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(headers, "headers");
    }

    /** The normalised effective request URI, the primary key of a {@code GET} ({@link CacheKeys#uri}). */
    public String uri() {
        return CacheKeys.uri(scheme, authority, path, query);
    }
}
