package dev.proxyfilter.cache.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.cache.proxy.CacheProxy.Reply;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Strict dates and ages through the real proxy: RFC 9111 §5.3 (an {@code Expires} that is not an HTTP-date is
 * in the past), RFC 9110 §5.6.7 (the three forms, exactly), RFC 9111 §5.1 (an {@code Age} that is not one
 * non-negative integer) and §4.2.3 (an invalid {@code Date} is as good as none).
 */
@Timeout(30)
class StrictDatesThroughProxyIntegrationTest {
    private final CacheProxy cache = CacheProxy.start();

    @AfterEach
    void close() {
        cache.close();
    }

    private String format(String pattern, long millis) {
        return DateTimeFormatter.ofPattern(pattern, Locale.US)
                .withZone(ZoneOffset.UTC)
                .format(Instant.ofEpochMilli(millis));
    }

    private int twice(String path) throws Exception {
        cache.get(path);
        cache.get(path);
        return cache.count(path);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "EEE, dd MMM yyyy HH:mm:ss 'UTC'", // wrong time zone
                "EEE, dd MMM yyyy HH:mm:ss '+0000'",
                "EEE, dd MMM yy HH:mm:ss 'GMT'", // two-digit year without the RFC 850 form
                "EEE dd MMM yyyy HH:mm:ss 'GMT'", // missing comma
                "EEE,  dd MMM yyyy HH:mm:ss 'GMT'", // extra space
                "EEE, dd-MMM-yyyy HH:mm:ss 'GMT'", // dashes in the wrong form
                "EEEE, dd MMM yy HH:mm:ss 'GMT'", // RFC 850 without its dashes
                "EEE, dd MMM yyyy HH:mm 'GMT'", // no seconds
                "yyyy-MM-dd'T'HH:mm:ss'Z'",
            })
    void section5_3_anExpiresThatIsNotAnHttpDateIsAlreadyExpired(String pattern) throws Exception {
        String inAnHour = format(pattern, cache.now() + 3_600_000);
        cache.script("/bad", r -> Reply.ok("bad" + r.n()).header("Expires", inAnHour));

        assertThat(twice("/bad")).as(inAnHour).isEqualTo(2);
    }

    @Test
    void section5_3_twoExpiresFieldLinesAreInvalidToo() throws Exception {
        String inAnHour = CacheProxy.httpDate(cache.now() + 3_600_000);
        cache.script(
                "/two", r -> Reply.ok("two" + r.n()).header("Expires", inAnHour).header("Expires", inAnHour));

        assertThat(twice("/two")).isEqualTo(2);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "EEE, dd MMM yyyy HH:mm:ss 'GMT'", // IMF-fixdate
                "EEEE, dd-MMM-yy HH:mm:ss 'GMT'", // rfc850-date
                "EEE MMM ppd HH:mm:ss yyyy", // asctime-date
            })
    void section5_6_7_eachLegalFormGivesTheLifetime(String pattern) throws Exception {
        String in30s = format(pattern, cache.now() + 30_000);
        cache.script("/ok", r -> Reply.ok("ok" + r.n()).header("Expires", in30s));

        cache.get("/ok");
        cache.advanceSeconds(20);
        assertThat(cache.get("/ok").body()).as(in30s).isEqualTo("ok1");
        cache.advanceSeconds(20);
        assertThat(cache.get("/ok").body()).as(in30s).isEqualTo("ok2");
    }

    @ParameterizedTest
    @ValueSource(strings = {"old, 0", "5, 0", "0, 5", "-5", "1.5", "5s", "", "0x10"})
    void section5_1_anAgeThatIsNotOneNonNegativeIntegerMakesTheResponseStale(String age) throws Exception {
        cache.script("/age", r -> Reply.ok("age" + r.n()).cc("max-age=60").header("Age", age));

        assertThat(twice("/age")).as("Age: %s", age).isEqualTo(2);
    }

    @Test
    void section5_1_twoAgeFieldLinesAreAListAndInvalid() throws Exception {
        cache.script(
                "/ages",
                r -> Reply.ok("a" + r.n()).cc("max-age=60").header("Age", "1").header("Age", "2"));
        cache.script("/one", r -> Reply.ok("o" + r.n()).cc("max-age=60").header("Age", " 7 "));

        assertThat(twice("/ages")).isEqualTo(2);
        assertThat(twice("/one")).isEqualTo(1);
    }

    @Test
    void section5_1_aStaleResponseWithAnInvalidAgeIsStillRevalidated() throws Exception {
        cache.script(
                "/v",
                r -> r.header("If-None-Match") != null
                        ? Reply.status(304, "").header("ETag", "\"v\"").cc("max-age=60")
                        : Reply.ok("v" + r.n())
                                .cc("max-age=60")
                                .header("ETag", "\"v\"")
                                .header("Age", "old, 0"));

        cache.get("/v");
        var second = cache.get("/v");

        assertThat(second.body()).isEqualTo("v1"); // the 304 freshened the stored body
        assertThat(cache.last("/v").header("If-None-Match")).isEqualTo("\"v\"");
        assertThat(CacheProxy.cacheStatus(second)).contains("fwd=stale", "fwd-status=304");
    }

    @Test
    void section4_2_3_anInvalidDateIsTreatedAsAbsent() throws Exception {
        // As a date this would be a year ago: an apparent age of a year, stale at once. It is not a date.
        String aYearAgoInUtc = format("EEE, dd MMM yyyy HH:mm:ss 'UTC'", cache.now() - 31_536_000_000L);
        String in30s = CacheProxy.httpDate(cache.now() + 30_000);
        cache.script("/d", r -> Reply.ok("d" + r.n()).cc("max-age=100").header("Date", aYearAgoInUtc));
        cache.script(
                "/e", r -> Reply.ok("e" + r.n()).header("Date", "yesterday").header("Expires", in30s));

        cache.get("/d");
        cache.get("/e");
        cache.advanceSeconds(10);
        var hit = cache.get("/d");

        assertThat(hit.body()).isEqualTo("d1");
        assertThat(hit.headers().firstValue("Age")).hasValue("10");
        assertThat(cache.get("/e").body()).isEqualTo("e1"); // Expires - response time: 20 s left
        cache.advanceSeconds(25);
        assertThat(cache.get("/e").body()).isEqualTo("e2");
    }
}
