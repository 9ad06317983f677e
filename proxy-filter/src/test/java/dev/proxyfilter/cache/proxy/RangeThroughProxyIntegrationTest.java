package dev.proxyfilter.cache.proxy;

import static dev.proxyfilter.cache.proxy.CacheProxy.cacheStatus;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.cache.proxy.CacheProxy.Reply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * RFC 9110 §14 (range requests) answered from a cached full response (RFC 9111 §3.3, §4), through the real
 * proxy: 206 with one range, 416 when unsatisfiable, {@code If-Range}.
 */
@Timeout(30)
class RangeThroughProxyIntegrationTest {
    private final CacheProxy cache = CacheProxy.start();

    @AfterEach
    void close() {
        cache.close();
    }

    @Test
    void rfc9110_section14_aSingleRangeIsAnsweredFromTheStoredFullResponse() throws Exception {
        cache.script("/r", r -> Reply.ok("0123456789").cc("max-age=60").header("ETag", "\"r\""));
        cache.get("/r");

        var part = cache.get("/r", "Range", "bytes=2-5");
        var suffix = cache.get("/r", "Range", "bytes=-3");

        assertThat(part.statusCode()).isEqualTo(206);
        assertThat(part.body()).isEqualTo("2345");
        assertThat(part.headers().firstValue("Content-Range")).hasValue("bytes 2-5/10");
        assertThat(cacheStatus(part)).contains("hit");
        assertThat(suffix.body()).isEqualTo("789");
        assertThat(cache.count("/r")).isEqualTo(1);
    }

    @Test
    void rfc9110_section15_5_17_anUnsatisfiableRangeIs416() throws Exception {
        cache.script("/u", r -> Reply.ok("0123456789").cc("max-age=60"));
        cache.get("/u");

        var response = cache.get("/u", "Range", "bytes=20-30");

        assertThat(response.statusCode()).isEqualTo(416);
        assertThat(response.headers().firstValue("Content-Range")).hasValue("bytes */10");
    }

    @Test
    void rfc9110_section13_1_5_ifRangeWithAnotherValidatorGetsTheWholeResponse() throws Exception {
        cache.script("/i", r -> Reply.ok("0123456789").cc("max-age=60").header("ETag", "\"now\""));
        cache.get("/i");

        var whole = cache.get("/i", "Range", "bytes=0-1", "If-Range", "\"before\"");
        var part = cache.get("/i", "Range", "bytes=0-1", "If-Range", "\"now\"");

        assertThat(whole.statusCode()).isEqualTo(200);
        assertThat(whole.body()).isEqualTo("0123456789");
        assertThat(part.statusCode()).isEqualTo(206);
        assertThat(cache.count("/i")).isEqualTo(1);
    }

    @Test
    void aMultiRangeMissIsFetchedWholeAndStored_thenAnsweredAsMultipart() throws Exception {
        cache.script("/m", r -> Reply.ok("abcdefghij").cc("max-age=60").header("Content-Type", "text/plain"));

        var first = cache.get("/m", "Range", "bytes=0-2,5-6");
        var second = cache.get("/m", "Range", "bytes=3-4,8-");

        assertThat(cache.last("/m").header("Range")).isNull();
        assertThat(first.statusCode()).isIn(200, 206);
        assertThat(second.statusCode()).isEqualTo(206);
        assertThat(second.headers().firstValue("Content-Type").orElseThrow()).startsWith("multipart/byteranges");
        assertThat(second.body())
                .contains("Content-Range: bytes 3-4/10\r\n\r\nde\r\n", "Content-Range: bytes 8-9/10\r\n\r\nij\r\n");
        assertThat(cache.count("/m")).isEqualTo(1);
    }
}
