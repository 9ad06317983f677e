package dev.proxyfilter.cache.proxy;

import static dev.proxyfilter.cache.proxy.CacheProxy.cacheStatus;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.cache.proxy.CacheProxy.Reply;
import dev.proxyfilter.config.CacheConfig;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.config.RouteConfig;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.testing.FakeClock;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.SocketBackend;
import dev.proxyfilter.testing.TestConfigs;
import java.io.OutputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What is stored with a response, and what is never stored, through the real proxy: RFC 9111 §3 (1xx are not
 * final and never stored), §3.1 (hop-by-hop fields such as {@code Transfer-Encoding} are not stored),
 * {@code Set-Cookie} (stored and served as RFC 9111 allows, unless {@code private}, a qualified
 * {@code private} or {@code no-cache} names it, or {@code cache.store-set-cookie=false}).
 */
@Timeout(30)
class StoredFieldsThroughProxyIntegrationTest {
    private CacheProxy cache = CacheProxy.start();

    @AfterEach
    void close() {
        cache.close();
    }

    @Test
    void section3_1_transferEncodingIsNotStored_aHitHasAContentLength() throws Exception {
        cache.script(
                "/chunked",
                r -> Reply.ok("a chunked body " + r.n()).cc("max-age=60").chunked());

        var miss = cache.get("/chunked");
        var hit = cache.get("/chunked");

        assertThat(miss.headers().firstValue("Content-Length")).isEmpty(); // streamed as it came
        assertThat(cacheStatus(hit)).contains("hit");
        assertThat(hit.body()).isEqualTo("a chunked body 1");
        assertThat(hit.headers().firstValue("Transfer-Encoding")).isEmpty();
        assertThat(hit.headers().firstValue("Content-Length")).hasValue("16");
    }

    @Test
    void section3_aCacheableResponseWithSetCookieIsStoredAndServedWithIt() throws Exception {
        cache.script("/c", r -> Reply.ok("c" + r.n()).cc("max-age=60").header("Set-Cookie", "theme=dark"));

        cache.get("/c");
        var hit = cache.get("/c");

        assertThat(cacheStatus(hit)).contains("hit");
        assertThat(hit.headers().allValues("Set-Cookie")).containsExactly("theme=dark");
        assertThat(cache.count("/c")).isEqualTo(1);
    }

    @Test
    void section5_2_2_7_privateKeepsTheResponseOut_qualifiedPrivateOrNoCacheKeepTheCookieOut() throws Exception {
        cache.script("/p", r -> Reply.ok("p" + r.n()).cc("private, max-age=60").header("Set-Cookie", "s=" + r.n()));
        cache.script(
                "/qp",
                r -> Reply.ok("qp" + r.n())
                        .cc("max-age=60, private=\"Set-Cookie\"")
                        .header("Set-Cookie", "s=" + r.n()));
        cache.script(
                "/qn",
                r -> Reply.ok("qn" + r.n())
                        .cc("max-age=60, no-cache=\"set-cookie\"")
                        .header("Set-Cookie", "s=" + r.n()));

        cache.get("/p");
        assertThat(cache.get("/p").headers().allValues("Set-Cookie")).containsExactly("s=2");
        for (String path : new String[] {"/qp", "/qn"}) {
            var first = cache.get(path);
            var hit = cache.get(path);
            assertThat(first.headers().allValues("Set-Cookie")).as(path).containsExactly("s=1");
            assertThat(cacheStatus(hit)).as(path).contains("hit");
            assertThat(hit.headers().allValues("Set-Cookie")).as(path).isEmpty();
        }
    }

    @Test
    void storeSetCookieFalseRefusesResponsesThatSetACookie() throws Exception {
        cache.close();
        cache = CacheProxy.start(CacheConfig.builder()
                .maxEntryBytes(1000)
                .coalesceTimeout(Duration.ofSeconds(30))
                .storeSetCookie(false)
                .build());
        cache.script("/c", r -> Reply.ok("c" + r.n()).cc("max-age=60").header("Set-Cookie", "session=" + r.n()));

        var first = cache.get("/c");
        var second = cache.get("/c");

        assertThat(first.headers().allValues("Set-Cookie")).containsExactly("session=1");
        assertThat(second.headers().allValues("Set-Cookie")).containsExactly("session=2");
        assertThat(cacheStatus(second)).contains("detail=set-cookie");
        assertThat(cache.count("/c")).isEqualTo(2);
    }

    @Test
    void section3_interim1xxResponsesAreNeverCached_theFinalResponseIs() throws Exception {
        AtomicInteger requests = new AtomicInteger();
        try (SocketBackend raw = SocketBackend.start(socket -> {
                    var in = socket.getInputStream();
                    OutputStream out = socket.getOutputStream();
                    while (!SocketBackend.readHead(in).isEmpty()) {
                        int n = requests.incrementAndGet();
                        String body = "final " + n;
                        out.write(("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n"
                                        + "Cache-Control: max-age=600\r\n\r\n"
                                        + "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Length: "
                                        + body.length() + "\r\n\r\n" + body)
                                .getBytes(StandardCharsets.ISO_8859_1));
                        out.flush();
                    }
                });
                var proxy = ProxyAdapter.FILTER_IN_JETTY.start(rawConfig(raw), new FakeClock(Instant.now()))) {
            HttpClient http = HttpClient.newHttpClient();
            HttpRequest get =
                    HttpRequest.newBuilder(proxy.uri().resolve("/early")).build();

            HttpResponse<String> first = http.send(get, HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> second = http.send(get, HttpResponse.BodyHandlers.ofString());

            assertThat(first.statusCode()).isEqualTo(200);
            assertThat(second.body()).isEqualTo("final 1");
            assertThat(cacheStatus(second)).contains("hit");
            assertThat(second.headers().firstValue("Link")).isEmpty(); // the 103's fields are not the 200's
            assertThat(requests).hasValue(1);
        }
    }

    private static ProxyConfig rawConfig(SocketBackend raw) {
        return TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "a", raw.url().toString(), 1)
                .route(new RouteConfig(
                                "main",
                                null,
                                "/",
                                "web",
                                false,
                                true,
                                Duration.ofSeconds(2),
                                Duration.ofSeconds(20),
                                Duration.ZERO)
                        .withCache(true))
                .build()
                .withCache(CacheConfig.builder().maxEntryBytes(1000).build());
    }
}
