package dev.proxyfilter.accesslog;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The two access log formats, and that a client cannot forge log lines through them. */
class AccessLogTest {
    private static AccessLog.Entry entry(String path, String userAgent) {
        return new AccessLog.Entry(
                java.time.Instant.now(),
                "203.0.113.7",
                "GET",
                path,
                "q=1",
                "HTTP/1.1",
                200,
                512,
                12_500_000L,
                "web/a",
                10_000_000L,
                1,
                null,
                null,
                userAgent);
    }

    @Test
    void combinedIsNcsaPlusProxyFields() {
        String line = AccessLog.combined(entry("/api/x", "curl/8"));
        assertThat(line)
                .matches(
                        "203\\.0\\.113\\.7 - - \\[\\d\\d/\\w{3}/\\d{4}:\\d\\d:\\d\\d:\\d\\d \\+0000] "
                                + "\"GET /api/x\\?q=1 HTTP/1\\.1\" 200 512 \"-\" \"curl/8\" rt=0\\.013 backend=web/a urt=0\\.010 retries=1 cache=-");
    }

    @Test
    void jsonHasEveryField() {
        String line = AccessLog.json(entry("/api/x", "curl/8"));
        assertThat(line)
                .startsWith("{\"time\":\"")
                .contains(
                        "\"client\":\"203.0.113.7\"",
                        "\"method\":\"GET\"",
                        "\"path\":\"/api/x\"",
                        "\"status\":200",
                        "\"bytes\":512",
                        "\"duration_ms\":12.500",
                        "\"backend\":\"web/a\"",
                        "\"upstream_ms\":10.000",
                        "\"retries\":1",
                        "\"cache\":null",
                        "\"user_agent\":\"curl/8\"")
                .endsWith("}");
    }

    @Test
    void quotesAndControlCharactersCannotForgeLines() {
        String ua = "x\" 200 0 \"-\"\n203.0.113.66 - - [forged]";
        assertThat(AccessLog.combined(entry("/a\"b", ua)))
                .doesNotContain("\n")
                .contains("\\x22")
                .contains("\\x0a");
        assertThat(AccessLog.json(entry("/a\"b", ua)))
                .doesNotContain("\n")
                .contains("\\\"")
                .contains("\\u000a");
    }
}
