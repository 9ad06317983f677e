package dev.proxyfilter.cache;

import static dev.proxyfilter.cache.Http.SECOND;
import static dev.proxyfilter.cache.Http.T0;
import static dev.proxyfilter.cache.Http.bytes;
import static dev.proxyfilter.cache.Http.date;
import static dev.proxyfilter.cache.Http.fields;
import static dev.proxyfilter.cache.Http.get;
import static dev.proxyfilter.cache.Http.stored;
import static dev.proxyfilter.cache.Http.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.http.Header;
import java.time.Duration;
import org.eclipse.jetty.http.HttpFields;
import org.junit.jupiter.api.Test;

/**
 * Validation: RFC 9111 §4.3 (§4.3.1 the conditional request, §4.3.3 handling the response, §4.3.4
 * freshening stored responses with a 304, §3.2 updating stored header fields) and the client's own
 * conditional requests answered from the cache, RFC 9110 §13 (§13.1 preconditions, §13.2.2 their order,
 * §8.8.3.2 entity-tag comparison).
 */
class ValidationTest {
    private static final String LAST_MODIFIED = date(T0 - 3600 * SECOND);

    // ---- §4.3.1 ----

    @Test
    void theValidationRequestCarriesTheStoredValidatorsInsteadOfTheClients() {
        HttpFields.Mutable proxyToServer = fields(
                "Accept",
                "text/html",
                "If-None-Match",
                "\"client\"",
                "If-Modified-Since",
                date(T0),
                "If-Match",
                "\"x\"",
                "If-Unmodified-Since",
                date(T0),
                "Range",
                "bytes=0-1",
                "If-Range",
                "\"client\"");
        Conditionals.toValidationRequest(proxyToServer, stored("ETag", "\"v1\"", "Last-Modified", LAST_MODIFIED));

        assertThat(proxyToServer.get("If-None-Match")).isEqualTo("\"v1\"");
        assertThat(proxyToServer.get("If-Modified-Since")).isEqualTo(LAST_MODIFIED);
        assertThat(proxyToServer.get("Accept")).isEqualTo("text/html");
        assertThat(proxyToServer.contains("If-Match")).isFalse();
        assertThat(proxyToServer.contains("If-Unmodified-Since")).isFalse();
        assertThat(proxyToServer.contains("Range")).isFalse();
        assertThat(proxyToServer.contains("If-Range")).isFalse();
    }

    @Test
    void withoutValidatorsTheValidationIsAPlainRequest() {
        HttpFields.Mutable proxyToServer = fields("If-None-Match", "\"client\"");
        StoredResponse noValidators = stored("Cache-Control", "max-age=1");
        assertThat(Conditionals.hasValidator(noValidators)).isFalse();
        Conditionals.toValidationRequest(proxyToServer, noValidators);
        assertThat(proxyToServer.size()).isZero();
    }

    // ---- §4.3.4 ----

    @Test
    void a304SelectsTheStoredResponseByItsValidators() {
        StoredResponse strong = stored("ETag", "\"v1\"", "Last-Modified", LAST_MODIFIED);
        assertThat(Conditionals.notModifiedSelects(strong, fields("ETag", "\"v1\"")))
                .isTrue();
        assertThat(Conditionals.notModifiedSelects(strong, fields("ETag", "\"v2\"")))
                .isFalse();
        assertThat(Conditionals.notModifiedSelects(strong, fields("Last-Modified", LAST_MODIFIED)))
                .isTrue();
        assertThat(Conditionals.notModifiedSelects(strong, fields("Last-Modified", date(T0))))
                .isFalse();
        assertThat(Conditionals.notModifiedSelects(strong, fields("ETag", "W/\"v1\"")))
                .isTrue();
        assertThat(Conditionals.notModifiedSelects(stored("ETag", "W/\"v1\""), fields("ETag", "\"v1\"")))
                .isFalse();
        assertThat(Conditionals.notModifiedSelects(strong, fields("Cache-Control", "max-age=5")))
                .isTrue();
    }

