package dev.proxyfilter.cache;

import static dev.proxyfilter.cache.Http.SECOND;
import static dev.proxyfilter.cache.Http.T0;
import static dev.proxyfilter.cache.Http.date;
import static dev.proxyfilter.cache.Http.fields;
import static dev.proxyfilter.cache.Http.stored;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.eclipse.jetty.http.HttpFields;
import org.junit.jupiter.api.Test;

/**
 * Freshness and age: RFC 9111 §4.2 (§4.2.1 freshness lifetime, §4.2.2 heuristic freshness, §4.2.3 age
 * calculation, §1.2.2 delta-seconds). Time is a {@code nowMillis} argument; nothing sleeps.
 */
class FreshnessTest {
    private static final long HOUR = 3600 * SECOND;
    private static final HttpFields NO_HEADERS = fields();

    private final CachePolicy policy = CachePolicy.sharedCache();

    // ---- §4.2.1: the lifetime ----

    @Test
    void sMaxAgeWinsOverMaxAgeWhichWinsOverExpires() {
        String expires = date(T0 + 300 * SECOND);
        assertThat(policy.freshnessLifetimeMillis(
                        stored("Cache-Control", "max-age=60, s-maxage=120", "Expires", expires, "Date", date(T0))))
                .isEqualTo(120 * SECOND);
        assertThat(policy.freshnessLifetimeMillis(
                        stored("Cache-Control", "max-age=60", "Expires", expires, "Date", date(T0))))
                .isEqualTo(60 * SECOND);
        assertThat(policy.freshnessLifetimeMillis(stored("Expires", expires, "Date", date(T0))))
                .isEqualTo(300 * SECOND);
    }

    @Test
    void expiresIsMeasuredFromDateNotFromTheLocalClock() {
        // the origin's clock is an hour behind ours: Expires - Date is what counts
        StoredResponse response = stored("Date", date(T0 - HOUR), "Expires", date(T0 - HOUR + 60 * SECOND));
        assertThat(policy.freshnessLifetimeMillis(response)).isEqualTo(60 * SECOND);
    }

    @Test
    void expiresWithoutDateIsMeasuredFromTheResponseTime() {
        StoredResponse response = stored(200, T0, T0, "Expires", date(T0 + 90 * SECOND));
        assertThat(policy.freshnessLifetimeMillis(response)).isEqualTo(90 * SECOND);
    }

    @Test
    void anInvalidExpiresIsInThePast() {
        assertThat(policy.freshnessLifetimeMillis(stored("Expires", "0", "Date", date(T0))))
                .isZero();
        assertThat(policy.freshnessLifetimeMillis(stored("Expires", "tomorrow", "Date", date(T0))))
                .isZero();
    }

    @Test
    void anInvalidMaxAgeMakesTheResponseStale() {
        assertThat(policy.freshnessLifetimeMillis(stored("Cache-Control", "max-age=soon", "Expires", date(T0 + HOUR))))
                .isZero();
    }

    @Test
    void theFirstOfRepeatedDirectivesWins() {
        assertThat(policy.freshnessLifetimeMillis(stored("Cache-Control", "max-age=10", "Cache-Control", "max-age=99")))
                .isEqualTo(10 * SECOND);
    }

    @Test
    void deltaSecondsBeyondTwoToTheThirtyFirstAreCapped() {
        assertThat(policy.freshnessLifetimeMillis(stored("Cache-Control", "max-age=99999999999999999999")))
                .isEqualTo(CacheControl.DELTA_SECONDS_CAP * SECOND);
    }

    // ---- §4.2.2: heuristics ----

    @Test
    void heuristicFreshnessIsATenthOfTheTimeSinceLastModified() {
        StoredResponse response = stored("Date", date(T0), "Last-Modified", date(T0 - 10 * HOUR));
        assertThat(policy.freshnessLifetimeMillis(response)).isEqualTo(HOUR);
    }

    @Test
    void heuristicFreshnessIsCapped() {
        StoredResponse response = stored("Date", date(T0), "Last-Modified", date(T0 - 1000 * HOUR));
        assertThat(policy.freshnessLifetimeMillis(response)).isEqualTo(24 * HOUR);
        assertThat(new CachePolicy(Duration.ofMinutes(5)).freshnessLifetimeMillis(response))
                .isEqualTo(5 * 60 * SECOND);
        assertThat(new CachePolicy(Duration.ZERO).freshnessLifetimeMillis(response))
                .isZero();
    }

    @Test
    void heuristicsNeverOverrideExplicitFreshness() {
        StoredResponse response =
                stored("Date", date(T0), "Last-Modified", date(T0 - 10 * HOUR), "Cache-Control", "max-age=5");
        assertThat(policy.freshnessLifetimeMillis(response)).isEqualTo(5 * SECOND);
    }

    @Test
    void heuristicsOnlyForHeuristicallyCacheableStatusesOrPublic() {
        String lastModified = date(T0 - 10 * HOUR);
        assertThat(policy.freshnessLifetimeMillis(stored(302, T0, T0, "Date", date(T0), "Last-Modified", lastModified)))
                .isZero();
        assertThat(policy.freshnessLifetimeMillis(stored(
                        302, T0, T0, "Date", date(T0), "Last-Modified", lastModified, "Cache-Control", "public")))
                .isEqualTo(HOUR);
    }

