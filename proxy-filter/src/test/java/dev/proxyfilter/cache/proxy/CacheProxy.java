package dev.proxyfilter.cache.proxy;

import dev.proxyfilter.config.CacheConfig;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.config.RouteConfig;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.testing.FakeClock;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.TestBackend;
import dev.proxyfilter.testing.TestConfigs;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one fixture of the through-proxy cache tests: a real backend whose answers each test scripts per path
 * (status, headers, body, a response delay on the fake clock) and that counts and records what reaches it,
 * the real proxy (the filter in Jetty) in front of it with its cache on, and a fake clock shared by the
 * engine ({@code ProxyAdapter.start(config, clock)}) and the backend's {@code Date}, so that no test sleeps.
 *
 * <p>Unscripted paths answer {@code 200 "body N"} (N counts the requests for the path) with no caching
 * headers. Use it with try-with-resources, or close it in {@code @AfterEach}.
 */
final class CacheProxy implements AutoCloseable {
    /** What a scripted backend saw of one request. */
    record Received(String method, String path, String query, int n, Map<String, String> headers) {
        /** A request header, or {@code null}; the name is case-insensitive. */
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /** How the backend answers one request. */
    interface Script {
        Reply answer(Received request) throws Exception;
    }

    /** A scripted answer: status, headers, body, and how long it "takes" on the fake clock. */
    static final class Reply {
        final int status;
        final Map<String, List<String>> headers = new LinkedHashMap<>();
        byte[] body;
        boolean chunked;
        long delayMillis;
        long dateMillis = Long.MIN_VALUE;

        private Reply(int status, String body) {
            this.status = status;
            this.body = body.getBytes(StandardCharsets.ISO_8859_1);
        }

        static Reply ok(String body) {
            return new Reply(200, body);
        }

        static Reply status(int status, String body) {
            return new Reply(status, body);
        }

        Reply header(String name, String value) {
            headers.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
            return this;
        }

        Reply cc(String cacheControl) {
            return header("Cache-Control", cacheControl);
        }

        /** The response takes {@code millis} on the fake clock: request time and response time differ. */
        Reply delay(long millis) {
            this.delayMillis = millis;
            return this;
        }

        /** Streamed without {@code Content-Length}. */
        Reply chunked() {
            this.chunked = true;
            return this;
        }

        /** The backend's {@code Date}, instead of the fake clock's now. */
        Reply date(long millis) {
            this.dateMillis = millis;
            return this;
        }
    }

    /** The cache's clock and the backend's {@code Date}; the engine's other clocks do not matter here. */
    final FakeClock clock = new FakeClock(Instant.ofEpochMilli(1_800_000_000_000L));

    private final Map<String, Script> scripts = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    final List<Received> received = new CopyOnWriteArrayList<>();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final TestBackend backend;
    private final CacheConfig cacheConfig;
    private final dev.proxyfilter.config.SecurityConfig securityConfig;
    private ProxyAdapter.Running proxy;

    private CacheProxy(CacheConfig cacheConfig, dev.proxyfilter.config.SecurityConfig securityConfig) {
        this.cacheConfig = cacheConfig;
        this.securityConfig = securityConfig;
        this.backend = TestBackend.start("origin", new Backend());
        this.proxy = startProxy();
    }

    /** Backend, proxy and clock with a small in-memory cache (1000-byte entries, 30 s coalescing). */
    static CacheProxy start() {
        return start(CacheConfig.builder()
                .maxEntryBytes(1000)
                .coalesceTimeout(Duration.ofSeconds(30))
                .build());
    }

    static CacheProxy start(CacheConfig cache) {
        return new CacheProxy(cache, dev.proxyfilter.config.SecurityConfig.NONE);
    }

    /** With security settings (trusted proxies, headers stripped from requests) and the default small cache. */
    static CacheProxy start(dev.proxyfilter.config.SecurityConfig security) {
        return new CacheProxy(
                CacheConfig.builder()
                        .maxEntryBytes(1000)
                        .coalesceTimeout(Duration.ofSeconds(30))
                        .build(),
                security);
    }

    private ProxyAdapter.Running startProxy() {
        ProxyConfig config = TestConfigs.builder()
                .pool("web", StrategyName.ROUND_ROBIN, "a", backend.url(), 1)
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
                .withCache(cacheConfig)
                .withSecurity(securityConfig);
        return ProxyAdapter.FILTER_IN_JETTY.start(config, clock);
    }