    @Test
    void a304ReplacesTheStoredFieldsItCarriesButNotTheBodysFraming() {
        StoredResponse old = new StoredResponse(
                200,
                java.util.List.of(
                        new Header("Content-Type", "text/plain"),
                        new Header("Content-Encoding", "gzip"),
                        new Header("Cache-Control", "max-age=10"),
                        new Header("ETag", "\"v1\""),
                        new Header("Date", date(T0)),
                        new Header("Age", "5"),
                        new Header("X-Old", "kept")),
                bytes("body"),
                T0,
                T0,
                java.util.List.of());

        StoredResponse fresh = Conditionals.freshen(
                old,
                fields(
                        "Cache-Control",
                        "max-age=60",
                        "ETag",
                        "\"v1\"",
                        "Date",
                        date(T0 + 100 * SECOND),
                        "Content-Length",
                        "0",
                        "Content-Encoding",
                        "identity",
                        "X-New",
                        "added",
                        "Connection",
                        "close"),
                T0 + 100 * SECOND,
                T0 + 100 * SECOND);

        assertThat(fresh.header("Cache-Control")).isEqualTo("max-age=60");
        assertThat(fresh.header("Date")).isEqualTo(date(T0 + 100 * SECOND));
        assertThat(fresh.header("Content-Encoding")).isEqualTo("gzip");
        assertThat(fresh.header("Content-Type")).isEqualTo("text/plain");
        assertThat(fresh.header("X-Old")).isEqualTo("kept");
        assertThat(fresh.header("X-New")).isEqualTo("added");
        assertThat(fresh.header("Age")).isNull(); // the old Age described the old exchange
        assertThat(fresh.header("Content-Length")).isNull();
        assertThat(fresh.header("Connection")).isNull();
        assertThat(fresh.headerValues("ETag")).containsExactly("\"v1\"");
        assertThat(fresh.requestTimeMillis()).isEqualTo(T0 + 100 * SECOND);
        assertThat(fresh.bodyLength()).isEqualTo(4);
        assertThat(CachePolicy.sharedCache()
                        .decide(fields(), fresh, T0 + 150 * SECOND)
                        .action())
                .isEqualTo(CacheAction.HIT);
    }

    @Test
    void theCacheStoresTheFreshenedResponseAndAnswersFromIt() {
        try (HttpCache cache = new HttpCache(
                ResponseStore.inMemory(10, 1024), CachePolicy.sharedCache(), new Coalescer(Duration.ZERO), "pf")) {
            cache.store(
                    cache.lookup(get("/doc"), T0),
                    200,
                    fields("Cache-Control", "max-age=10", "ETag", "\"v1\"", "Date", date(T0)),
                    bytes("doc"),
                    T0,
                    T0);

            CacheLookup stale = cache.lookup(get("/doc"), T0 + 20 * SECOND);
            assertThat(stale.action()).isEqualTo(CacheAction.VALIDATE);
            assertThat(stale.cacheStatus().toString()).isEqualTo("pf; fwd=stale; ttl=-10");

            StoredResponse fresh = cache.freshen(
                    stale,
                    fields("ETag", "\"v1\"", "Date", date(T0 + 20 * SECOND)),
                    T0 + 20 * SECOND,
                    T0 + 20 * SECOND);
            CacheAnswer answer = cache.answer(stale.request(), fresh, T0 + 20 * SECOND, true);
            assertThat(answer.status()).isEqualTo(200);
            assertThat(text(answer.body())).isEqualTo("doc");
            assertThat(answer.headers().get("Age")).isEqualTo("0");

            assertThat(cache.lookup(get("/doc"), T0 + 25 * SECOND).action()).isEqualTo(CacheAction.HIT);
            assertThat(cache.freshen(cache.lookup(get("/doc"), T0 + 40 * SECOND), fields("ETag", "\"v2\""), T0, T0))
                    .isNull();
        }
    }

    @Test
    void a304ThatForbidsStoringRemovesTheStoredResponse() {
        try (HttpCache cache = new HttpCache(
                ResponseStore.inMemory(10, 1024), CachePolicy.sharedCache(), new Coalescer(Duration.ZERO), "pf")) {
            cache.store(
                    cache.lookup(get("/doc"), T0),
                    200,
                    fields("Cache-Control", "max-age=10", "ETag", "\"v1\""),
                    bytes("doc"),
                    T0,
                    T0);
            CacheLookup stale = cache.lookup(get("/doc"), T0 + 20 * SECOND);
            assertThat(cache.freshen(stale, fields("ETag", "\"v1\"", "Cache-Control", "no-store"), T0, T0))
                    .isNotNull();
            assertThat(cache.lookup(get("/doc"), T0 + 20 * SECOND).action()).isEqualTo(CacheAction.MISS);
        }
    }

