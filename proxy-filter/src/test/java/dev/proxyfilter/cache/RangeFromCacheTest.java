package dev.proxyfilter.cache;

import static dev.proxyfilter.cache.Http.T0;
import static dev.proxyfilter.cache.Http.bytes;
import static dev.proxyfilter.cache.Http.date;
import static dev.proxyfilter.cache.Http.get;
import static dev.proxyfilter.cache.Http.request;
import static dev.proxyfilter.cache.Http.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.http.Header;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Range requests answered from a stored, complete 200: RFC 9110 §14 (§14.1.2 byte ranges, §14.2
 * {@code Range}, §14.4 {@code Content-Range}, §15.3.7 206, §15.5.17 416) and {@code If-Range}, §13.1.5.
 * Several ranges are answered with the whole 200, which §14.2 allows.
 */
class RangeFromCacheTest {
    private static final String LAST_MODIFIED = date(T0 - 86_400_000);
    /** 26 bytes. */
    private static final StoredResponse ALPHABET = new StoredResponse(
            200,
            List.of(
                    new Header("Content-Type", "text/plain"),
                    new Header("ETag", "\"abc\""),
                    new Header("Last-Modified", LAST_MODIFIED),
                    new Header("Date", date(T0))),
            bytes("abcdefghijklmnopqrstuvwxyz"),
            T0,
            T0,
            List.of());

    private final HttpCache cache = new HttpCache(
            ResponseStore.inMemory(10, 1024), CachePolicy.sharedCache(), new Coalescer(Duration.ZERO), "pf");

    @AfterEach
    void close() {
        cache.close();
    }

    private CacheAnswer answer(String... requestHeaders) {
        return cache.answer(get("/alphabet", requestHeaders), ALPHABET, T0, false);
    }

    @Test
    void aSingleRangeGets206WithContentRange() {
        CacheAnswer answer = answer("Range", "bytes=0-3");
        assertThat(answer.status()).isEqualTo(206);
        assertThat(answer.headers().get("Content-Range")).isEqualTo("bytes 0-3/26");
        assertThat(answer.headers().get("Content-Length")).isEqualTo("4");
        assertThat(answer.headers().get("Content-Type")).isEqualTo("text/plain");
        assertThat(text(answer.body())).isEqualTo("abcd");
    }

    @Test
    void openEndedSuffixAndOversizedRangesAreClamped() {
        assertThat(text(answer("Range", "bytes=23-").body())).isEqualTo("xyz");
        assertThat(text(answer("Range", "bytes=-3").body())).isEqualTo("xyz");
        assertThat(text(answer("Range", "bytes=-100").body())).isEqualTo("abcdefghijklmnopqrstuvwxyz");
        CacheAnswer tail = answer("Range", "bytes=20-1000");
        assertThat(tail.headers().get("Content-Range")).isEqualTo("bytes 20-25/26");
        assertThat(text(tail.body())).isEqualTo("uvwxyz");
        assertThat(text(answer("Range", "BYTES = 1-1").body())).isEqualTo("b");
    }

