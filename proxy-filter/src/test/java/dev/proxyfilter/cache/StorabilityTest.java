package dev.proxyfilter.cache;

import static dev.proxyfilter.cache.Http.T0;
import static dev.proxyfilter.cache.Http.date;
import static dev.proxyfilter.cache.Http.fields;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.http.Header;
import java.util.List;
import org.eclipse.jetty.http.HttpFields;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Storing responses in a shared cache: RFC 9111 §3 (§3.1 stored fields, §5.2.2 response directives,
 * §5.2.1.5 request {@code no-store}), and the heuristically cacheable statuses of RFC 9110 §15.1.
 */
class StorabilityTest {
    private static final HttpFields NO_HEADERS = fields();
    private static final String LAST_MODIFIED = date(T0 - 3_600_000);

    private final CachePolicy policy = CachePolicy.sharedCache();

    private Storability get(int status, String... responseHeaders) {
        return policy.storability("GET", NO_HEADERS, status, fields(responseHeaders));
    }

    @Test
    void aGetWithMaxAgeIsStored() {
        assertThat(get(200, "Cache-Control", "max-age=60")).isEqualTo(Storability.STORABLE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"HEAD", "POST", "PUT", "DELETE", "OPTIONS", "get"})
    void onlyGetResponsesAreStored(String method) {
        assertThat(policy.storability(method, NO_HEADERS, 200, fields("Cache-Control", "max-age=60")))
                .isEqualTo(Storability.METHOD);
    }

    @Test
    void requestNoStoreForbidsStoring() {
        assertThat(policy.storability(
                        "GET", fields("Cache-Control", "no-store"), 200, fields("Cache-Control", "max-age=60")))
                .isEqualTo(Storability.REQUEST_NO_STORE);
    }

    @Test
    void responseNoStoreForbidsStoring() {
        assertThat(get(200, "Cache-Control", "max-age=60, no-store")).isEqualTo(Storability.NO_STORE);
        assertThat(get(200, "Cache-Control", "max-age=60", "Cache-Control", "NO-STORE"))
                .isEqualTo(Storability.NO_STORE);
    }

    @Test
    void mustUnderstandOverridesNoStoreForAnUnderstoodStatus() {
        // §5.2.2.3: a cache that understands the status ignores no-store under must-understand
        assertThat(get(200, "Cache-Control", "max-age=60, must-understand, no-store"))
                .isEqualTo(Storability.STORABLE);
        assertThat(get(299, "Cache-Control", "max-age=60, must-understand, no-store"))
                .isEqualTo(Storability.STATUS);
    }

    @Test
    void unqualifiedPrivateIsNotForASharedCache() {
        assertThat(get(200, "Cache-Control", "private, max-age=60")).isEqualTo(Storability.PRIVATE);
    }

    @Test
    void qualifiedPrivateStoresTheResponseWithoutTheNamedFields() {
        HttpFields response = fields(
                "Cache-Control",
                "max-age=60, private=\"X-User, X-Account\"",
                "X-User",
                "alice",
                "x-account",
                "42",
                "Content-Type",
                "text/plain");
        assertThat(policy.storability("GET", NO_HEADERS, 200, response)).isEqualTo(Storability.STORABLE);
        assertThat(policy.headersToStore(response))
                .extracting(Header::name)
                .containsExactly("Cache-Control", "Content-Type");
    }

    @ParameterizedTest
    @ValueSource(ints = {206, 304, 100, 103, 199, 600, 999})
    void partialNotModifiedInformationalAndNonHttpStatusesAreNotStored(int status) {
        assertThat(get(status, "Cache-Control", "max-age=60", "ETag", "\"a\"")).isEqualTo(Storability.STATUS);
    }

    @ParameterizedTest
    @ValueSource(ints = {218, 299, 420, 599})
    void section3_anUnrecognisedStatusNeedsAnExplicitLifetime(int status) {
        assertThat(get(status, "Cache-Control", "max-age=60")).isEqualTo(Storability.STORABLE);
        assertThat(get(status, "Cache-Control", "public", "Last-Modified", LAST_MODIFIED, "Date", date(T0)))
                .isEqualTo(Storability.NOT_CACHEABLE);
        assertThat(get(status, "Cache-Control", "max-age=0", "ETag", "\"a\"")).isEqualTo(Storability.USELESS);
        assertThat(get(status, "Cache-Control", "must-understand, max-age=60")).isEqualTo(Storability.STATUS);
    }

    @ParameterizedTest
    @ValueSource(ints = {200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501})
    void heuristicallyCacheableStatusesAreStoredWithoutExplicitFreshness(int status) {
        assertThat(get(status, "Last-Modified", LAST_MODIFIED, "Date", date(T0)))
                .isEqualTo(Storability.STORABLE);
    }

