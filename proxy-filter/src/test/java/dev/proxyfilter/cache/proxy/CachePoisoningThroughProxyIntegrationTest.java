package dev.proxyfilter.cache.proxy;

import static dev.proxyfilter.cache.proxy.CacheProxy.cacheStatus;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.cache.proxy.CacheProxy.Reply;
import dev.proxyfilter.config.Cidr;
import dev.proxyfilter.config.SecurityConfig;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Cache poisoning through the real proxy (RFC 9111 §4 and §7.3: the key is the method and URI plus what
 * {@code Vary} names). A request header an application reflects but no cache keys on lets one client store
 * its own variant for everybody: from clients outside {@code security.trusted-proxies} those headers never
 * reach the backend. A {@code GET} with a body (RFC 9110 §9.3.1: content with no defined semantics) is
 * forwarded but kept away from the cache. The backend here reflects every such header into its page.
 */
@Timeout(30)
class CachePoisoningThroughProxyIntegrationTest {
    private static final List<String> UNKEYED = List.of(
            "X-Forwarded-Scheme",
            "X-Forwarded-Prefix",
            "X-Forwarded-Server",
            "X-Original-URL",
            "X-Rewrite-URL",
            "X-HTTP-Method-Override",
            "X-HTTP-Method",
            "X-Method-Override",
            "X-Host",
            "X-Forwarded-Host");

    private CacheProxy cache = CacheProxy.start();

    @AfterEach
    void close() {
        cache.close();
    }

    private void reflecting(String path) {
        cache.script(path, r -> {
            StringBuilder page = new StringBuilder("page");
            for (String name : UNKEYED) {
                String value = r.header(name);
                if (value != null && value.contains("evil")) {
                    page.append(' ').append(name).append('=').append(value);
                }
            }
            return Reply.ok(page.toString()).cc("max-age=60");
        });
    }

    private String[] attack() {
        String[] headers = new String[UNKEYED.size() * 2];
        for (int i = 0; i < UNKEYED.size(); i++) {
            headers[2 * i] = UNKEYED.get(i);
            headers[2 * i + 1] = "evil.example";
        }
        return headers;
    }

    @Test
    void section4_headersAnApplicationReflectsButNoCacheKeysOnNeverReachTheBackendFromAnUntrustedClient()
            throws Exception {
        reflecting("/page");

        var poisoned = cache.get("/page", attack());
        var victim = cache.get("/page");

        assertThat(poisoned.body()).isEqualTo("page");
        assertThat(victim.body()).isEqualTo("page");
        for (String name : UNKEYED) {
            assertThat(cache.last("/page").header(name)).as(name).isNotEqualTo("evil.example");
        }
    }

    @Test
    void section4_theListIsConfigurableAndATrustedProxyKeepsItsHeaders() throws Exception {
        cache.close();
        cache = CacheProxy.start(SecurityConfig.NONE.withStripRequestHeaders(List.of("x-tenant")));
        cache.script("/t", r -> Reply.ok(String.valueOf(r.header("X-Tenant")) + " " + r.header("X-Original-URL")));

        cache.get("/t", "X-Tenant", "evil", "X-Original-URL", "/admin");
        assertThat(cache.last("/t").header("X-Tenant")).isNull();
        assertThat(cache.last("/t").header("X-Original-URL")).isEqualTo("/admin"); // no longer listed

        cache.close();
        cache = CacheProxy.start(new SecurityConfig(
                List.of(Cidr.parse("127.0.0.1/32"), Cidr.parse("::1/128")),
                SecurityConfig.ClientIpHeader.X_FORWARDED_FOR,
                List.of(),
                List.of(),
                null,
                SecurityConfig.DEFAULT_RATE_LIMIT_MAX_KEYS,
                0,
                List.of(),
                Map.of(),
                null,
                Map.of()));
        cache.script("/trusted", r -> Reply.ok("ok"));
        cache.get("/trusted", "X-Forwarded-Prefix", "/app", "X-Original-URL", "/x");
        assertThat(cache.last("/trusted").header("X-Forwarded-Prefix")).isEqualTo("/app");
        assertThat(cache.last("/trusted").header("X-Original-URL")).isEqualTo("/x");
    }

    private HttpResponse<String> getWithBody(String path, String body) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(cache.proxy().uri().resolve(path))
                .timeout(Duration.ofSeconds(30))
                .method("GET", HttpRequest.BodyPublishers.ofString(body))
                .build();
        return cache.http().send(request, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void rfc9110_section9_3_1_aGetWithABodyIsForwardedButNeverStoredNorAnsweredFromTheCache() throws Exception {
        cache.script("/search", r -> Reply.ok("result " + r.n()).cc("max-age=60"));

        var stored = cache.get("/search"); // an ordinary GET stores "result 1"
        var first = getWithBody("/search", "{\"query\":\"a\"}");
        var second = getWithBody("/search", "{\"query\":\"b\"}");
        var plain = cache.get("/search");

        assertThat(stored.body()).isEqualTo("result 1");
        assertThat(first.body()).isEqualTo("result 2");
        assertThat(second.body()).isEqualTo("result 3");
        assertThat(cacheStatus(second))
                .contains("fwd=bypass", "detail=request-body")
                .doesNotContain("stored");
        assertThat(plain.body()).isEqualTo("result 1"); // neither answered nor replaced what is stored
        assertThat(cache.count("/search")).isEqualTo(3);
    }
}
