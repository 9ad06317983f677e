package dev.proxyfilter.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/**
 * Collecting a streamed body up to the per-entry limit: a larger response streams through and is not
 * stored (issue 4; RFC 9111 §3 lets a cache decline to store anything).
 */
class BodyBufferTest {

    @Test
    void collectsChunksWithoutMovingThem() {
        BodyBuffer buffer = new BodyBuffer(100, -1);
        ByteBuffer chunk = ByteBuffer.wrap(Http.bytes("hello, "));
        assertThat(buffer.append(chunk)).isTrue();
        assertThat(chunk.remaining()).isEqualTo(7);
        assertThat(buffer.append(ByteBuffer.wrap(Http.bytes("world")))).isTrue();
        assertThat(new String(buffer.toByteArray(), java.nio.charset.StandardCharsets.UTF_8))
                .isEqualTo("hello, world");
    }

    @Test
    void growsPastItsFirstGuess() {
        BodyBuffer buffer = new BodyBuffer(100_000, -1);
        for (int i = 0; i < 100; i++) {
            assertThat(buffer.append(ByteBuffer.wrap(new byte[1000]))).isTrue();
        }
        assertThat(buffer.toByteArray()).hasSize(100_000);
    }

    @Test
    void overflowsOnceThenIgnoresTheRest() {
        BodyBuffer buffer = new BodyBuffer(10, -1);
        assertThat(buffer.append(ByteBuffer.wrap(new byte[10]))).isTrue();
        assertThat(buffer.append(ByteBuffer.wrap(new byte[1]))).isFalse();
        assertThat(buffer.overflowed()).isTrue();
        assertThat(buffer.append(ByteBuffer.wrap(new byte[0]))).isFalse();
        assertThatThrownBy(buffer::toByteArray).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aContentLengthAboveTheLimitOverflowsAtOnce() {
        assertThat(new BodyBuffer(10, 11).overflowed()).isTrue();
        BodyBuffer exact = new BodyBuffer(10, 10);
        assertThat(exact.append(ByteBuffer.wrap(new byte[10]))).isTrue();
        assertThat(exact.toByteArray()).hasSize(10);
    }
}