    @ParameterizedTest
    @ValueSource(ints = {201, 302, 303, 307, 400, 403, 500, 502, 503})
    void otherStatusesNeedExplicitFreshness(int status) {
        assertThat(get(status, "Last-Modified", LAST_MODIFIED)).isEqualTo(Storability.NOT_CACHEABLE);
        assertThat(get(status, "Cache-Control", "max-age=60")).isEqualTo(Storability.STORABLE);
        assertThat(get(status, "Expires", date(T0 + 60_000), "Date", date(T0))).isEqualTo(Storability.STORABLE);
        assertThat(get(status, "Cache-Control", "public", "ETag", "\"v1\"")).isEqualTo(Storability.STORABLE);
    }

    @Test
    void section3_aResponseThatSetsACookieIsStoredUnlessConfiguredOtherwise() {
        assertThat(get(200, "Cache-Control", "public, max-age=60", "Set-Cookie", "session=1"))
                .isEqualTo(Storability.STORABLE);
        CachePolicy refusing = CachePolicy.from(dev.proxyfilter.config.CacheConfig.builder()
                .storeSetCookie(false)
                .build());
        assertThat(refusing.storability(
                        "GET", NO_HEADERS, 200, fields("Cache-Control", "max-age=60", "Set-Cookie", "session=1")))
                .isEqualTo(Storability.SET_COOKIE);
    }

    @Test
    void section5_2_2_setCookieIsStoredUnlessAQualifiedPrivateOrNoCacheNamesIt() {
        assertThat(policy.headersToStore(fields("Cache-Control", "max-age=60", "Set-Cookie", "a=b")))
                .extracting(Header::name)
                .containsExactly("Cache-Control", "Set-Cookie");
        assertThat(policy.headersToStore(
                        fields("Cache-Control", "max-age=60, private=\"Set-Cookie\"", "Set-Cookie", "a=b")))
                .extracting(Header::name)
                .containsExactly("Cache-Control");
        assertThat(policy.headersToStore(
                        fields("Cache-Control", "max-age=60, no-cache=\"set-cookie\"", "Set-Cookie", "a=b")))
                .extracting(Header::name)
                .containsExactly("Cache-Control");
    }

    @Test
    void hopByHopFieldsAreNeverPartOfAStoredCopy() {
        HttpFields response = fields(
                "Content-Type",
                "text/html",
                "Connection",
                "close, X-Hop",
                "X-Hop",
                "1",
                "Keep-Alive",
                "timeout=5",
                "Transfer-Encoding",
                "chunked",
                "Content-Length",
                "12",
                "Set-Cookie",
                "a=b",
                "Proxy-Authenticate",
                "Basic",
                "Trailer",
                "X-T",
                "Upgrade",
                "h2c",
                "ETag",
                "\"v1\"",
                "Vary",
                "Accept");
        assertThat(policy.headersToStore(response))
                .extracting(Header::name)
                .containsExactly("Content-Type", "Set-Cookie", "ETag", "Vary");
    }

    @Test
    void varyStarIsNeverStored() {
        assertThat(get(200, "Cache-Control", "max-age=60", "Vary", "*")).isEqualTo(Storability.VARY_STAR);
        assertThat(get(200, "Cache-Control", "max-age=60", "Vary", "Accept-Encoding", "Vary", " * "))
                .isEqualTo(Storability.VARY_STAR);
    }

    @Test
    void aResponseNothingCouldEverUseIsNotStored() {
        assertThat(get(200)).isEqualTo(Storability.USELESS); // heuristic without Last-Modified: 0 s, no validator
        assertThat(get(200, "Cache-Control", "max-age=0")).isEqualTo(Storability.USELESS);
        assertThat(get(200, "Expires", "0")).isEqualTo(Storability.USELESS);
        assertThat(get(200, "Expires", date(T0 - 1000), "Date", date(T0))).isEqualTo(Storability.USELESS);
    }

    @Test
    void aStaleOnArrivalResponseIsStoredWhenAValidatorOrAStaleExtensionMakesItUseful() {
        assertThat(get(200, "Cache-Control", "max-age=0", "ETag", "\"v1\"")).isEqualTo(Storability.STORABLE);
        assertThat(get(200, "Cache-Control", "no-cache", "Last-Modified", LAST_MODIFIED))
                .isEqualTo(Storability.STORABLE);
        assertThat(get(200, "Cache-Control", "max-age=0, stale-if-error=60")).isEqualTo(Storability.STORABLE);
        assertThat(get(200, "Expires", "0", "ETag", "\"v1\"")).isEqualTo(Storability.STORABLE);
    }

    @Test
    void storabilityDetailsAreShortTokens() {
        assertThat(List.of(Storability.values()))
                .allSatisfy(s -> assertThat(s.detail()).matches("[a-z-]+"));
    }
}
