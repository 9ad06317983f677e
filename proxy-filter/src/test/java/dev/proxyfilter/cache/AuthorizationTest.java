package dev.proxyfilter.cache;

import static dev.proxyfilter.cache.Http.T0;
import static dev.proxyfilter.cache.Http.bytes;
import static dev.proxyfilter.cache.Http.fields;
import static org.assertj.core.api.Assertions.assertThat;

import org.eclipse.jetty.http.HttpFields;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Responses to requests with {@code Authorization} in a shared cache: RFC 9111 §3.5. They are stored only
 * when the response explicitly allows it with {@code public}, {@code s-maxage} or {@code must-revalidate}.
 */
class AuthorizationTest {
    private static final HttpFields AUTHORIZED = fields("Authorization", "Bearer secret");

    private final CachePolicy policy = CachePolicy.sharedCache();

    @ParameterizedTest
    @ValueSource(strings = {"max-age=60", "max-age=60, proxy-revalidate", "no-cache, max-age=60"})
    void anAuthorizedResponseIsNotStoredByDefault(String cacheControl) {
        assertThat(policy.storability("GET", AUTHORIZED, 200, fields("Cache-Control", cacheControl, "ETag", "\"v\"")))
                .isEqualTo(Storability.AUTHORIZATION);
    }

    @Test
    void anAuthorizedResponseWithOnlyHeuristicFreshnessIsNotStored() {
        assertThat(policy.storability("GET", AUTHORIZED, 200, fields("Last-Modified", Http.date(T0 - 86_400_000))))
                .isEqualTo(Storability.AUTHORIZATION);
    }

    @ParameterizedTest
    @ValueSource(strings = {"public, max-age=60", "s-maxage=60", "max-age=60, must-revalidate", "public"})
    void publicSMaxAgeOrMustRevalidateAllowStoringIt(String cacheControl) {
        assertThat(policy.storability("GET", AUTHORIZED, 200, fields("Cache-Control", cacheControl, "ETag", "\"v\"")))
                .isEqualTo(Storability.STORABLE);
    }

    @Test
    void privateStillWinsOverAuthorizationRules() {
        assertThat(policy.storability("GET", AUTHORIZED, 200, fields("Cache-Control", "private, s-maxage=60")))
                .isEqualTo(Storability.PRIVATE);
    }

    @Test
    void theAuthorizationHeaderIsNotPartOfTheKeySoASharedResponseServesEveryone() {
        try (HttpCache cache = new HttpCache(
                ResponseStore.inMemory(10, 1024), policy, new Coalescer(java.time.Duration.ZERO), "proxy-filter")) {
            CacheLookup authorized = cache.lookup(Http.get("/report", "Authorization", "Bearer secret"), T0);
            StoreResult result = cache.store(
                    authorized, 200, fields("Cache-Control", "public, max-age=60"), bytes("report"), T0, T0);
            assertThat(result.isStored()).isTrue();

            assertThat(cache.lookup(Http.get("/report"), T0 + 1000).action()).isEqualTo(CacheAction.HIT);
        }
    }

    @Test
    void aNonSharableAuthorizedResponseLeavesNothingBehind() {
        try (HttpCache cache = new HttpCache(
                ResponseStore.inMemory(10, 1024), policy, new Coalescer(java.time.Duration.ZERO), "proxy-filter")) {
            CacheLookup authorized = cache.lookup(Http.get("/me", "Authorization", "Bearer secret"), T0);
            StoreResult result =
                    cache.store(authorized, 200, fields("Cache-Control", "max-age=60"), bytes("alice"), T0, T0);
            assertThat(result.storability()).isEqualTo(Storability.AUTHORIZATION);

            assertThat(cache.lookup(Http.get("/me"), T0 + 1000).action()).isEqualTo(CacheAction.MISS);
        }
    }
}
