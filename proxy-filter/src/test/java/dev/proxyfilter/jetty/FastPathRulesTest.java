package dev.proxyfilter.jetty;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Which request targets and hosts the fast path takes as they are: only what Jetty's URI compliance could not
 * find ambiguous and nothing that needs decoding. Everything refused here still works, through Jetty's
 * connection (FastPathIntegrationTest checks the hand-over).
 */
class FastPathRulesTest {
    @ParameterizedTest
    @ValueSource(
            strings = {
                "/",
                "/index.html",
                "/a/b/c",
                "/a-b_c~d/e.f",
                "/x/.well-known/y",
                "/api/v1/items?id=7&sort=-name",
                "/q?a=%20b&c=/d?e",
                "/users/@me:1,2+3!$'()*="
            })
    void plainTargetsAreTaken(String target) {
        assertThat(FastPathConnection.plainTarget(target, 8192)).as(target).isTrue();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "*",
                "http://example.test/x",
                "x/y",
                "/a%2Fb",
                "/a%20b",
                "/a//b",
                "//a",
                "/a/./b",
                "/a/../b",
                "/a/.",
                "/a/..",
                "/.",
                "/..?x",
                "/x/..y", // not a dot segment, but "/.." followed by more is left to Jetty: cheaper to not tell apart
                "/a;jsessionid=1",
                "/a b",
                "/a\"b",
                "/a<b",
                "/a\\b",
                "/a#frag",
                "/q?a#frag",
                "/q?a b",
                "/caf\u00e9",
                "/q?caf\u00e9"
            })
    void targetsThatNeedJettyFallBack(String target) {
        assertThat(FastPathConnection.plainTarget(target, 8192)).as(target).isFalse();
    }

    @org.junit.jupiter.api.Test
    void aTargetLongerThanTheLimitFallsBackForJettysFourFourteen() {
        String target = "/" + "a".repeat(99);
        assertThat(FastPathConnection.plainTarget(target, 100)).isTrue();
        assertThat(FastPathConnection.plainTarget(target + "b", 100)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {"example.test", "example.test:8080", "127.0.0.1", "127.0.0.1:1", "[::1]", "[::1]:443", "a-b.c"})
    void plainHostsAreTaken(String host) {
        assertThat(FastPathConnection.plainHost(host)).as(host).isTrue();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                ":80",
                "host:",
                "host:99999",
                "host:123456",
                "host:8x",
                "a:b:c",
                "::1",
                "[::1",
                "[::1]x",
                "exa mple",
                "user@host",
                "host/path",
                "h\u00f6st"
            })
    void hostsThatNeedJettyFallBack(String host) {
        assertThat(FastPathConnection.plainHost(host)).as(host).isFalse();
    }
}
