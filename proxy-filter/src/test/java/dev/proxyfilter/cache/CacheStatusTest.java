package dev.proxyfilter.cache;

import static dev.proxyfilter.cache.Http.SECOND;
import static dev.proxyfilter.cache.Http.T0;
import static dev.proxyfilter.cache.Http.bytes;
import static dev.proxyfilter.cache.Http.date;
import static dev.proxyfilter.cache.Http.fields;
import static dev.proxyfilter.cache.Http.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The {@code Cache-Status} field: RFC 9211 (§2 the member and its parameters {@code hit}, {@code fwd},
 * {@code fwd-status}, {@code ttl}, {@code stored}, {@code collapsed}, {@code key}, {@code detail}), serialised
 * as RFC 8941 structured fields.
 */
class CacheStatusTest {

    @Test
    void aHitWithItsRemainingFreshness() {
        assertThat(CacheStatus.hit("proxy-filter").withTtlSeconds(376).toString())
                .isEqualTo("proxy-filter; hit; ttl=376");
    }

    @Test
    void aMissThatWasStored() {
        assertThat(CacheStatus.forward("proxy-filter", CacheStatus.Forward.MISS)
                        .withStored()
                        .toString())
                .isEqualTo("proxy-filter; fwd=miss; stored");
        assertThat(CacheStatus.forward("proxy-filter", CacheStatus.Forward.URI_MISS)
                        .withForwardStatus(200)
                        .withStored()
                        .toString())
                .isEqualTo("proxy-filter; fwd=uri-miss; fwd-status=200; stored");
    }

    @Test
    void everyForwardReasonHasItsToken() {
        assertThat(CacheStatus.Forward.values())
                .extracting(CacheStatus.Forward::token)
                .containsExactly("bypass", "method", "uri-miss", "vary-miss", "miss", "request", "stale", "partial");
        assertThat(CacheStatus.forward("pf", CacheStatus.Forward.STALE)
                        .withForwardStatus(304)
                        .toString())
                .isEqualTo("pf; fwd=stale; fwd-status=304");
        assertThat(CacheStatus.forward("pf", CacheStatus.Forward.VARY_MISS)
                        .withCollapsed()
                        .toString())
                .isEqualTo("pf; fwd=vary-miss; collapsed");
        assertThat(CacheStatus.forward("pf", CacheStatus.Forward.REQUEST).toString())
                .isEqualTo("pf; fwd=request");
    }

    @Test
    void aStaleResponseHasANegativeTtlRoundedDown() {
        assertThat(CacheStatus.hit("pf").withTtlMillis(-1500).toString()).isEqualTo("pf; hit; ttl=-2");
        assertThat(CacheStatus.hit("pf").withTtlMillis(1999).toString()).isEqualTo("pf; hit; ttl=1");
    }

    @Test
    void namesAndDetailsThatAreNotTokensBecomeStrings() {
        assertThat(CacheStatus.hit("my cache").toString()).isEqualTo("\"my cache\"; hit");
        assertThat(CacheStatus.forward("pf", CacheStatus.Forward.MISS)
                        .withDetail("too-large")
                        .toString())
                .isEqualTo("pf; fwd=miss; detail=too-large");
        assertThat(CacheStatus.forward("pf", CacheStatus.Forward.MISS)
                        .withDetail("say \"hi\"\\")
                        .toString())
                .isEqualTo("pf; fwd=miss; detail=\"say \\\"hi\\\"\\\\\"");
        assertThat(CacheStatus.hit("pf").withKey("http://a/\nx").toString()).isEqualTo("pf; hit; key=\"http://a/?x\"");
        assertThatThrownBy(() -> CacheStatus.hit("")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theLookupPreparesTheMemberForEachOutcome() {
        try (HttpCache cache = new HttpCache(
                ResponseStore.inMemory(10, 1024),
                CachePolicy.sharedCache(),
                new Coalescer(Duration.ZERO),
                "proxy-filter")) {
            assertThat(cache.lookup(get("/a"), T0).cacheStatus().toString()).isEqualTo("proxy-filter; fwd=uri-miss");

            cache.store(
                    cache.lookup(get("/a"), T0),
                    200,
                    fields("Cache-Control", "max-age=100", "Date", date(T0)),
                    bytes("a"),
                    T0,
                    T0);
            assertThat(cache.lookup(get("/a"), T0 + 40 * SECOND).cacheStatus().toString())
                    .isEqualTo("proxy-filter; hit; ttl=60");
            assertThat(cache.lookup(get("/a", "Cache-Control", "no-cache"), T0 + 40 * SECOND)
                            .cacheStatus()
                            .toString())
                    .isEqualTo("proxy-filter; fwd=request; ttl=60");
            assertThat(cache.lookup(get("/a"), T0 + 130 * SECOND).cacheStatus().toString())
                    .isEqualTo("proxy-filter; fwd=stale; ttl=-30");
            assertThat(cache.lookup(Http.request("DELETE", "/a"), T0)
                            .cacheStatus()
                            .isHit())
                    .isFalse();
        }
    }
}
