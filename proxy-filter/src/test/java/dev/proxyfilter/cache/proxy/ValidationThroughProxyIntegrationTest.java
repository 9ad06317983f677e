package dev.proxyfilter.cache.proxy;

import static dev.proxyfilter.cache.proxy.CacheProxy.cacheStatus;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.cache.proxy.CacheProxy.Reply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * RFC 9111 §4.3 (validation): §4.3.1 conditional requests sent upstream, §4.3.2 client conditionals
 * answered from the cache, §4.3.3/§4.3.4 a 304 freshens and updates the stored headers, and a 304 that does
 * not select the stored response is not used; through the real proxy.
 */
@Timeout(30)
class ValidationThroughProxyIntegrationTest {
    private final CacheProxy cache = CacheProxy.start();

    @AfterEach
    void close() {
        cache.close();
    }

    /** Answers 304 when If-None-Match names the current ETag. */
    private void etagged(String path, String... etags) {
        cache.script(path, r -> {
            String current = etags[Math.min(r.n() - 1, etags.length - 1)];
            if (current.equals(r.header("If-None-Match"))) {
                return Reply.status(304, "")
                        .cc("max-age=10")
                        .header("ETag", current)
                        .header("X-Version", "fresh" + r.n());
            }
            return Reply.ok("body " + r.n())
                    .cc("max-age=10")
                    .header("ETag", current)
                    .header("X-Version", "v" + r.n());
        });
    }

    @Test
    void section4_3_1_aStaleEntryIsRevalidatedWithIfNoneMatch() throws Exception {
        etagged("/e", "\"1\"");

        cache.get("/e");
        cache.advanceSeconds(11);
        var revalidated = cache.get("/e");

        assertThat(cache.last("/e").header("If-None-Match")).isEqualTo("\"1\"");
        assertThat(revalidated.statusCode()).isEqualTo(200);
        assertThat(revalidated.body()).isEqualTo("body 1");
        assertThat(cacheStatus(revalidated)).contains("fwd=stale").contains("fwd-status=304");
    }

    @Test
    void section4_3_1_aStaleEntryWithOnlyLastModifiedIsRevalidatedWithIfModifiedSince() throws Exception {
        String modified = CacheProxy.httpDate(cache.now() - 3_600_000);
        cache.script(
                "/lm",
                r -> r.header("If-Modified-Since") != null
                        ? Reply.status(304, "").cc("max-age=10").header("Last-Modified", modified)
                        : Reply.ok("lm" + r.n()).cc("max-age=10").header("Last-Modified", modified));

        cache.get("/lm");
        cache.advanceSeconds(11);
        var revalidated = cache.get("/lm");

        assertThat(cache.last("/lm").header("If-Modified-Since")).isEqualTo(modified);
        assertThat(revalidated.body()).isEqualTo("lm1");
    }

    @Test
    void section4_3_4_a304UpdatesTheStoredHeadersAndFreshensTheEntry() throws Exception {
        etagged("/u", "\"1\"");

        cache.get("/u");
        cache.advanceSeconds(11);
        cache.get("/u");
        var hit = cache.get("/u");

        assertThat(hit.headers().firstValue("X-Version")).hasValue("fresh2");
        assertThat(cacheStatus(hit)).contains("hit");
        assertThat(hit.body()).isEqualTo("body 1");
        assertThat(cache.count("/u")).isEqualTo(2);
    }

    @Test
    void section4_3_3_a304ForAnotherValidatorIsNotUsedAndTheRequestGoesAgainWithoutConditions() throws Exception {
        // The origin answers 304 naming "2" though we asked about "1": it does not select our stored response.
        cache.script(
                "/w",
                r -> r.header("If-None-Match") != null
                        ? Reply.status(304, "").cc("max-age=10").header("ETag", "\"2\"")
                        : Reply.ok("body " + r.n()).cc("max-age=10").header("ETag", r.n() == 1 ? "\"1\"" : "\"2\""));

        cache.get("/w");
        cache.advanceSeconds(11);
        var response = cache.get("/w");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("body 3");
        assertThat(cache.last("/w").header("If-None-Match")).isNull();
        assertThat(cache.count("/w")).isEqualTo(3);
        var hit = cache.get("/w");
        assertThat(hit.body()).isEqualTo("body 3");
        assertThat(hit.headers().firstValue("ETag")).hasValue("\"2\"");
    }

    @Test
    void section4_3_2_clientConditionalsAreAnsweredFromTheCache() throws Exception {
        etagged("/c", "\"1\"");
        cache.get("/c");

        var notModified = cache.get("/c", "If-None-Match", "\"1\"");
        var modified = cache.get("/c", "If-None-Match", "\"0\"");

        assertThat(notModified.statusCode()).isEqualTo(304);
        assertThat(notModified.headers().firstValue("ETag")).hasValue("\"1\"");
        assertThat(modified.statusCode()).isEqualTo(200);
        assertThat(cache.count("/c")).isEqualTo(1);
    }

    @Test
    void section4_3_2_aConditionalMissIsSentUpstreamWholeSoThatTheResponseCanBeStored() throws Exception {
        etagged("/m", "\"1\"");

        var first = cache.get("/m", "If-None-Match", "\"1\"");
        var next = cache.get("/m", "If-None-Match", "\"1\"");

        assertThat(cache.last("/m").header("If-None-Match")).isNull();
        assertThat(first.statusCode()).isEqualTo(200); // the backend's whole response, passed on (allowed)
        assertThat(next.statusCode()).isEqualTo(304); // evaluated against the stored response
        assertThat(cache.count("/m")).isEqualTo(1);
    }
}
