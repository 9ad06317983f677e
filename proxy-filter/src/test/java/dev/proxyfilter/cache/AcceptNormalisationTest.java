package dev.proxyfilter.cache;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code cache.normalise-accept}: RFC 9111 §4.1 lets a cache normalise what it compares, keeping the meaning. */
class AcceptNormalisationTest {
    private static String both(String value) {
        return CacheKeys.normaliseAcceptList(CacheKeys.normalise("accept-language", value));
    }

    @Test
    void section4_1_weightsInTheirShortestFormAndOneLeftOut() {
        assertThat(both("en-US;q=1.0, en;q=0.90")).isEqualTo("en-us,en;q=0.9");
        assertThat(both("en-US,en;q=0.9")).isEqualTo("en-us,en;q=0.9");
        assertThat(both("en-US, en ; q=0.9")).isEqualTo("en-us,en;q=0.9");
        assertThat(both("fr;Q=0.500")).isEqualTo("fr;q=0.5");
        assertThat(both("de;q=0, *;q=0.05")).isEqualTo("*;q=0.05,de;q=0");
    }

    @Test
    void section4_1_membersByWeightAndEqualWeightsKeepTheirOrder() {
        assertThat(both("en;q=0.5, fr, de")).isEqualTo("fr,de,en;q=0.5");
        assertThat(both("gzip, br")).isNotEqualTo(both("br, gzip")); // order among equals may be a preference
    }

    @Test
    void section4_1_duplicatesAndEmptyMembersGo_whatIsNotAQvalueIsLeftAlone() {
        assertThat(both("en,,en;q=0.5, ")).isEqualTo("en");
        assertThat(both("en;q=2")).isEqualTo("en;q=2");
        assertThat(both("en;q=0.1234")).isEqualTo("en;q=0.1234");
        assertThat(both("en;level=1")).isEqualTo("en;level=1");
    }
}