    /** Stops the proxy (its engine and store) and starts a new one with the same configuration. */
    void restartProxy() {
        proxy.close();
        proxy = startProxy();
    }

    ProxyAdapter.Running proxy() {
        return proxy;
    }

    /** Scripts the answers for {@code path} (without query). */
    CacheProxy script(String path, Script script) {
        scripts.put(path, script);
        return this;
    }

    /** Moves the fake clock on. */
    void advanceSeconds(long seconds) {
        clock.advance(Duration.ofSeconds(seconds));
    }

    /** The fake clock's time, epoch milliseconds. */
    long now() {
        return clock.millis();
    }

    /** Requests that reached the backend for {@code path}, any method. */
    int count(String path) {
        AtomicInteger n = counts.get(path);
        return n == null ? 0 : n.get();
    }

    /** The last request the backend saw for {@code path}. */
    Received last(String path) {
        for (int i = received.size() - 1; i >= 0; i--) {
            if (received.get(i).path().equals(path)) {
                return received.get(i);
            }
        }
        return null;
    }

    HttpResponse<String> get(String pathAndQuery, String... headers) throws Exception {
        return send("GET", pathAndQuery, headers);
    }

    HttpResponse<String> send(String method, String pathAndQuery, String... headers) throws Exception {
        return http.send(request(method, pathAndQuery, headers), HttpResponse.BodyHandlers.ofString());
    }

    HttpRequest request(String method, String pathAndQuery, String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(proxy.uri().resolve(pathAndQuery))
                .timeout(Duration.ofSeconds(30))
                .method(method, HttpRequest.BodyPublishers.noBody());
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return request.build();
    }

    HttpClient http() {
        return http;
    }

    /** An HTTP-date (IMF-fixdate) for epoch millis. */
    static String httpDate(long millis) {
        return org.eclipse.jetty.http.DateGenerator.formatDate(millis);
    }

    static String cacheStatus(HttpResponse<?> response) {
        return response.headers().firstValue("Cache-Status").orElse("");
    }

    /** The proxy's base URI as the cache keys it, e.g. {@code http://127.0.0.1:1234}. */
    String origin() {
        return proxy.uri().toString().replaceAll("/$", "");
    }

    /** Stops the backend: from now on the proxy cannot reach it (connection refused). */
    void stopBackend() {
        if (!backendStopped) {
            backendStopped = true;
            backend.close();
        }
    }

    private boolean backendStopped;

    @Override
    public void close() {
        try {
            proxy.close();
        } finally {
            stopBackend();
        }
    }

    private final class Backend extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            String path = req.getRequestURI();
            int n = counts.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
            Map<String, String> headers = new LinkedHashMap<>();
            for (String name : Collections.list(req.getHeaderNames())) {
                headers.put(name.toLowerCase(Locale.ROOT), String.join(", ", Collections.list(req.getHeaders(name))));
            }
            Received request = new Received(req.getMethod(), path, req.getQueryString(), n, headers);
            received.add(request);
            Script script = scripts.get(path);
            Reply reply;
            try {
                reply = script == null ? Reply.ok("body " + n) : script.answer(request);
            } catch (Exception e) {
                throw new IOException(e);
            }
            clock.advanceMillis(reply.delayMillis); // the response is generated after the delay
            resp.setStatus(reply.status);
            List<String> scriptedDate = reply.headers.get("Date");
            if (scriptedDate == null) {
                resp.setDateHeader("Date", reply.dateMillis == Long.MIN_VALUE ? clock.millis() : reply.dateMillis);
            } else { // a scripted Date, valid or not, replaces the clock's (and the container's)
                resp.setHeader("Date", scriptedDate.get(0));
            }
            resp.setContentType("text/plain");
            reply.headers.forEach((name, values) -> {
                for (int i = name.equals("Date") ? 1 : 0; i < values.size(); i++) {
                    resp.addHeader(name, values.get(i));
                }
            });
            if (reply.status == 304 || reply.status == 204 || req.getMethod().equals("HEAD")) {
                return;
            }
            if (!reply.chunked) {
                resp.setContentLength(reply.body.length);
                resp.getOutputStream().write(reply.body);
                return;
            }
            var out = resp.getOutputStream(); // flushed half way, so the container cannot add a length
            out.write(reply.body, 0, reply.body.length / 2);
            out.flush();
            out.write(reply.body, reply.body.length / 2, reply.body.length - reply.body.length / 2);
        }
    }
}
