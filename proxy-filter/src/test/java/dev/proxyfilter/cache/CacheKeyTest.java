package dev.proxyfilter.cache;

import static dev.proxyfilter.cache.Http.T0;
import static dev.proxyfilter.cache.Http.bytes;
import static dev.proxyfilter.cache.Http.fields;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Cache keys: the method and the effective request URI (RFC 9110 §7.1, normalised per RFC 3986 §6.2.2 and
 * RFC 9110 §4.2.3) plus the {@code Vary}-selected headers (RFC 9111 §4.1, §2), and nothing else, so that no
 * unkeyed header can choose what is served.
 */
class CacheKeyTest {

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "http  | example.com      | /a/b      |        | http://example.com/a/b",
                "HTTP  | Example.COM      | /a/B      |        | http://example.com/a/B",
                "http  | example.com:80   | /         |        | http://example.com/",
                "https | example.com:443  | /         |        | https://example.com/",
                "https | example.com:80   | /         |        | https://example.com:80/",
                "http  | example.com:8080 | /         |        | http://example.com:8080/",
                "http  | example.com:     | /x        |        | http://example.com/x",
                "http  | [::1]:80         | /x        |        | http://[::1]/x",
                "http  | [::1]:8080       | /x        |        | http://[::1]:8080/x",
                "http  | example.com      | ''        |        | http://example.com/",
                "http  | example.com      | /a%2fb%c3 |        | http://example.com/a%2Fb%C3",
                "http  | example.com      | /search   | q=A&b= | http://example.com/search?q=A&b=",
                "http  | example.com      | /search   | ''     | http://example.com/search?",
            })
    void theEffectiveUriIsNormalised(String scheme, String authority, String path, String query, String key) {
        assertThat(CacheKeys.primary("GET", scheme, authority, path, query)).isEqualTo(key);
    }

    @Test
    void headSharesTheKeyOfGetAndOtherMethodsHaveNone() {
        assertThat(CacheKeys.primary("HEAD", "http", "a", "/", null))
                .isEqualTo(CacheKeys.primary("GET", "http", "a", "/", null));
        for (String method : new String[] {"POST", "PUT", "DELETE", "OPTIONS", "get"}) {
            assertThat(CacheKeys.primary(method, "http", "a", "/", null))
                    .as(method)
                    .isNull();
        }
    }

    @Test
    void theSchemeAndHostAreKeyed() {
        assertThat(CacheKeys.uri("https", "a.example", "/", null))
                .isNotEqualTo(CacheKeys.uri("http", "a.example", "/", null));
        assertThat(CacheKeys.uri("http", "b.example", "/", null))
                .isNotEqualTo(CacheKeys.uri("http", "a.example", "/", null));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "X-Forwarded-Host",
                "X-Forwarded-Proto",
                "X-Original-URL",
                "X-Rewrite-URL",
                "Forwarded",
                "Cookie",
                "Authorization",
                "User-Agent",
                "X-Http-Method-Override",
                "Accept-Encoding"
            })
    void anUnkeyedHeaderCannotSelectAnotherResponse(String header) {
        try (HttpCache cache = new HttpCache(
                ResponseStore.inMemory(10, 1024), CachePolicy.sharedCache(), new Coalescer(Duration.ZERO), "pf")) {
            CacheLookup first = cache.lookup(Http.get("/page"), T0);
            cache.store(first, 200, fields("Cache-Control", "public, max-age=60"), bytes("genuine"), T0, T0);

            // the same URI with any value of a header that the response did not name in Vary: same entry
            CacheLookup crafted = cache.lookup(Http.get("/page", header, "evil.example"), T0);
            assertThat(crafted.primaryKey()).isEqualTo(first.primaryKey());
            assertThat(crafted.entryKey()).isEqualTo(first.primaryKey());
            assertThat(Http.text(cache.answer(crafted, T0).body())).isEqualTo("genuine");
        }
    }

    @Test
    void headersNamedInVaryAreKeyed() {
        try (HttpCache cache = new HttpCache(
                ResponseStore.inMemory(10, 1024), CachePolicy.sharedCache(), new Coalescer(Duration.ZERO), "pf")) {
            CacheLookup first = cache.lookup(Http.get("/page", "X-Tenant", "a"), T0);
            cache.store(first, 200, fields("Cache-Control", "max-age=60", "Vary", "X-Tenant"), bytes("a"), T0, T0);
            CacheLookup other = cache.lookup(Http.get("/page", "X-Tenant", "b"), T0);
            assertThat(other.action()).isEqualTo(CacheAction.MISS);
            assertThat(other.entryKey())
                    .isNotEqualTo(
                            cache.lookup(Http.get("/page", "X-Tenant", "a"), T0).entryKey());
        }
    }

    @Test
    void varyNamesAreParsedOnce() {
        assertThat(CacheKeys.varyNames(java.util.List.of("Accept-Encoding, ,User-Agent", "accept-encoding")))
                .containsExactly("accept-encoding", "user-agent");
        assertThat(CacheKeys.varyNames(java.util.List.of("Accept, *"))).containsExactly("*");
        assertThat(CacheKeys.varyNames(java.util.List.of())).isEmpty();
    }
}
