package dev.proxyfilter.cache.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.cache.proxy.CacheProxy.Reply;
import dev.proxyfilter.config.CacheConfig;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * RFC 9213 (targeted cache control) through the real proxy: {@code CDN-Cache-Control}, and an own targeted
 * field before it, override {@code Cache-Control} and {@code Expires} for storing and freshness; an invalid
 * field is ignored whole; the fields reach the client unless {@code cache.strip-targeted=true}.
 */
@Timeout(30)
class TargetedCacheControlThroughProxyIntegrationTest {
    private CacheProxy cache = CacheProxy.start();

    @AfterEach
    void close() {
        cache.close();
    }

    private static CacheConfig.Builder config() {
        return CacheConfig.builder().maxEntryBytes(1000).coalesceTimeout(Duration.ofSeconds(30));
    }

    private void restartWith(CacheConfig config) {
        cache.close();
        cache = CacheProxy.start(config);
    }

    private int twice(String path) throws Exception {
        cache.get(path);
        cache.get(path);
        return cache.count(path);
    }

    @Test
    void section2_1_cdnCacheControlMaxAgeOverridesCacheControlForStoringAndFreshness() throws Exception {
        cache.script("/nostore", r -> Reply.ok("a" + r.n()).cc("no-store").header("CDN-Cache-Control", "max-age=60"));
        cache.script("/short", r -> Reply.ok("s" + r.n()).cc("max-age=1000").header("CDN-Cache-Control", "max-age=10"));

        assertThat(twice("/nostore")).isEqualTo(1);
        cache.get("/short");
        cache.advanceSeconds(20);
        assertThat(cache.get("/short").body()).isEqualTo("s2"); // CDN max-age=10, not Cache-Control's 1000
    }

    @Test
    void section2_1_cdnCacheControlSMaxAge() throws Exception {
        cache.script("/s", r -> Reply.ok("s" + r.n()).header("CDN-Cache-Control", "max-age=10, s-maxage=100"));

        cache.get("/s");
        cache.advanceSeconds(50);

        assertThat(cache.get("/s").body()).isEqualTo("s1");
    }

    @Test
    void section2_1_cdnCacheControlNoStoreAndPrivateOverrideACacheableCacheControl() throws Exception {
        cache.script("/ns", r -> Reply.ok("ns").cc("public, max-age=60").header("CDN-Cache-Control", "no-store"));
        cache.script("/p", r -> Reply.ok("p").cc("public, max-age=60").header("CDN-Cache-Control", "private"));

        assertThat(twice("/ns")).isEqualTo(2);
        assertThat(twice("/p")).isEqualTo(2);
    }

    @Test
    void section2_1_cdnCacheControlNoCacheMeansValidateEveryTime() throws Exception {
        cache.script(
                "/nc",
                r -> "\"v1\"".equals(r.header("If-None-Match"))
                        ? Reply.status(304, "")
                                .header("ETag", "\"v1\"")
                                .cc("max-age=60")
                                .header("CDN-Cache-Control", "no-cache")
                        : Reply.ok("nc")
                                .header("ETag", "\"v1\"")
                                .cc("max-age=60")
                                .header("CDN-Cache-Control", "no-cache"));

        cache.get("/nc");
        var second = cache.get("/nc");

        assertThat(second.body()).isEqualTo("nc");
        assertThat(cache.count("/nc")).isEqualTo(2);
        assertThat(cache.last("/nc").header("If-None-Match")).isEqualTo("\"v1\"");
    }

    @Test
    void section2_1_cdnCacheControlMustRevalidateRefusesMaxStale() throws Exception {
        cache.script(
                "/mr",
                r -> Reply.ok("mr" + r.n())
                        .cc("max-age=10")
                        .header("CDN-Cache-Control", "max-age=10, must-revalidate"));

        cache.get("/mr");
        cache.advanceSeconds(15);

        assertThat(cache.get("/mr", "Cache-Control", "max-stale=60").body()).isEqualTo("mr2");
    }

    @Test
    void section2_1_itsMaxAgeCountsAgainstAge() throws Exception {
        cache.script(
                "/age", r -> Reply.ok("age" + r.n()).header("Age", "90").header("CDN-Cache-Control", "max-age=100"));

        cache.get("/age");
        cache.advanceSeconds(5);
        assertThat(cache.get("/age").body()).isEqualTo("age1");
        cache.advanceSeconds(6);
        assertThat(cache.get("/age").body()).isEqualTo("age2");
    }

    @Test
    void section2_1_itsMaxAgeZeroWinsOverAFutureExpires() throws Exception {
        String inAnHour = CacheProxy.httpDate(cache.now() + 3_600_000);
        cache.script(
                "/x",
                r -> Reply.ok("x" + r.n())
                        .header("Expires", inAnHour)
                        .header("ETag", "\"x\"")
                        .header("CDN-Cache-Control", "max-age=0"));

        assertThat(twice("/x")).isEqualTo(2);
    }