    @ParameterizedTest
    @ValueSource(strings = {"bytes=26-", "bytes=100-200", "bytes=-0"})
    void aRangeBeyondTheEndGets416(String range) {
        CacheAnswer answer = answer("Range", range);
        assertThat(answer.status()).isEqualTo(416);
        assertThat(answer.headers().get("Content-Range")).isEqualTo("bytes */26");
        assertThat(answer.body().remaining()).isZero();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "bytes=0-1,1-2", // overlapping: never an amplified answer
                "bytes=0-1,5-6,a-b",
                "bytes=a-b",
                "bytes=5-3",
                "items=0-1",
                "bytes",
                "bytes=",
                "bytes=1-2-3",
                "bytes=--1"
            })
    void overlappingOrInvalidRangesGetTheWhole200(String range) {
        CacheAnswer answer = answer("Range", range);
        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.headers().get("Content-Length")).isEqualTo("26");
        assertThat(answer.headers().contains("Content-Range")).isFalse();
        assertThat(answer.body().remaining()).isEqualTo(26);
    }

    @Test
    void rfc9110_section14_6_severalRangesGetMultipartByteranges() {
        CacheAnswer answer = answer("Range", "bytes=0-1, 24-");
        assertThat(answer.status()).isEqualTo(206);
        String type = answer.headers().get("Content-Type");
        assertThat(type).startsWith("multipart/byteranges; boundary=");
        String boundary = type.substring(type.indexOf('=') + 1);
        assertThat(text(answer.body()))
                .isEqualTo("--" + boundary + "\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/26\r\n\r\nab\r\n"
                        + "--" + boundary
                        + "\r\nContent-Type: text/plain\r\nContent-Range: bytes 24-25/26\r\n\r\nyz\r\n"
                        + "--" + boundary + "--\r\n");
        assertThat(answer.headers().get("Content-Length"))
                .isEqualTo(Integer.toString(answer.body().remaining()));
        assertThat(answer.headers().contains("Content-Range")).isFalse();
    }

    @Test
    void rfc9110_section14_2_moreThanSixteenRangesGetTheWhole200() {
        StringBuilder many = new StringBuilder("bytes=");
        for (int i = 0; i < 17; i++) {
            many.append(i == 0 ? "" : ",").append(i).append('-').append(i);
        }
        assertThat(answer("Range", many.toString()).status()).isEqualTo(200);
        assertThat(answer("Range", "bytes=0-0,2-2,30-40").status())
                .isEqualTo(206); // the one beyond the end is left out
    }

    @Test
    void ifRangeWithTheCurrentValidatorKeepsTheRangeAndAnyOtherGetsTheWhole() {
        assertThat(answer("Range", "bytes=0-0", "If-Range", "\"abc\"").status()).isEqualTo(206);
        assertThat(answer("Range", "bytes=0-0", "If-Range", LAST_MODIFIED).status())
                .isEqualTo(206);
        assertThat(answer("Range", "bytes=0-0", "If-Range", "\"old\"").status()).isEqualTo(200);
        assertThat(answer("Range", "bytes=0-0", "If-Range", "W/\"abc\"").status())
                .isEqualTo(200);
        assertThat(answer("Range", "bytes=0-0", "If-Range", date(T0)).status()).isEqualTo(200);
    }

    @Test
    void headIgnoresRangeAndSendsNoBody() {
        CacheAnswer answer = cache.answer(request("HEAD", "/alphabet", "Range", "bytes=0-3"), ALPHABET, T0, false);
        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.headers().get("Content-Length")).isEqualTo("26");
        assertThat(answer.body().remaining()).isZero();
    }

    @Test
    void onlyA200IsCutIntoRanges() {
        StoredResponse notFound = new StoredResponse(404, List.of(), bytes("missing"), T0, T0, List.of());
        assertThat(cache.answer(get("/x", "Range", "bytes=0-1"), notFound, T0, false)
                        .status())
                .isEqualTo(404);
    }

    @Test
    void theRangeParserReportsWhatItFound() {
        assertThat(ByteRanges.parse(null, 10).kind()).isEqualTo(ByteRanges.Kind.FULL);
        ByteRanges.Result range = ByteRanges.parse("bytes=2-4", 10);
        assertThat(range.kind()).isEqualTo(ByteRanges.Kind.PARTIAL);
        assertThat(range.length()).isEqualTo(3);
        assertThat(range.contentRange(10)).isEqualTo("bytes 2-4/10");
        assertThat(ByteRanges.parse("bytes=0-", 0).kind()).isEqualTo(ByteRanges.Kind.UNSATISFIABLE);
        assertThat(ByteRanges.parse("bytes=0-99999999999999999999", 10).kind()).isEqualTo(ByteRanges.Kind.FULL);
    }
}
