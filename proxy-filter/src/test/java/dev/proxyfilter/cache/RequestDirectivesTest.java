package dev.proxyfilter.cache;

import static dev.proxyfilter.cache.Http.SECOND;
import static dev.proxyfilter.cache.Http.T0;
import static dev.proxyfilter.cache.Http.date;
import static dev.proxyfilter.cache.Http.fields;
import static dev.proxyfilter.cache.Http.stored;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Request {@code Cache-Control} directives: RFC 9111 §5.2.1 ({@code max-age}, {@code max-stale},
 * {@code min-fresh}, {@code no-cache}, {@code no-store}, {@code only-if-cached}) and {@code Pragma: no-cache}
 * (§5.4).
 */
class RequestDirectivesTest {
    /** Fresh for 100 s from T0. */
    private static final StoredResponse FRESH_FOR_100S = stored("Date", date(T0), "Cache-Control", "max-age=100");

    private final CachePolicy policy = CachePolicy.sharedCache();

    private CacheDecision decide(long now, String... requestHeaders) {
        return policy.decide(fields(requestHeaders), FRESH_FOR_100S, now);
    }

    @Test
    void noCacheValidatesAFreshResponse() {
        CacheDecision decision = decide(T0 + SECOND, "Cache-Control", "no-cache");
        assertThat(decision.action()).isEqualTo(CacheAction.VALIDATE);
        assertThat(decision.forward()).isEqualTo(CacheStatus.Forward.REQUEST);
    }

    @Test
    void pragmaNoCacheCountsOnlyWithoutCacheControl() {
        assertThat(decide(T0 + SECOND, "Pragma", "no-cache").action()).isEqualTo(CacheAction.VALIDATE);
        assertThat(decide(T0 + SECOND, "Pragma", "no-cache", "Cache-Control", "max-age=60")
                        .action())
                .isEqualTo(CacheAction.HIT);
    }

    @Test
    void maxAgeRefusesAnOlderResponse() {
        assertThat(decide(T0 + 30 * SECOND, "Cache-Control", "max-age=30").action())
                .isEqualTo(CacheAction.HIT);
        CacheDecision older = decide(T0 + 31 * SECOND, "Cache-Control", "max-age=30");
        assertThat(older.action()).isEqualTo(CacheAction.VALIDATE);
        assertThat(older.forward()).isEqualTo(CacheStatus.Forward.REQUEST);
    }

    @Test
    void maxAgeZeroValidatesAnythingButAResponseOfAgeZero() {
        assertThat(decide(T0, "Cache-Control", "max-age=0").action()).isEqualTo(CacheAction.HIT);
        assertThat(decide(T0 + 1, "Cache-Control", "max-age=0").action()).isEqualTo(CacheAction.VALIDATE);
    }

    @Test
    void minFreshAsksForRemainingFreshness() {
        assertThat(decide(T0 + 40 * SECOND, "Cache-Control", "min-fresh=60").action())
                .isEqualTo(CacheAction.HIT);
        assertThat(decide(T0 + 41 * SECOND, "Cache-Control", "min-fresh=60").action())
                .isEqualTo(CacheAction.VALIDATE);
    }

    @Test
    void maxStaleAcceptsAStaleResponseWithinItsLimit() {
        CacheDecision stale = decide(T0 + 130 * SECOND, "Cache-Control", "max-stale=30");
        assertThat(stale.action()).isEqualTo(CacheAction.STALE_HIT);
        assertThat(stale.ttlMillis()).isEqualTo(-30 * SECOND);
        assertThat(decide(T0 + 131 * SECOND, "Cache-Control", "max-stale=30").action())
                .isEqualTo(CacheAction.VALIDATE);
    }

    @Test
    void maxStaleWithoutAValueAcceptsAnyStaleness() {
        assertThat(decide(T0 + 1_000_000 * SECOND, "Cache-Control", "max-stale").action())
                .isEqualTo(CacheAction.STALE_HIT);
    }

    @Test
    void maxStaleDoesNotOverrideMustRevalidate() {
        StoredResponse response = stored("Date", date(T0), "Cache-Control", "max-age=100, must-revalidate");
        assertThat(policy.decide(fields("Cache-Control", "max-stale"), response, T0 + 101 * SECOND)
                        .action())
                .isEqualTo(CacheAction.VALIDATE);
    }

    @Test
    void onlyIfCachedServesWhatFitsAndOtherwiseGivesGatewayTimeout() {
        assertThat(decide(T0 + SECOND, "Cache-Control", "only-if-cached").action())
                .isEqualTo(CacheAction.HIT);
        assertThat(decide(T0 + 101 * SECOND, "Cache-Control", "only-if-cached").action())
                .isEqualTo(CacheAction.GATEWAY_TIMEOUT);
        assertThat(decide(T0 + 101 * SECOND, "Cache-Control", "only-if-cached, max-stale=10")
                        .action())
                .isEqualTo(CacheAction.STALE_HIT);
        assertThat(decide(T0 + SECOND, "Cache-Control", "only-if-cached, no-cache")
                        .action())
                .isEqualTo(CacheAction.GATEWAY_TIMEOUT);
        assertThat(CachePolicy.noStoredResponse(fields("Cache-Control", "only-if-cached"), CacheStatus.Forward.URI_MISS)
                        .action())
                .isEqualTo(CacheAction.GATEWAY_TIMEOUT);
        assertThat(CachePolicy.noStoredResponse(fields(), CacheStatus.Forward.URI_MISS)
                        .action())
                .isEqualTo(CacheAction.MISS);
    }

    @Test
    void noStoreStillLetsAStoredResponseAnswerButStoresNothing() {
        // §5.2.1.5: no-store is about storing; serving an already stored response is allowed
        assertThat(decide(T0 + SECOND, "Cache-Control", "no-store").action()).isEqualTo(CacheAction.HIT);
        assertThat(policy.storability(
                        "GET", fields("Cache-Control", "no-store"), 200, fields("Cache-Control", "max-age=60")))
                .isEqualTo(Storability.REQUEST_NO_STORE);
    }

    @Test
    void directiveNamesAreCaseInsensitiveAndSpreadOverFieldLines() {
        assertThat(decide(T0 + 31 * SECOND, "cache-control", "MAX-AGE=30").action())
                .isEqualTo(CacheAction.VALIDATE);
        assertThat(decide(T0 + 101 * SECOND, "Cache-Control", "no-transform", "Cache-Control", "max-stale")
                        .action())
                .isEqualTo(CacheAction.STALE_HIT);
    }
}
