package dev.proxyfilter.cache.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.admin.AdminOperations;
import dev.proxyfilter.cache.proxy.CacheProxy.Reply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * RFC 9111 §4.4 (invalidation by unsafe methods, with {@code Location} and {@code Content-Location} on the
 * same host) and the operator's purge by URL and by prefix, through the real proxy.
 */
@Timeout(30)
class InvalidationThroughProxyIntegrationTest {
    private final CacheProxy cache = CacheProxy.start();

    @AfterEach
    void close() {
        cache.close();
    }

    private void cacheable(String path) {
        cache.script(
                path,
                r -> r.method().equals("GET") ? Reply.ok(path + " " + r.n()).cc("max-age=60") : Reply.ok("changed"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"POST", "PUT", "DELETE", "PATCH"})
    void section4_4_aSuccessfulUnsafeMethodInvalidatesTheTargetUri(String method) throws Exception {
        cacheable("/r");
        cache.get("/r");

        cache.send(method, "/r");

        assertThat(cache.get("/r").body()).isEqualTo("/r 3");
    }

    @Test
    void section4_4_anErrorDoesNotInvalidate() throws Exception {
        cache.script(
                "/keep", r -> r.method().equals("GET") ? Reply.ok("keep").cc("max-age=60") : Reply.status(500, "no"));
        cache.get("/keep");

        cache.send("POST", "/keep");

        cache.get("/keep");
        assertThat(cache.count("/keep")).isEqualTo(2);
    }

    @Test
    void section4_4_locationAndContentLocationOnTheSameHostAreInvalidated_anotherHostIsNot() throws Exception {
        cacheable("/loc");
        cacheable("/cloc");
        cacheable("/other");
        cache.get("/loc");
        cache.get("/cloc");
        cache.get("/other");
        cache.script(
                "/form",
                r -> Reply.status(201, "created")
                        .header("Location", cache.origin() + "/loc")
                        .header("Content-Location", "/cloc"));
        cache.script("/elsewhere", r -> Reply.ok("x").header("Location", "http://other.example/other"));

        cache.send("POST", "/form");
        cache.send("POST", "/elsewhere");

        assertThat(cache.get("/loc").body()).isEqualTo("/loc 2");
        assertThat(cache.get("/cloc").body()).isEqualTo("/cloc 2");
        assertThat(cache.get("/other").body()).isEqualTo("/other 1");
    }

    @Test
    void purgeByUrlAndByPrefix() throws Exception {
        cacheable("/p/1");
        cacheable("/p/2");
        cacheable("/q");
        cache.get("/p/1");
        cache.get("/p/2");
        cache.get("/q");
        var admin = new AdminOperations(cache.proxy().engine());

        assertThat(admin.purgeUrl(cache.origin() + "/q")).isEqualTo(1);
        assertThat(admin.purgePrefix(cache.origin() + "/p/")).isEqualTo(2);

        assertThat(cache.get("/p/1").body()).isEqualTo("/p/1 2");
        assertThat(cache.get("/p/2").body()).isEqualTo("/p/2 2");
        assertThat(cache.get("/q").body()).isEqualTo("/q 2");
    }
}
