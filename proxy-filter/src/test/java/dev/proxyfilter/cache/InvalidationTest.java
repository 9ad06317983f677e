package dev.proxyfilter.cache;

import static dev.proxyfilter.cache.Http.T0;
import static dev.proxyfilter.cache.Http.bytes;
import static dev.proxyfilter.cache.Http.fields;
import static dev.proxyfilter.cache.Http.get;
import static dev.proxyfilter.cache.Http.request;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Invalidation: RFC 9111 §4.4. An unsafe method's non-error response invalidates the target URI, and the
 * same-origin URIs of {@code Location} and {@code Content-Location}.
 */
class InvalidationTest {
    private final HttpCache cache = new HttpCache(
            ResponseStore.inMemory(100, 1024), CachePolicy.sharedCache(), new Coalescer(Duration.ZERO), "pf");

    @BeforeEach
    void storeSomePages() {
        for (String path : new String[] {"/items", "/items/1", "/items/2", "/other"}) {
            cache.store(cache.lookup(get(path), T0), 200, fields("Cache-Control", "max-age=600"), bytes(path), T0, T0);
        }
    }

    @AfterEach
    void close() {
        cache.close();
    }

    private boolean cached(String path) {
        return cache.lookup(get(path), T0).action() == CacheAction.HIT;
    }

    @ParameterizedTest
    @ValueSource(strings = {"POST", "PUT", "DELETE", "PATCH", "PURGE-ME"})
    void aSuccessfulUnsafeRequestInvalidatesItsTarget(String method) {
        assertThat(cache.invalidate(request(method, "/items"), 200, fields())).isEqualTo(1);
        assertThat(cached("/items")).isFalse();
        assertThat(cached("/items/1")).isTrue();
    }

    @ParameterizedTest
    @ValueSource(ints = {201, 204, 302, 303, 399})
    void anyNonErrorStatusInvalidates(int status) {
        cache.invalidate(request("POST", "/items"), status, fields());
        assertThat(cached("/items")).isFalse();
    }

    @ParameterizedTest
    @ValueSource(ints = {400, 404, 409, 500, 503})
    void anErrorInvalidatesNothing(int status) {
        assertThat(cache.invalidate(request("POST", "/items"), status, fields()))
                .isZero();
        assertThat(cached("/items")).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET", "HEAD", "OPTIONS", "TRACE"})
    void safeMethodsInvalidateNothing(String method) {
        assertThat(cache.invalidate(request(method, "/items"), 200, fields())).isZero();
        assertThat(cached("/items")).isTrue();
    }

    @Test
    void locationAndContentLocationOfTheSameOriginAreInvalidatedToo() {
        int invalidated = cache.invalidate(
                request("POST", "/items"),
                201,
                fields("Location", "/items/1", "Content-Location", "http://EXAMPLE.com:80/items/2"));
        assertThat(invalidated).isEqualTo(3);
        assertThat(cached("/items")).isFalse();
        assertThat(cached("/items/1")).isFalse();
        assertThat(cached("/items/2")).isFalse();
        assertThat(cached("/other")).isTrue();
    }

    @Test
    void relativeReferencesResolveAgainstTheTarget() {
        cache.invalidate(request("POST", "/items/"), 201, fields("Location", "2"));
        assertThat(cached("/items/2")).isFalse();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "http://other.example/items/1",
                "https://example.com/items/1",
                "http://example.com:8080/items/1",
                "//other.example/items/1",
                "not a uri at all %%"
            })
    void anotherOriginIsNeverInvalidated(String location) {
        cache.invalidate(request("POST", "/items"), 201, fields("Location", location));
        assertThat(cached("/items/1")).isTrue();
    }

    @Test
    void invalidatingAVariedResourceMakesEveryVariantUnreachable() {
        for (String encoding : new String[] {"gzip", "br"}) {
            CacheLookup lookup = cache.lookup(get("/varied", "Accept-Encoding", encoding), T0);
            cache.store(
                    lookup,
                    200,
                    fields("Cache-Control", "max-age=600", "Vary", "Accept-Encoding"),
                    bytes(encoding),
                    T0,
                    T0);
        }
        assertThat(cache.lookup(get("/varied", "Accept-Encoding", "br"), T0).action())
                .isEqualTo(CacheAction.HIT);

        cache.invalidate(request("DELETE", "/varied"), 204, fields());

        for (String encoding : new String[] {"gzip", "br"}) {
            CacheLookup lookup = cache.lookup(get("/varied", "Accept-Encoding", encoding), T0);
            assertThat(lookup.action()).isEqualTo(CacheAction.MISS);
            assertThat(lookup.decision().forward()).isEqualTo(CacheStatus.Forward.URI_MISS);
        }
    }

    @Test
    void purgeByPrefixRemovesEveryEntryUnderIt() {
        assertThat(cache.purge("http://example.com/items/")).isEqualTo(2);
        assertThat(cached("/items/1")).isFalse();
        assertThat(cached("/items/2")).isFalse();
        assertThat(cached("/items")).isTrue();
        assertThat(cached("/other")).isTrue();
    }

    @Test
    void aPassLookupNamesTheMethod() {
        CacheLookup post = cache.lookup(request("POST", "/items"), T0);
        assertThat(post.action()).isEqualTo(CacheAction.PASS);
        assertThat(post.primaryKey()).isNull();
        assertThat(post.cacheStatus().toString()).isEqualTo("pf; fwd=method");
    }
}
