package dev.proxyfilter.cache.proxy;

import static dev.proxyfilter.cache.proxy.CacheProxy.cacheStatus;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.cache.proxy.CacheProxy.Received;
import dev.proxyfilter.cache.proxy.CacheProxy.Reply;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Partial content through the real proxy: RFC 9111 §3.3 (a 206 is stored as what it is, one piece), §3.4
 * (a later response with the same strong validator is combined with it, into the complete response once the
 * pieces meet), §4 (a range inside the stored piece is a hit), RFC 9110 §14.6 ({@code multipart/byteranges}
 * from stored content). The backend honours single byte ranges, as an origin would.
 */
@Timeout(30)
class PartialContentThroughProxyIntegrationTest {
    private static final String BODY = "0123456789";

    private final CacheProxy cache = CacheProxy.start();
    private final AtomicReference<String> etag = new AtomicReference<>("\"v1\"");
    private volatile boolean honoursIfRange = true;

    @AfterEach
    void close() {
        cache.close();
    }

    /** An origin of {@link #BODY} that answers one byte range with a 206 and anything else with a 200. */
    private Reply ranged(Received r, String cacheControl) {
        String range = r.header("Range");
        String ifRange = r.header("If-Range");
        boolean current = ifRange == null || !honoursIfRange || ifRange.equals(etag.get());
        Reply reply;
        if (current && range != null && range.startsWith("bytes=") && !range.contains(",")) {
            String[] ends = range.substring(6).split("-", -1);
            int first = ends[0].isEmpty() ? BODY.length() - Integer.parseInt(ends[1]) : Integer.parseInt(ends[0]);
            int last = ends[0].isEmpty() || ends[1].isEmpty()
                    ? BODY.length() - 1
                    : Math.min(Integer.parseInt(ends[1]), BODY.length() - 1);
            reply = Reply.status(206, BODY.substring(first, last + 1))
                    .header("Content-Range", "bytes " + first + "-" + last + "/" + BODY.length());
        } else {
            reply = Reply.ok(BODY);
        }
        reply.header("ETag", etag.get()).header("Content-Type", "text/plain");
        return cacheControl == null ? reply : reply.cc(cacheControl);
    }

    @Test
    void section3_3_aSingleRangeMissIsAskedForAsItIs_andItsPartialContentServesRangesInside() throws Exception {
        cache.script("/p", r -> ranged(r, "max-age=60"));

        var first = cache.get("/p", "Range", "bytes=0-4");
        var inside = cache.get("/p", "Range", "bytes=1-3");
        var suffixOutside = cache.get("/p", "Range", "bytes=-2");

        assertThat(cache.received.get(0).header("Range")).isEqualTo("bytes=0-4");
        assertThat(first.statusCode()).isEqualTo(206);
        assertThat(first.body()).isEqualTo("01234");
        assertThat(inside.statusCode()).isEqualTo(206);
        assertThat(inside.body()).isEqualTo("123");
        assertThat(inside.headers().firstValue("Content-Range")).hasValue("bytes 1-3/10");
        assertThat(cacheStatus(inside)).contains("hit");
        assertThat(suffixOutside.body()).isEqualTo("89");
        assertThat(cacheStatus(suffixOutside)).contains("fwd=partial");
    }

    @Test
    void section3_4_onlyTheMissingBytesAreAskedFor_andCombinedIntoTheCompleteResponse() throws Exception {
        cache.script("/c", r -> ranged(r, "max-age=60"));

        cache.get("/c", "Range", "bytes=0-4");
        var rest = cache.get("/c", "Range", "bytes=3-9");
        var whole = cache.get("/c");
        var multi = cache.get("/c", "Range", "bytes=0-0,9-9");

        assertThat(cache.last("/c").header("Range")).isEqualTo("bytes=5-9"); // 3-4 were stored already
        assertThat(cache.last("/c").header("If-Range")).isEqualTo("\"v1\"");
        assertThat(rest.statusCode()).isEqualTo(206);
        assertThat(rest.body()).isEqualTo("3456789");
        assertThat(rest.headers().firstValue("Content-Range")).hasValue("bytes 3-9/10");
        assertThat(cacheStatus(rest)).contains("fwd=partial", "fwd-status=206", "stored");
        assertThat(whole.statusCode()).isEqualTo(200);
        assertThat(whole.body()).isEqualTo(BODY);
        assertThat(whole.headers().firstValue("Content-Range")).isEmpty();
        assertThat(cacheStatus(whole)).contains("hit");
        assertThat(multi.statusCode()).isEqualTo(206);
        assertThat(multi.body()).contains("bytes 0-0/10\r\n\r\n0\r\n", "bytes 9-9/10\r\n\r\n9\r\n");
        assertThat(cache.count("/c")).isEqualTo(2);
    }

