package dev.proxyfilter.cache;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;

/**
 * Invalidation after unsafe requests (RFC 9111 §4.4): when a request with an unsafe method (anything but
 * {@code GET}, {@code HEAD}, {@code OPTIONS}, {@code TRACE}, unknown methods included) gets a non-error
 * response (2xx or 3xx), what is stored for its target URI is invalidated, and so is what is stored for
 * the URIs in {@code Location} and {@code Content-Location}, resolved against the target, but only when
 * they have the target's origin (scheme, host and port), so that one site cannot evict another's entries.
 */
public final class Invalidation {

    private Invalidation() {}

    /** Whether the method is unsafe (RFC 9110 §9.2.1); unknown methods count as unsafe. */
    public static boolean isUnsafe(String method) {
        return switch (method) {
            case "GET", "HEAD", "OPTIONS", "TRACE" -> false;
            default -> true;
        };
    }

    /**
     * The primary keys to invalidate after this exchange; empty when nothing is to be invalidated.
     *
     * @param method          the request method
     * @param status          the response status
     * @param targetUri       the request's primary key, as {@link CacheKeys#uri} builds it
     * @param responseHeaders the response headers as the client sees them ({@code Location} already
     *                        rewritten from the backend's address to the proxy's)
     */
    public static List<String> targets(String method, int status, String targetUri, HttpFields responseHeaders) {
        if (!isUnsafe(method) || status < 200 || status >= 400) {
            return List.of();
        }
        List<String> keys = new ArrayList<>(3);
        keys.add(targetUri);
        addSameOrigin(keys, targetUri, responseHeaders.get(HttpHeader.LOCATION));
        addSameOrigin(keys, targetUri, responseHeaders.get(HttpHeader.CONTENT_LOCATION));
        return keys;
    }

    private static void addSameOrigin(List<String> keys, String targetUri, String reference) {
        String key = sameOriginKey(targetUri, reference);
        if (key != null && !keys.contains(key)) {
            keys.add(key);
        }
    }

    /**
     * The normalised key of a URI reference ({@code Location}, {@code Content-Location}) resolved against the
     * target, when it has the target's origin; {@code null} otherwise, or when it is not a URI.
     */
    static String sameOriginKey(String targetUri, String reference) {
        if (reference == null || reference.isBlank()) {
            return null;
        }
        try {
            URI target = new URI(targetUri);
            URI resolved = target.resolve(new URI(reference.trim()));
            if (resolved.getScheme() == null || resolved.getRawAuthority() == null) {
                return null;
            }
            String key = CacheKeys.uri(
                    resolved.getScheme(), resolved.getRawAuthority(), resolved.getRawPath(), resolved.getRawQuery());
            return origin(key).equals(origin(targetUri)) ? key : null;
        } catch (URISyntaxException | IllegalArgumentException e) {
            return null; // not a URI we can resolve
        }
    }

    /** {@code scheme://authority} of a normalised key. */
    private static String origin(String key) {
        int authorityStart = key.indexOf("://") + 3;
        int pathStart = key.indexOf('/', authorityStart);
        return pathStart < 0 ? key : key.substring(0, pathStart);
    }
}
