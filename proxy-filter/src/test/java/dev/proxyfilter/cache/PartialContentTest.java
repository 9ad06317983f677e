package dev.proxyfilter.cache;

import static dev.proxyfilter.cache.Http.T0;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.http.Header;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** RFC 9111 §3.3 (what a stored piece is) and §3.4 (combining pieces) as pure functions. */
class PartialContentTest {
    private static StoredResponse piece(String contentRange, String etag, String body) {
        return new StoredResponse(
                206,
                List.of(new Header("Content-Range", contentRange), new Header("ETag", etag)),
                body.getBytes(StandardCharsets.US_ASCII),
                T0,
                T0,
                List.of());
    }

    private static String body(StoredResponse response) {
        return new String(response.bodyArray(), StandardCharsets.US_ASCII);
    }

    @Test
    void section3_3_aContentRangeIsOnePieceOfAKnownLength() {
        assertThat(PartialContent.parse("bytes 0-4/10")).isEqualTo(new PartialContent.Piece(0, 4, 10));
        assertThat(PartialContent.parse("BYTES 9-9/10").complete()).isFalse();
        assertThat(PartialContent.parse("bytes 0-9/10").complete()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {"bytes 0-4/*", "bytes */10", "bytes 5-4/10", "bytes 0-10/10", "items 0-1/2", "bytes 0-1", ""})
    void section3_3_anythingElseIsNoPiece(String value) {
        assertThat(PartialContent.parse(value)).as(value).isNull();
    }

    @Test
    void section3_4_touchingOrOverlappingPiecesOfOneRepresentationCombine() {
        StoredResponse combined =
                PartialContent.combine(piece("bytes 0-4/10", "\"a\"", "01234"), piece("bytes 3-6/10", "\"a\"", "3456"));

        assertThat(combined.status()).isEqualTo(206);
        assertThat(combined.header("Content-Range")).isEqualTo("bytes 0-6/10");
        assertThat(body(combined)).isEqualTo("0123456");
    }

    @Test
    void section3_4_piecesThatMakeTheWholeBecomeA200() {
        StoredResponse combined = PartialContent.combine(
                piece("bytes 5-9/10", "\"a\"", "56789"), piece("bytes 0-4/10", "\"a\"", "01234"));

        assertThat(combined.status()).isEqualTo(200);
        assertThat(combined.header("Content-Range")).isNull();
        assertThat(body(combined)).isEqualTo("0123456789");
    }

    @Test
    void section3_4_noCombinationAcrossValidatorsLengthsOrGaps() {
        StoredResponse stored = piece("bytes 0-4/10", "\"a\"", "01234");

        assertThat(PartialContent.combine(stored, piece("bytes 5-9/10", "\"b\"", "56789")))
                .isNull();
        assertThat(PartialContent.combine(stored, piece("bytes 5-9/10", "W/\"a\"", "56789")))
                .isNull();
        assertThat(PartialContent.combine(stored, piece("bytes 5-9/11", "\"a\"", "56789")))
                .isNull();
        assertThat(PartialContent.combine(stored, piece("bytes 6-9/10", "\"a\"", "6789")))
                .isNull();
    }
}
