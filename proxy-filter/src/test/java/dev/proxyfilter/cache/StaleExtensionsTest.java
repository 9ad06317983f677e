package dev.proxyfilter.cache;

import static dev.proxyfilter.cache.Http.SECOND;
import static dev.proxyfilter.cache.Http.T0;
import static dev.proxyfilter.cache.Http.bytes;
import static dev.proxyfilter.cache.Http.date;
import static dev.proxyfilter.cache.Http.fields;
import static dev.proxyfilter.cache.Http.get;
import static dev.proxyfilter.cache.Http.stored;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.eclipse.jetty.http.HttpFields;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Serving stale responses: RFC 5861 ({@code stale-while-revalidate} §3, {@code stale-if-error} §4) within
 * the limits of RFC 9111 §4.2.4 (never when {@code must-revalidate}, {@code proxy-revalidate},
 * {@code s-maxage} or {@code no-cache} forbid it).
 */
class StaleExtensionsTest {
    private static final HttpFields NO_HEADERS = fields();

    private final CachePolicy policy = CachePolicy.sharedCache();

    private static StoredResponse stale(String cacheControl) {
        return stored("Date", date(T0), "Cache-Control", cacheControl, "ETag", "\"v\"");
    }

    // ---- stale-while-revalidate ----

    @Test
    void withinTheWindowTheStaleResponseIsServedAndRevalidatedInTheBackground() {
        StoredResponse response = stale("max-age=60, stale-while-revalidate=30");
        assertThat(policy.decide(NO_HEADERS, response, T0 + 59 * SECOND).action())
                .isEqualTo(CacheAction.HIT);
        CacheDecision swr = policy.decide(NO_HEADERS, response, T0 + 90 * SECOND);
        assertThat(swr.action()).isEqualTo(CacheAction.STALE_WHILE_REVALIDATE);
        assertThat(swr.action().servesStored()).isTrue();
        assertThat(swr.forward()).isNull();
        assertThat(policy.decide(NO_HEADERS, response, T0 + 91 * SECOND).action())
                .isEqualTo(CacheAction.VALIDATE);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "max-age=60, stale-while-revalidate=30, must-revalidate",
                "max-age=60, stale-while-revalidate=30, proxy-revalidate",
                "s-maxage=60, stale-while-revalidate=30"
            })
    void revalidationDirectivesForbidStaleWhileRevalidate(String cacheControl) {
        assertThat(policy.decide(NO_HEADERS, stale(cacheControl), T0 + 70 * SECOND)
                        .action())
                .isEqualTo(CacheAction.VALIDATE);
    }

    @Test
    void theRequestsOwnLimitsComeFirst() {
        StoredResponse response = stale("max-age=60, stale-while-revalidate=30");
        assertThat(policy.decide(fields("Cache-Control", "no-cache"), response, T0 + 70 * SECOND)
                        .action())
                .isEqualTo(CacheAction.VALIDATE);
        assertThat(policy.decide(fields("Cache-Control", "max-age=65"), response, T0 + 70 * SECOND)
                        .action())
                .isEqualTo(CacheAction.VALIDATE);
    }

    // ---- stale-if-error ----

    @Test
    void staleIfErrorAllowsAStaleAnswerWhenTheBackendFails() {
        StoredResponse response = stale("max-age=60, stale-if-error=600");
        assertThat(policy.decide(NO_HEADERS, response, T0 + 120 * SECOND).action())
                .isEqualTo(CacheAction.VALIDATE);
        assertThat(policy.mayServeStaleOnError(NO_HEADERS, response, T0 + 660 * SECOND))
                .isTrue();
        assertThat(policy.mayServeStaleOnError(NO_HEADERS, response, T0 + 661 * SECOND))
                .isFalse();
    }

    @Test
    void theRequestMayAskForStaleIfErrorToo() {
        StoredResponse response = stale("max-age=60");
        assertThat(policy.mayServeStaleOnError(NO_HEADERS, response, T0 + 120 * SECOND))
                .isFalse();
        assertThat(policy.mayServeStaleOnError(
                        fields("Cache-Control", "stale-if-error=120"), response, T0 + 120 * SECOND))
                .isTrue();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "max-age=60, stale-if-error=600, must-revalidate",
                "max-age=60, stale-if-error=600, proxy-revalidate",
                "s-maxage=60, stale-if-error=600",
                "no-cache, stale-if-error=600"
            })
    void revalidationDirectivesForbidStaleIfError(String cacheControl) {
        assertThat(policy.mayServeStaleOnError(NO_HEADERS, stale(cacheControl), T0 + 120 * SECOND))
                .isFalse();
    }

    @Test
    void aClientThatInsistsOnValidationGetsTheError() {
        assertThat(policy.mayServeStaleOnError(
                        fields("Cache-Control", "no-cache"),
                        stale("max-age=60, stale-if-error=600"),
                        T0 + 120 * SECOND))
                .isFalse();
    }

    @Test
    void errorsAre500To504ButNot501() {
        assertThat(java.util.List.of(500, 502, 503, 504)).allMatch(CachePolicy::isErrorForStale);
        assertThat(java.util.List.of(200, 404, 501, 505)).noneMatch(CachePolicy::isErrorForStale);
    }

    @Test
    void aBackendErrorDoesNotEvictTheStaleResponseItHides() {
        try (HttpCache cache =
                new HttpCache(ResponseStore.inMemory(10, 1024), policy, new Coalescer(Duration.ZERO), "pf")) {
            cache.store(
                    cache.lookup(get("/p"), T0),
                    200,
                    fields("Cache-Control", "max-age=60, stale-if-error=600", "Date", date(T0)),
                    bytes("good"),
                    T0,
                    T0);

            CacheLookup stale = cache.lookup(get("/p"), T0 + 120 * SECOND);
            assertThat(stale.action()).isEqualTo(CacheAction.VALIDATE);
            StoreResult error = cache.store(stale, 503, fields("Cache-Control", "no-store"), bytes("down"), T0, T0);
            assertThat(error.isStored()).isFalse();
            assertThat(cache.serveStaleOnError(stale, T0 + 120 * SECOND)).isTrue();
            assertThat(Http.text(cache.answer(stale, T0 + 120 * SECOND).body())).isEqualTo("good");
            assertThat(cache.lookup(get("/p"), T0 + 121 * SECOND).stored()).isNotNull();
        }
    }

    @Test
    void aNonStorableSuccessReplacesTheStaleResponse() {
        try (HttpCache cache =
                new HttpCache(ResponseStore.inMemory(10, 1024), policy, new Coalescer(Duration.ZERO), "pf")) {
            cache.store(
                    cache.lookup(get("/p"), T0),
                    200,
                    fields("Cache-Control", "max-age=60", "Date", date(T0)),
                    bytes("old"),
                    T0,
                    T0);
            CacheLookup stale = cache.lookup(get("/p"), T0 + 120 * SECOND);
            cache.store(stale, 200, fields("Cache-Control", "no-store"), bytes("new"), T0, T0);
            assertThat(cache.lookup(get("/p"), T0 + 121 * SECOND).action()).isEqualTo(CacheAction.MISS);
        }
    }
}
