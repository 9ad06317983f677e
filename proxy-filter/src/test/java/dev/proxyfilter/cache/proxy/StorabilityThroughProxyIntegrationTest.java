package dev.proxyfilter.cache.proxy;

import static dev.proxyfilter.cache.proxy.CacheProxy.cacheStatus;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.cache.proxy.CacheProxy.Reply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * RFC 9111 §3 (storing responses), §3.5 ({@code Authorization}), §4.2.1 (which freshness wins) and §4.2.2
 * (heuristic freshness), through the real proxy: the backend counts requests, so "stored" means the second
 * request did not reach it.
 */
@Timeout(30)
class StorabilityThroughProxyIntegrationTest {
    private final CacheProxy cache = CacheProxy.start();

    @AfterEach
    void close() {
        cache.close();
    }

    private int twice(String path, String... headers) throws Exception {
        cache.get(path, headers);
        cache.get(path, headers);
        return cache.count(path);
    }

    @Test
    void section3_getWithMaxAgeIsStored() throws Exception {
        cache.script("/a", r -> Reply.ok("a" + r.n()).cc("max-age=60"));

        assertThat(twice("/a")).isEqualTo(1);
    }

    @Test
    void section3_postIsNeverStoredAndHeadIsServedFromAStoredGet() throws Exception {
        cache.script("/m", r -> Reply.ok("m" + r.n()).cc("max-age=60"));

        cache.send("POST", "/m");
        cache.send("POST", "/m");
        assertThat(cache.count("/m")).isEqualTo(2);
        cache.get("/m");
        var head = cache.send("HEAD", "/m");

        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(cacheStatus(head)).contains("hit");
        assertThat(cache.count("/m")).isEqualTo(3);
    }

    @Test
    void section3_statusCodes_a500WithoutExplicitFreshnessIsNotStored_a404WithMaxAgeIs() throws Exception {
        cache.script(
                "/e",
                r -> Reply.status(500, "e").header("Last-Modified", CacheProxy.httpDate(cache.now() - 3_600_000)));
        cache.script("/nf", r -> Reply.status(404, "nf").cc("max-age=60"));

        assertThat(twice("/e")).isEqualTo(2);
        assertThat(twice("/nf")).isEqualTo(1);
    }

    @Test
    void section5_2_2_5_noStoreAndSection5_2_2_7_privateAreNotStoredInASharedCache() throws Exception {
        cache.script("/ns", r -> Reply.ok("ns").cc("no-store, max-age=60"));
        cache.script("/p", r -> Reply.ok("p").cc("private, max-age=60"));
        cache.script("/rq", r -> Reply.ok("rq").cc("max-age=60"));

        assertThat(twice("/ns")).isEqualTo(2);
        assertThat(twice("/p")).isEqualTo(2);
        assertThat(twice("/rq", "Cache-Control", "no-store")).isEqualTo(2);
    }

    @Test
    void section4_2_1_sMaxAgeWinsOverMaxAgeWhichWinsOverExpires() throws Exception {
        String inAnHour = CacheProxy.httpDate(cache.now() + 3_600_000);
        cache.script("/s", r -> Reply.ok("s" + r.n()).cc("max-age=10, s-maxage=100"));
        cache.script("/x", r -> Reply.ok("x" + r.n()).cc("max-age=10").header("Expires", inAnHour));

        cache.get("/s");
        cache.get("/x");
        cache.advanceSeconds(50);

        assertThat(cache.get("/s").body()).isEqualTo("s1"); // s-maxage=100: still fresh for a shared cache
        assertThat(cache.get("/x").body()).isEqualTo("x2"); // max-age=10 over Expires in an hour: stale
    }

    @Test
    void section4_2_1_expiresAloneGivesTheLifetime() throws Exception {
        String in30s = CacheProxy.httpDate(cache.now() + 30_000);
        cache.script("/ex", r -> Reply.ok("ex" + r.n()).header("Expires", in30s));

        cache.get("/ex");
        cache.advanceSeconds(20);
        assertThat(cache.get("/ex").body()).isEqualTo("ex1");
        cache.advanceSeconds(20);
        assertThat(cache.get("/ex").body()).isEqualTo("ex2");
    }

    @Test
    void section3_5_authorizationIsNotStoredUnlessPublicSMaxAgeOrMustRevalidate() throws Exception {
        cache.script("/plain", r -> Reply.ok("plain").cc("max-age=60"));
        cache.script("/public", r -> Reply.ok("public").cc("public, max-age=60"));
        cache.script("/smax", r -> Reply.ok("smax").cc("s-maxage=60"));
        cache.script("/mr", r -> Reply.ok("mr").cc("max-age=60, must-revalidate"));

        assertThat(twice("/plain", "Authorization", "Bearer a")).isEqualTo(2);
        assertThat(twice("/public", "Authorization", "Bearer a")).isEqualTo(1);
        assertThat(twice("/smax", "Authorization", "Bearer a")).isEqualTo(1);
        assertThat(twice("/mr", "Authorization", "Bearer a")).isEqualTo(1);
    }

    @Test
    void section4_2_2_heuristicFreshnessFromLastModifiedOnlyForHeuristicallyCacheableStatuses() throws Exception {
        // Last-Modified 10 hours ago: 10% gives one hour of heuristic freshness.
        String tenHoursAgo = CacheProxy.httpDate(cache.now() - 36_000_000);
        cache.script("/h", r -> Reply.ok("h" + r.n()).header("Last-Modified", tenHoursAgo));
        cache.script(
                "/h302",
                r -> Reply.status(302, "r" + r.n()).header("Location", "/h").header("Last-Modified", tenHoursAgo));
        cache.script("/none", r -> Reply.ok("n" + r.n()));

        cache.get("/h");
        cache.advanceSeconds(3000);
        assertThat(cache.get("/h").body()).isEqualTo("h1");
        cache.advanceSeconds(700);
        assertThat(cache.get("/h").body()).isEqualTo("h2");

        assertThat(twice("/h302")).isEqualTo(2); // 302 is not heuristically cacheable (RFC 9110 §15.1)
        assertThat(twice("/none")).isEqualTo(2); // neither a lifetime nor a validator: nothing to go on
    }
}
