package dev.proxyfilter.cache;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** RFC 9110 §5.6.7: the three forms of HTTP-date, exactly, and nothing else. */
class HttpDatesTest {
    /** 1994-11-06T08:49:37Z, the RFC's example. */
    private static final long EXAMPLE = 784_111_777_000L;
    /** 2027-01-15: the reference time for two-digit years. */
    private static final long NOW = 1_800_000_000_000L;

    @Test
    void section5_6_7_theThreeFormsGiveTheSameInstant() {
        assertThat(HttpDates.parse("Sun, 06 Nov 1994 08:49:37 GMT", NOW)).isEqualTo(EXAMPLE);
        assertThat(HttpDates.parse("Sunday, 06-Nov-94 08:49:37 GMT", NOW)).isEqualTo(EXAMPLE);
        assertThat(HttpDates.parse("Sun Nov  6 08:49:37 1994", NOW)).isEqualTo(EXAMPLE);
        assertThat(HttpDates.parse("Sun Nov 06 08:49:37 1994", NOW)).isEqualTo(EXAMPLE); // 2DIGIT is allowed too
    }

    @Test
    void section5_6_7_aTwoDigitYearMoreThan50YearsAheadIsInThePast() {
        long in2070 = HttpDates.parse("Wednesday, 01-Jan-70 00:00:00 GMT", NOW);
        long in1980 = HttpDates.parse("Tuesday, 01-Jan-80 00:00:00 GMT", NOW);

        assertThat(in2070).isEqualTo(3_155_760_000_000L); // 2070 is 43 years after 2027
        assertThat(in1980).isEqualTo(315_532_800_000L); // 2080 would be 53 years ahead
    }

    @Test
    void section5_6_7_aLeapSecondAndTheLastDayOfFebruaryInALeapYear() {
        assertThat(HttpDates.parse("Sat, 31 Dec 2016 23:59:60 GMT", NOW)).isEqualTo(1_483_228_800_000L);
        assertThat(HttpDates.parse("Thu, 29 Feb 2024 00:00:00 GMT", NOW)).isEqualTo(1_709_164_800_000L);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "0",
                "-1",
                "1994-11-06T08:49:37Z",
                "Sun, 06 Nov 1994 08:49:37 UTC", // the zone is GMT, nothing else
                "Sun, 06 Nov 1994 08:49:37 +0000",
                "Sun, 06 Nov 1994 08:49:37 gmt", // case-sensitive
                "Sun, 06 Nov 94 08:49:37 GMT", // two-digit year outside the RFC 850 form
                "Sun 06 Nov 1994 08:49:37 GMT", // missing comma
                "Sun,  06 Nov 1994 08:49:37 GMT", // extra space
                "Sun, 06 Nov 1994  08:49:37 GMT",
                " Sun, 06 Nov 1994 08:49:37 GMT",
                "Sun, 06 Nov 1994 08:49:37 GMT ",
                "Sun, 06-Nov-1994 08:49:37 GMT", // dashes in the IMF-fixdate
                "Sunday, 06 Nov 94 08:49:37 GMT", // no dashes in the RFC 850 form
                "Sunday, 06-Nov-1994 08:49:37 GMT", // a four-digit year in it
                "Sun, 06-Nov-94 08:49:37 GMT", // short day name in the RFC 850 form
                "Sunday, 06 Nov 1994 08:49:37 GMT", // long day name in the IMF-fixdate
                "Sun, 6 Nov 1994 08:49:37 GMT", // one-digit day
                "Sun, 06 nov 1994 08:49:37 GMT",
                "Sun, 06 November 1994 08:49:37 GMT",
                "Xyz, 06 Nov 1994 08:49:37 GMT",
                "Sun, 30 Feb 1994 08:49:37 GMT",
                "Sun, 29 Feb 2023 08:49:37 GMT",
                "Sun, 00 Nov 1994 08:49:37 GMT",
                "Sun, 06 Nov 1994 24:00:00 GMT",
                "Sun, 06 Nov 1994 08:60:00 GMT",
                "Sun, 06 Nov 1994 08:49:61 GMT",
                "Sun, 06 Nov 1994 8:49:37 GMT",
                "Sun, 06 Nov 1994 08.49.37 GMT",
                "Sun Nov 6 08:49:37 1994", // asctime needs the space before a one-digit day
                "Sun Nov  6 08:49:37 1994 GMT",
                "Sun Nov  6 08:49:37 94",
                "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT",
                "Sun, ０６ Nov 1994 08:49:37 GMT", // non-ASCII digits
            })
    void section5_6_7_anythingElseIsInvalid(String value) {
        assertThat(HttpDates.parse(value, NOW)).as(value).isEqualTo(HttpDates.INVALID);
    }
}