    @Test
    void aLastModifiedInTheFutureGivesNoHeuristicFreshness() {
        assertThat(policy.freshnessLifetimeMillis(stored("Date", date(T0), "Last-Modified", date(T0 + HOUR))))
                .isZero();
    }

    // ---- §4.2.3: the age ----

    @Test
    void currentAgeFollowsTheSpecCalculation() {
        // request sent at T0, response received at T0+2s; origin Date 5 s before T0 (apparent_age 7 s);
        // Age: 3 from an upstream cache (corrected_age_value 3 + 2 = 5 s); corrected_initial_age = 7 s
        StoredResponse response = stored(200, T0, T0 + 2 * SECOND, "Date", date(T0 - 5 * SECOND), "Age", "3");
        assertThat(CachePolicy.currentAgeMillis(response, T0 + 2 * SECOND)).isEqualTo(7 * SECOND);
        assertThat(CachePolicy.currentAgeMillis(response, T0 + 12 * SECOND)).isEqualTo(17 * SECOND); // + resident 10 s
    }

    @Test
    void theAgeHeaderWinsWhenItSaysMoreThanTheDates() {
        StoredResponse response = stored(200, T0, T0 + 2 * SECOND, "Date", date(T0 - 5 * SECOND), "Age", "30");
        assertThat(CachePolicy.currentAgeMillis(response, T0 + 12 * SECOND)).isEqualTo((30 + 2 + 10) * SECOND);
    }

    @Test
    void aDateInTheFutureGivesNoNegativeApparentAge() {
        StoredResponse response = stored(200, T0, T0, "Date", date(T0 + HOUR));
        assertThat(CachePolicy.currentAgeMillis(response, T0 + 4 * SECOND)).isEqualTo(4 * SECOND);
    }

    @Test
    void withoutDateOrAgeTheAgeIsTheResponseDelayPlusResidentTime() {
        StoredResponse response = stored(200, T0, T0 + 500, "Age", "soon");
        assertThat(CachePolicy.currentAgeMillis(response, T0 + 500 + 3 * SECOND))
                .isEqualTo(3500);
    }

    @Test
    void aClockThatWentBackwardsGivesNoNegativeResidentTime() {
        StoredResponse response = stored(200, T0, T0, "Date", date(T0));
        assertThat(CachePolicy.currentAgeMillis(response, T0 - 60 * SECOND)).isZero();
    }

    // ---- §4.2: fresh or stale ----

    @Test
    void aResponseIsFreshWhileItsLifetimeExceedsItsAge() {
        StoredResponse response = stored("Date", date(T0), "Cache-Control", "max-age=60");
        CacheDecision fresh = policy.decide(NO_HEADERS, response, T0 + 59_999);
        assertThat(fresh.action()).isEqualTo(CacheAction.HIT);
        assertThat(fresh.ttlMillis()).isEqualTo(1);
        assertThat(fresh.ageMillis()).isEqualTo(59_999);

        CacheDecision stale = policy.decide(NO_HEADERS, response, T0 + 60_000);
        assertThat(stale.action()).isEqualTo(CacheAction.VALIDATE);
        assertThat(stale.forward()).isEqualTo(CacheStatus.Forward.STALE);
        assertThat(stale.ttlMillis()).isZero();
    }

    @Test
    void anAgedUpstreamResponseIsStaleSooner() {
        StoredResponse response = stored("Date", date(T0), "Cache-Control", "max-age=60", "Age", "50");
        assertThat(policy.decide(NO_HEADERS, response, T0 + 9 * SECOND).action())
                .isEqualTo(CacheAction.HIT);
        assertThat(policy.decide(NO_HEADERS, response, T0 + 10 * SECOND).action())
                .isEqualTo(CacheAction.VALIDATE);
    }

    @Test
    void responseNoCacheAlwaysValidatesEvenWhenFresh() {
        StoredResponse response = stored("Date", date(T0), "Cache-Control", "max-age=600, no-cache", "ETag", "\"v\"");
        assertThat(policy.decide(NO_HEADERS, response, T0).action()).isEqualTo(CacheAction.VALIDATE);
    }

    @Test
    void mustRevalidateAndProxyRevalidateAndSMaxAgeForbidServingStale() {
        HttpFields maxStale = fields("Cache-Control", "max-stale=3600");
        for (String cc : new String[] {"max-age=10, must-revalidate", "max-age=10, proxy-revalidate", "s-maxage=10"}) {
            StoredResponse response = stored("Date", date(T0), "Cache-Control", cc);
            assertThat(policy.decide(maxStale, response, T0 + 5 * SECOND).action())
                    .as(cc)
                    .isEqualTo(CacheAction.HIT);
            assertThat(policy.decide(maxStale, response, T0 + 20 * SECOND).action())
                    .as(cc)
                    .isEqualTo(CacheAction.VALIDATE);
        }
    }
}