    @Test
    void section2_1_aTargetedFieldWithoutFreshnessAlsoSilencesExpires() throws Exception {
        String inAnHour = CacheProxy.httpDate(cache.now() + 3_600_000);
        cache.script(
                "/e",
                r -> Reply.ok("e" + r.n())
                        .header("Expires", inAnHour)
                        .header("ETag", "\"e\"")
                        .header("CDN-Cache-Control", "must-revalidate"));

        assertThat(twice("/e")).isEqualTo(2);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "max-age=\"60\"", // a String where an Integer belongs
                "max-age=60.0", // a Decimal
                "max-age=-1",
                "max-age=tok", // a Token
                "no-store=?0", // no-store is always true
                "no-store=1",
                "private=1",
                "max-age=(60)",
                "max-age=60,", // does not parse
                "max-age=60;", // does not parse
                "Max-Age=60", // keys are lower case
                "max-age=@1700000000", // an RFC 9651 Date: an unknown type to RFC 8941
                "no-store, max-age=60 s-maxage=5",
            })
    void section2_2_anInvalidTargetedFieldIsIgnoredWhole(String invalid) throws Exception {
        // Cache-Control says 60 s; the targeted field would say "no-store" or something else if it counted
        cache.script("/inv", r -> Reply.ok("inv" + r.n()).cc("max-age=60").header("CDN-Cache-Control", invalid));

        assertThat(twice("/inv")).as(invalid).isEqualTo(1);
    }

    @Test
    void section2_2_unknownDirectivesAndParametersAreIgnored() throws Exception {
        cache.script(
                "/u",
                r -> Reply.ok("u" + r.n())
                        .cc("no-store")
                        .header("CDN-Cache-Control", "x-vendor=(1 2), max-age=60;unit=s, y=\"z\""));

        assertThat(twice("/u")).isEqualTo(1);
    }

    @Test
    void section2_1_targetedFieldsNotOnTheListChangeNothing() throws Exception {
        cache.script("/other", r -> Reply.ok("o" + r.n()).cc("no-store").header("Other-Cache-Control", "max-age=60"));

        assertThat(twice("/other")).isEqualTo(2);
        assertThat(cache.get("/other").headers().firstValue("Other-Cache-Control"))
                .hasValue("max-age=60");
    }

    @Test
    void section2_1_theOwnTargetedFieldComesFirstThenCdnCacheControl() throws Exception {
        restartWith(config().targetedField("Proxy-Filter-Cache-Control").build());
        cache.script(
                "/own",
                r -> Reply.ok("own" + r.n())
                        .header("Proxy-Filter-Cache-Control", "max-age=10")
                        .header("CDN-Cache-Control", "max-age=100"));
        cache.script(
                "/fallback",
                r -> Reply.ok("fb" + r.n())
                        .header("Proxy-Filter-Cache-Control", "max-age=ten") // invalid: CDN-Cache-Control governs
                        .header("CDN-Cache-Control", "max-age=100"));

        cache.get("/own");
        cache.get("/fallback");
        cache.advanceSeconds(50);

        assertThat(cache.get("/own").body()).isEqualTo("own2");
        assertThat(cache.get("/fallback").body()).isEqualTo("fb1");
    }

    @Test
    void section2_targetedFieldsReachTheClientByDefault() throws Exception {
        cache.script("/keep", r -> Reply.ok("k").cc("max-age=5").header("CDN-Cache-Control", "max-age=60"));

        var miss = cache.get("/keep");
        var hit = cache.get("/keep");

        assertThat(miss.headers().firstValue("CDN-Cache-Control")).hasValue("max-age=60");
        assertThat(hit.headers().firstValue("CDN-Cache-Control")).hasValue("max-age=60");
        assertThat(CacheProxy.cacheStatus(hit)).contains("hit");
    }

    @Test
    void section2_stripTargetedRemovesTheFieldsThisCacheObeysFromMissesAndHits() throws Exception {
        restartWith(config().targetedField("Proxy-Filter-Cache-Control")
                .stripTargeted(true)
                .build());
        cache.script(
                "/strip",
                r -> Reply.ok("s")
                        .cc("max-age=5")
                        .header("CDN-Cache-Control", "max-age=60")
                        .header("Proxy-Filter-Cache-Control", "max-age=60")
                        .header("Other-Cache-Control", "max-age=1"));

        var miss = cache.get("/strip");
        cache.advanceSeconds(30); // fresh only by the targeted fields, which the stored copy kept
        var hit = cache.get("/strip");

        for (var response : java.util.List.of(miss, hit)) {
            assertThat(response.headers().firstValue("CDN-Cache-Control")).isEmpty();
            assertThat(response.headers().firstValue("Proxy-Filter-Cache-Control"))
                    .isEmpty();
            assertThat(response.headers().firstValue("Other-Cache-Control")).hasValue("max-age=1");
            assertThat(response.headers().firstValue("Cache-Control")).hasValue("max-age=5");
        }
        assertThat(CacheProxy.cacheStatus(hit)).contains("hit");
    }
}
