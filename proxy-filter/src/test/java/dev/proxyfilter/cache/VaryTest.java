package dev.proxyfilter.cache;

import static dev.proxyfilter.cache.Http.T0;
import static dev.proxyfilter.cache.Http.bytes;
import static dev.proxyfilter.cache.Http.fields;
import static dev.proxyfilter.cache.Http.get;
import static dev.proxyfilter.cache.Http.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.http.Header;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Secondary keys: RFC 9111 §4.1. A stored response with {@code Vary} answers only requests whose named
 * header values match (after normalisation) those of the request that produced it; {@code Vary: *} never
 * matches.
 */
class VaryTest {
    private final ResponseStore store = ResponseStore.inMemory(100, 1024);
    private final HttpCache cache = new HttpCache(store, CachePolicy.sharedCache(), new Coalescer(Duration.ZERO), "pf");

    @AfterEach
    void close() {
        cache.close();
    }

    private void store(CacheRequest request, String body, String... responseHeaders) {
        CacheLookup lookup = cache.lookup(request, T0);
        StoreResult result = cache.store(lookup, 200, fields(responseHeaders), bytes(body), T0, T0);
        assertThat(result.isStored()).as("stored").isTrue();
    }

    @Test
    void eachVariantIsSelectedByItsOwnRequestHeaderValues() {
        store(
                get("/page", "Accept-Encoding", "gzip"),
                "gzipped",
                "Cache-Control",
                "max-age=60",
                "Vary",
                "Accept-Encoding");

        CacheLookup gzip = cache.lookup(get("/page", "Accept-Encoding", "gzip"), T0 + 1000);
        assertThat(gzip.action()).isEqualTo(CacheAction.HIT);
        assertThat(text(cache.answer(gzip, T0 + 1000).body())).isEqualTo("gzipped");

        CacheLookup br = cache.lookup(get("/page", "Accept-Encoding", "br"), T0 + 1000);
        assertThat(br.action()).isEqualTo(CacheAction.MISS);
        assertThat(br.decision().forward()).isEqualTo(CacheStatus.Forward.VARY_MISS);
        assertThat(br.cacheStatus().toString()).isEqualTo("pf; fwd=vary-miss");

        store(
                get("/page", "Accept-Encoding", "br"),
                "brotli",
                "Cache-Control",
                "max-age=60",
                "Vary",
                "Accept-Encoding");
        assertThat(text(cache.answer(cache.lookup(get("/page", "Accept-Encoding", "br"), T0), T0)
                        .body()))
                .isEqualTo("brotli");
        assertThat(text(cache.answer(cache.lookup(get("/page", "Accept-Encoding", "gzip"), T0), T0)
                        .body()))
                .isEqualTo("gzipped");
    }

    @Test
    void whitespaceAndCaseOfAcceptEncodingAreNormalised() {
        store(
                get("/page", "Accept-Encoding", "gzip,  deflate"),
                "z",
                "Cache-Control",
                "max-age=60",
                "Vary",
                "accept-encoding");

        assertThat(cache.lookup(get("/page", "Accept-Encoding", " GZIP ,deflate "), T0)
                        .action())
                .isEqualTo(CacheAction.HIT);
        assertThat(cache.lookup(get("/page", "Accept-Encoding", "gzip", "Accept-Encoding", "deflate"), T0)
                        .action())
                .isEqualTo(CacheAction.HIT);
        // order is kept: normalisation does not reorder list members
        assertThat(cache.lookup(get("/page", "Accept-Encoding", "deflate, gzip"), T0)
                        .action())
                .isEqualTo(CacheAction.MISS);
    }

    @Test
    void caseIsKeptWhereItMayMatter() {
        assertThat(CacheKeys.normalise("x-tenant", "  Acme   Corp ")).isEqualTo("Acme Corp");
        assertThat(CacheKeys.normalise("accept-language", "EN-us, fr;q=0.5")).isEqualTo("en-us,fr;q=0.5");
        assertThat(CacheKeys.normalise("accept", "Text/HTML ,\t application/json"))
                .isEqualTo("text/html,application/json");
    }

    @Test
    void anAbsentHeaderMatchesOnlyAnAbsentHeader() {
        store(get("/page"), "plain", "Cache-Control", "max-age=60", "Vary", "Accept-Encoding");

        assertThat(cache.lookup(get("/page"), T0).action()).isEqualTo(CacheAction.HIT);
        assertThat(cache.lookup(get("/page", "Accept-Encoding", ""), T0).action())
                .isEqualTo(CacheAction.MISS);
        assertThat(cache.lookup(get("/page", "Accept-Encoding", "gzip"), T0).action())
                .isEqualTo(CacheAction.MISS);
    }

