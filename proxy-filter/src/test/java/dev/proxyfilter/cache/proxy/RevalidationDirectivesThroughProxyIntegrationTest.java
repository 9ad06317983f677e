package dev.proxyfilter.cache.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.cache.proxy.CacheProxy.Reply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * RFC 9111 §5.2.2.2 {@code must-revalidate}, §5.2.2.8 {@code proxy-revalidate} and §5.2.2.4
 * {@code no-cache} with and without field names, through the real proxy.
 */
@Timeout(30)
class RevalidationDirectivesThroughProxyIntegrationTest {
    private final CacheProxy cache = CacheProxy.start();

    @AfterEach
    void close() {
        cache.close();
    }

    @Test
    void section5_2_2_2_mustRevalidateIgnoresTheClientsMaxStale() throws Exception {
        cache.script("/mr", r -> Reply.ok("mr" + r.n()).cc("max-age=10, must-revalidate"));
        cache.script("/plain", r -> Reply.ok("p" + r.n()).cc("max-age=10"));

        cache.get("/mr");
        cache.get("/plain");
        cache.advanceSeconds(15);

        assertThat(cache.get("/mr", "Cache-Control", "max-stale=60").body()).isEqualTo("mr2");
        assertThat(cache.get("/plain", "Cache-Control", "max-stale=60").body()).isEqualTo("p1");
    }

    @Test
    void section5_2_2_8_proxyRevalidateBindsThisSharedCacheToo() throws Exception {
        cache.script("/pr", r -> Reply.ok("pr" + r.n()).cc("max-age=10, proxy-revalidate"));

        cache.get("/pr");
        cache.advanceSeconds(15);

        assertThat(cache.get("/pr", "Cache-Control", "max-stale=60").body()).isEqualTo("pr2");
    }

    @Test
    void section5_2_2_2_aMustRevalidateEntryIsNotServedStaleOnError() throws Exception {
        cache.script(
                "/mre",
                r -> r.n() == 1
                        ? Reply.ok("ok").cc("max-age=10, must-revalidate, stale-if-error=60")
                        : Reply.status(503, "down"));

        cache.get("/mre");
        cache.advanceSeconds(15);

        var response = cache.get("/mre");
        assertThat(response.statusCode()).isEqualTo(503); // the backend's error, not the stale "ok"
        assertThat(response.body()).doesNotContain("ok");
    }

    @Test
    void section5_2_2_4_noCacheIsStoredButValidatedEveryTime() throws Exception {
        cache.script(
                "/nc",
                r -> "\"a\"".equals(r.header("If-None-Match"))
                        ? Reply.status(304, "").cc("no-cache").header("ETag", "\"a\"")
                        : Reply.ok("nc" + r.n()).cc("no-cache").header("ETag", "\"a\""));

        cache.get("/nc");
        var second = cache.get("/nc");

        assertThat(second.body()).isEqualTo("nc1");
        assertThat(cache.count("/nc")).isEqualTo(2);
        assertThat(cache.last("/nc").header("If-None-Match")).isEqualTo("\"a\"");
    }

    @Test
    void section5_2_2_4_qualifiedNoCacheServesWithoutValidationButWithholdsTheField() throws Exception {
        cache.script(
                "/q",
                r -> Reply.ok("q" + r.n())
                        .cc("max-age=60, no-cache=\"X-Secret\"")
                        .header("X-Secret", "s" + r.n()));

        var first = cache.get("/q");
        var hit = cache.get("/q");

        assertThat(first.headers().firstValue("X-Secret")).hasValue("s1");
        assertThat(hit.body()).isEqualTo("q1");
        assertThat(hit.headers().firstValue("X-Secret")).isEmpty();
        assertThat(cache.count("/q")).isEqualTo(1);
    }
}
