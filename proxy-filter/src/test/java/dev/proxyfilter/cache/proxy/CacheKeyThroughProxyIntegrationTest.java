package dev.proxyfilter.cache.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.cache.proxy.CacheProxy.Reply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The cache key (RFC 9111 §2, §4.1) and cache poisoning through unkeyed headers, through the real proxy: the
 * key is the method plus the effective URI (scheme, host, path, query) plus the {@code Vary}-selected header
 * values, and nothing else.
 */
@Timeout(30)
class CacheKeyThroughProxyIntegrationTest {
    private final CacheProxy cache = CacheProxy.start();

    @AfterEach
    void close() {
        cache.close();
    }

    @Test
    void section2_unkeyedHeadersDoNotChangeTheKey() throws Exception {
        cache.script("/k", r -> Reply.ok("k" + r.n()).cc("max-age=60"));

        cache.get(
                "/k",
                "X-Forwarded-Host",
                "evil.example",
                "X-Original-URL",
                "/admin",
                "X-Forwarded-Scheme",
                "nothttps",
                "User-Agent",
                "attacker",
                "Accept-Language",
                "xx");
        var victim = cache.get("/k");

        assertThat(victim.body()).isEqualTo("k1");
        assertThat(cache.count("/k")).isEqualTo(1);
    }

    @Test
    void section2_unkeyedHeadersThatTheBackendReflectsAreNotKeptForOthers() throws Exception {
        // A backend that reflects a header without saying Vary would be poisoned by design; this one says Vary.
        cache.script(
                "/refl",
                r -> Reply.ok("host=" + r.header("X-Tenant")).cc("max-age=60").header("Vary", "X-Tenant"));

        cache.get("/refl", "X-Tenant", "evil");
        var victim = cache.get("/refl", "X-Tenant", "good");

        assertThat(victim.body()).isEqualTo("host=good");
    }

    @Test
    void section2_theQueryIsPartOfTheKey() throws Exception {
        cache.script("/q", r -> Reply.ok(r.query() + r.n()).cc("max-age=60"));

        cache.get("/q?a=1");
        var other = cache.get("/q?a=2");
        var same = cache.get("/q?a=1");

        assertThat(other.body()).isEqualTo("a=22");
        assertThat(same.body()).isEqualTo("a=11");
    }

    @Test
    void section2_thePathIsComparedAfterNormalisation() throws Exception {
        cache.script("/n/x", r -> Reply.ok("n" + r.n()).cc("max-age=60"));

        cache.get("/n/x");

        assertThat(cache.get("/n/%78").body()).isEqualTo("n1");
    }

    @Test
    void section2_theMethodIsPartOfTheKey_headDoesNotStoreForGet() throws Exception {
        cache.script("/h", r -> Reply.ok("h" + r.n()).cc("max-age=60"));

        cache.send("HEAD", "/h");
        var get = cache.get("/h");

        assertThat(get.body()).isEqualTo("h2");
    }
}