    @Test
    void severalVaryNamesAreOneSortedCaseInsensitiveSet() {
        store(
                get("/page", "Accept-Language", "fr", "Accept-Encoding", "gzip"),
                "fr-gzip",
                "Cache-Control",
                "max-age=60",
                "Vary",
                "Accept-Language, accept-encoding",
                "Vary",
                "ACCEPT-LANGUAGE");

        VaryIndex index = (VaryIndex) store.get("http://example.com/page");
        assertThat(index.names()).containsExactly("accept-encoding", "accept-language");
        assertThat(cache.lookup(get("/page", "Accept-Encoding", "gzip", "Accept-Language", "fr"), T0)
                        .action())
                .isEqualTo(CacheAction.HIT);
        assertThat(cache.lookup(get("/page", "Accept-Encoding", "gzip", "Accept-Language", "de"), T0)
                        .action())
                .isEqualTo(CacheAction.MISS);
    }

    @Test
    void theStoredResponseRemembersItsSelection() {
        store(get("/page", "Accept-Encoding", "GZip"), "z", "Cache-Control", "max-age=60", "Vary", "Accept-Encoding");
        StoredResponse stored =
                cache.lookup(get("/page", "Accept-Encoding", "gzip"), T0).stored();
        assertThat(stored.varySelection()).containsExactly(new Header("accept-encoding", "gzip"));
    }

    @Test
    void varyStarIsNeverServed() {
        CacheLookup lookup = cache.lookup(get("/any"), T0);
        StoreResult result =
                cache.store(lookup, 200, fields("Cache-Control", "max-age=60", "Vary", "*"), bytes("x"), T0, T0);
        assertThat(result.storability()).isEqualTo(Storability.VARY_STAR);
        assertThat(cache.lookup(get("/any"), T0).action()).isEqualTo(CacheAction.MISS);
    }

    @Test
    void newVaryNamesReplaceTheIndexAndOrphanTheOldVariants() {
        store(
                get("/page", "Accept-Encoding", "gzip"),
                "by-encoding",
                "Cache-Control",
                "max-age=60",
                "Vary",
                "Accept-Encoding");
        long oldGeneration = ((VaryIndex) store.get("http://example.com/page")).generation();

        store(
                get("/page", "Accept-Language", "fr"),
                "by-language",
                "Cache-Control",
                "max-age=60",
                "Vary",
                "Accept-Language");
        VaryIndex index = (VaryIndex) store.get("http://example.com/page");
        assertThat(index.names()).containsExactly("accept-language");
        assertThat(index.generation()).isNotEqualTo(oldGeneration);
        assertThat(cache.lookup(get("/page", "Accept-Encoding", "gzip"), T0).action())
                .isEqualTo(CacheAction.MISS);
        assertThat(cache.lookup(get("/page", "Accept-Language", "fr"), T0).action())
                .isEqualTo(CacheAction.HIT);
    }

    @Test
    void aResponseWithoutVaryReplacesTheIndex() {
        store(
                get("/page", "Accept-Encoding", "gzip"),
                "by-encoding",
                "Cache-Control",
                "max-age=60",
                "Vary",
                "Accept-Encoding");
        store(get("/page", "Accept-Encoding", "gzip"), "same-for-all", "Cache-Control", "max-age=60");

        CacheLookup lookup = cache.lookup(get("/page", "Accept-Encoding", "br"), T0);
        assertThat(lookup.action()).isEqualTo(CacheAction.HIT);
        assertThat(text(cache.answer(lookup, T0).body())).isEqualTo("same-for-all");
    }

    @Test
    void variantKeysStartWithTheirPrimaryKeyAndCannotCollideWithAnotherUri() {
        VaryIndex index = new VaryIndex(List.of("accept-encoding"), 0xabcL);
        String key = CacheKeys.variant("http://example.com/a", index, List.of(new Header("accept-encoding", "gzip")));
        assertThat(key).isEqualTo("http://example.com/a\nabc\naccept-encoding:gzip");
        String absent = CacheKeys.variant("http://example.com/a", index, List.of(new Header("accept-encoding", null)));
        assertThat(absent).isEqualTo("http://example.com/a\nabc\naccept-encoding");
        assertThat(CacheKeys.normalise("x", "a\nb")).doesNotContain("\n");
    }
}