    // ---- RFC 9110 §13: the client's conditions ----

    private static final StoredResponse DOC = stored(
            "ETag",
            "\"v1\"",
            "Last-Modified",
            LAST_MODIFIED,
            "Cache-Control",
            "max-age=60",
            "Date",
            date(T0),
            "Content-Type",
            "text/plain",
            "X-Other",
            "x");

    private static int evaluate(String... requestHeaders) {
        return Conditionals.evaluate("GET", fields(requestHeaders), DOC);
    }

    @Test
    void ifNoneMatchUsesTheWeakComparison() {
        assertThat(evaluate("If-None-Match", "\"v1\"")).isEqualTo(304);
        assertThat(evaluate("If-None-Match", "W/\"v1\"")).isEqualTo(304);
        assertThat(evaluate("If-None-Match", "\"v0\", \"v1\"")).isEqualTo(304);
        assertThat(evaluate("If-None-Match", "*")).isEqualTo(304);
        assertThat(evaluate("If-None-Match", "\"v2\"")).isEqualTo(200);
        assertThat(evaluate("If-None-Match", "\"a,b\", \"v1\"")).isEqualTo(304);
    }

    @Test
    void ifModifiedSinceCountsOnlyWithoutIfNoneMatch() {
        assertThat(evaluate("If-Modified-Since", LAST_MODIFIED)).isEqualTo(304);
        assertThat(evaluate("If-Modified-Since", date(T0))).isEqualTo(304);
        assertThat(evaluate("If-Modified-Since", date(T0 - 7200 * SECOND))).isEqualTo(200);
        assertThat(evaluate("If-Modified-Since", "yesterday")).isEqualTo(200);
        assertThat(evaluate("If-None-Match", "\"v2\"", "If-Modified-Since", date(T0)))
                .isEqualTo(200);
    }

    @Test
    void ifModifiedSinceFallsBackToDateWithoutLastModified() {
        StoredResponse noLastModified = stored("Date", date(T0 - 60 * SECOND));
        assertThat(Conditionals.evaluate("GET", fields("If-Modified-Since", date(T0 - 60 * SECOND)), noLastModified))
                .isEqualTo(304);
        assertThat(Conditionals.evaluate("GET", fields("If-Modified-Since", date(T0 - 61 * SECOND)), noLastModified))
                .isEqualTo(200);
    }

    @Test
    void failedPreconditionsGive412() {
        assertThat(evaluate("If-Match", "\"v2\"")).isEqualTo(412);
        assertThat(evaluate("If-Match", "W/\"v1\"")).isEqualTo(412); // If-Match compares strongly
        assertThat(evaluate("If-Match", "\"v1\"")).isEqualTo(200);
        assertThat(evaluate("If-Match", "*")).isEqualTo(200);
        assertThat(evaluate("If-Unmodified-Since", date(T0 - 7200 * SECOND))).isEqualTo(412);
        assertThat(evaluate("If-Unmodified-Since", date(T0))).isEqualTo(200);
    }

    @Test
    void a304FromTheCacheCarriesTheValidatorAndCachingFieldsButNoBody() {
        try (HttpCache cache = new HttpCache(
                ResponseStore.inMemory(10, 1024), CachePolicy.sharedCache(), new Coalescer(Duration.ZERO), "pf")) {
            CacheAnswer answer = cache.answer(get("/doc", "If-None-Match", "\"v1\""), DOC, T0 + 3 * SECOND, false);
            assertThat(answer.status()).isEqualTo(304);
            assertThat(answer.body().remaining()).isZero();
            assertThat(answer.headers().get("ETag")).isEqualTo("\"v1\"");
            assertThat(answer.headers().get("Cache-Control")).isEqualTo("max-age=60");
            assertThat(answer.headers().get("Age")).isEqualTo("3");
            assertThat(answer.headers().contains("Content-Type")).isFalse();
            assertThat(answer.headers().contains("Content-Length")).isFalse();

            CacheAnswer failed = cache.answer(get("/doc", "If-Match", "\"nope\""), DOC, T0, false);
            assertThat(failed.status()).isEqualTo(412);
        }
    }
}
