package dev.proxyfilter.security;

import dev.proxyfilter.config.SecurityConfig;
import dev.proxyfilter.http.Header;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What every response to a client loses and gains. Backend identity headers go: {@code Server} and
 * {@code X-Powered-By} always, plus {@code security.strip-response-headers}. Configured headers
 * ({@code security.response-headers.NAME}) are set on every response, replacing a backend's value of the
 * same name, and {@code Strict-Transport-Security} ({@code security.hsts}) on responses to https clients
 * only, as RFC 6797 section 7.2 requires. The lists are built once; nothing is allocated per response.
 */
public final class ResponseHygiene {
    /** Removed from every backend response. */
    public static final List<String> ALWAYS_STRIPPED = List.of("server", "x-powered-by");

    private final Set<String> stripped;
    private final boolean stripsMore;
    private final List<Header> plain;
    private final List<Header> secure;

    public ResponseHygiene(SecurityConfig config) {
        java.util.HashSet<String> names = new java.util.HashSet<>(ALWAYS_STRIPPED);
        for (String name : config.stripResponseHeaders()) {
            names.add(name.toLowerCase(Locale.ROOT));
        }
        this.stripped = Set.copyOf(names);
        this.stripsMore = stripped.size() > ALWAYS_STRIPPED.size();
        List<Header> headers = new ArrayList<>();
        for (Map.Entry<String, String> entry : config.responseHeaders().entrySet()) {
            if (config.hsts() == null || !entry.getKey().equalsIgnoreCase("Strict-Transport-Security")) {
                headers.add(new Header(entry.getKey(), entry.getValue()));
            }
        }
        this.plain = List.copyOf(headers);
        if (config.hsts() != null) {
            headers.add(new Header("Strict-Transport-Security", config.hsts()));
        }
        this.secure = List.copyOf(headers);
    }

    /** Whether a backend response header called {@code lowerCaseName} is removed. */
    public boolean strips(String lowerCaseName) {
        return stripped.contains(lowerCaseName);
    }

    /** Whether any header besides {@link #ALWAYS_STRIPPED} is removed. */
    public boolean stripsMore() {
        return stripsMore;
    }

    /** The headers to set on a response to a client that connected over https ({@code secure}) or not. */
    public List<Header> headers(boolean secure) {
        return secure ? this.secure : plain;
    }
}
