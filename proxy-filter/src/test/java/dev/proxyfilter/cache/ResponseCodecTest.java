package dev.proxyfilter.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.proxyfilter.http.Header;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The byte form of stored entries (for off-heap and disk tiers): every field survives a round trip,
 * including the RFC 9111 §4.2.3 exchange times and the §4.1 vary selection with absent headers.
 */
class ResponseCodecTest {

    @Test
    void aResponseSurvivesTheRoundTrip() {
        List<Header> headers = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            headers.add(new Header("X-" + i, "v\u00e9" + "x".repeat(i)));
        }
        byte[] body = new byte[70_000];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) i;
        }
        StoredResponse original = new StoredResponse(
                203,
                headers,
                body,
                Http.T0,
                Http.T0 + 123,
                List.of(
                        new Header("accept", "text/html"),
                        new Header("accept-language", null),
                        new Header("x-empty", "")));

        StoredResponse copy = (StoredResponse) ResponseCodec.decode(ResponseCodec.encode(original));

        assertThat(copy.status()).isEqualTo(203);
        assertThat(copy.headers()).isEqualTo(headers);
        assertThat(copy.body()).isEqualTo(ByteBuffer.wrap(body));
        assertThat(copy.requestTimeMillis()).isEqualTo(Http.T0);
        assertThat(copy.responseTimeMillis()).isEqualTo(Http.T0 + 123);
        assertThat(copy.varySelection()).isEqualTo(original.varySelection());
    }

    @Test
    void theEncodingIsExactlySizedAndCompact() {
        StoredResponse small =
                new StoredResponse(200, List.of(new Header("A", "b")), new byte[] {1, 2, 3}, 0, 0, List.of());
        ByteBuffer bytes = ResponseCodec.encode(small);
        assertThat(bytes.position()).isZero();
        assertThat(bytes.remaining()).isEqualTo(bytes.capacity()).isEqualTo(2 + 2 + 16 + 1 + 2 + 2 + 1 + 1 + 3);
    }

    @Test
    void aVaryIndexSurvivesTheRoundTrip() {
        VaryIndex index = new VaryIndex(List.of("accept-encoding", "x-tenant"), -7L);
        assertThat(ResponseCodec.decode(ResponseCodec.encode(index))).isEqualTo(index);
    }

    @Test
    void foreignOrDamagedBytesAreRefused() {
        assertThatThrownBy(() -> ResponseCodec.decode(ByteBuffer.wrap(new byte[] {9, 1})))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("format 9");
        assertThatThrownBy(() -> ResponseCodec.decode(ByteBuffer.wrap(new byte[] {1, 7})))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("kind 7");
        ByteBuffer whole = ResponseCodec.encode(Http.stored("ETag", "\"x\""));
        ByteBuffer truncated = ByteBuffer.wrap(whole.array(), 0, whole.limit() - 3);
        assertThatThrownBy(() -> ResponseCodec.decode(truncated))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("truncated");
        assertThatThrownBy(() -> ResponseCodec.decode(ByteBuffer.wrap(
                        new byte[] {1, 1, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1})))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