    @Test
    void section3_4_theBeginningIsAskedForWhenThePieceHoldsTheEnd() throws Exception {
        cache.script("/e", r -> ranged(r, "max-age=60"));

        cache.get("/e", "Range", "bytes=6-9");
        var whole = cache.get("/e");

        assertThat(cache.last("/e").header("Range")).isEqualTo("bytes=0-5");
        assertThat(whole.statusCode()).isEqualTo(200);
        assertThat(whole.body()).isEqualTo(BODY);
        assertThat(cacheStatus(cache.get("/e"))).contains("hit");
    }

    @Test
    void section3_4_aChangedRepresentationIsSentWholeUnderIfRange_neverCombined() throws Exception {
        cache.script("/v", r -> ranged(r, "max-age=60"));

        cache.get("/v", "Range", "bytes=0-4");
        etag.set("\"v2\""); // the representation changed: If-Range "v1" no longer holds
        var rest = cache.get("/v", "Range", "bytes=5-9");
        var whole = cache.get("/v");

        assertThat(rest.statusCode()).isEqualTo(200); // the whole v2, a valid answer to a range request
        assertThat(rest.body()).isEqualTo(BODY);
        assertThat(rest.headers().firstValue("ETag")).hasValue("\"v2\"");
        assertThat(cacheStatus(whole)).contains("hit");
        assertThat(whole.headers().firstValue("ETag")).hasValue("\"v2\"");
        assertThat(cache.count("/v")).isEqualTo(2);
    }

    @Test
    void section3_4_aPieceOfAnotherRepresentationIsNeverCombinedEvenFromAnOriginThatIgnoresIfRange() throws Exception {
        honoursIfRange = false;
        cache.script("/x", r -> ranged(r, "max-age=60"));

        cache.get("/x", "Range", "bytes=0-4");
        etag.set("\"v2\"");
        var rest = cache.get("/x", "Range", "bytes=5-9");

        // the 206 of v2 cannot complete v1's piece: asked again without a range, the whole v2 comes back
        assertThat(rest.statusCode()).isEqualTo(200);
        assertThat(rest.body()).isEqualTo(BODY);
        assertThat(cache.last("/x").header("Range")).isNull();
        assertThat(cache.count("/x")).isEqualTo(3);
    }

    @Test
    void section3_4_aRequestWithoutRangeOnAPartialEntryFetchesTheWholeWhichReplacesIt() throws Exception {
        cache.script("/w", r -> ranged(r, "max-age=60"));

        cache.get("/w", "Range", "bytes=2-3");
        var whole = cache.get("/w");
        var hit = cache.get("/w");

        assertThat(cacheStatus(whole)).contains("fwd=partial");
        assertThat(whole.body()).isEqualTo(BODY);
        assertThat(cacheStatus(hit)).contains("hit");
        assertThat(cache.count("/w")).isEqualTo(2);
    }

    @Test
    void section4_2_2_a206IsHeuristicallyCacheable() throws Exception {
        String tenHoursAgo = CacheProxy.httpDate(cache.now() - 36_000_000);
        cache.script("/h", r -> ranged(r, null).header("Last-Modified", tenHoursAgo));

        cache.get("/h", "Range", "bytes=0-4");
        cache.advanceSeconds(3000);
        var hit = cache.get("/h", "Range", "bytes=0-1");

        assertThat(cacheStatus(hit)).contains("hit");
        assertThat(hit.body()).isEqualTo("01");
        assertThat(cache.count("/h")).isEqualTo(1);
    }

    @Test
    void section3_3_a206WithoutAKnownCompleteLengthIsNotStored() throws Exception {
        cache.script(
                "/star",
                r -> Reply.status(206, "01234")
                        .header("Content-Range", "bytes 0-4/*")
                        .cc("max-age=60"));

        cache.get("/star", "Range", "bytes=0-4");
        var second = cache.get("/star", "Range", "bytes=0-4");

        assertThat(cacheStatus(second)).doesNotContain("hit");
        assertThat(cache.count("/star")).isEqualTo(2);
    }
}
