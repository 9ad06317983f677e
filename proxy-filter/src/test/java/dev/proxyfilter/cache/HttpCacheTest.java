package dev.proxyfilter.cache;

import static dev.proxyfilter.cache.Http.SECOND;
import static dev.proxyfilter.cache.Http.T0;
import static dev.proxyfilter.cache.Http.bytes;
import static dev.proxyfilter.cache.Http.date;
import static dev.proxyfilter.cache.Http.fields;
import static dev.proxyfilter.cache.Http.get;
import static dev.proxyfilter.cache.Http.request;
import static dev.proxyfilter.cache.Http.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.CacheConfig;
import dev.proxyfilter.testing.FakeClock;
import dev.proxyfilter.time.ProxyClock;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import org.eclipse.jetty.http.HttpFields;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The facade as the pipeline will drive it, step by step: lookup, collect, store, answer (RFC 9111 §3, §4,
 * §4.2.3 {@code Age}, §5.2.2.4 qualified {@code no-cache}; {@code HEAD} answered from a stored {@code GET},
 * RFC 9110 §9.3.2).
 */
class HttpCacheTest {
    private final HttpCache cache = HttpCache.create(
            CacheConfig.builder().maxEntryBytes(64).build(), ResponseStore.inMemory(100, 64), "proxy-filter");

    @AfterEach
    void close() {
        cache.close();
    }

    /** What the pipeline does for a miss: check the headers, collect the body while streaming it, store. */
    private StoreResult forward(CacheRequest request, int status, HttpFields responseHeaders, String body, long now) {
        CacheLookup lookup = cache.lookup(request, now);
        Storability storability = cache.storability(lookup, status, responseHeaders);
        if (!storability.storable()) {
            return cache.store(lookup, status, responseHeaders, bytes(body), now, now);
        }
        BodyBuffer buffer = new BodyBuffer(cache.store().maxEntryBytes(), -1);
        byte[] all = bytes(body);
        for (int i = 0; i < all.length; i += 5) {
            buffer.append(ByteBuffer.wrap(all, i, Math.min(5, all.length - i)));
        }
        if (buffer.overflowed()) {
            return cache.discard(lookup);
        }
        return cache.store(lookup, status, responseHeaders, buffer.toByteArray(), now, now);
    }

    @Test
    void aMissIsStoredAndTheNextRequestIsAHit() {
        CacheLookup miss = cache.lookup(get("/a"), T0);
        assertThat(miss.action()).isEqualTo(CacheAction.MISS);
        assertThat(miss.primaryKey()).isEqualTo("http://example.com/a");

        StoreResult stored = forward(
                get("/a"),
                200,
                fields(
                        "Cache-Control",
                        "max-age=60",
                        "Date",
                        date(T0),
                        "Content-Type",
                        "text/plain",
                        "Content-Length",
                        "13",
                        "Set-Cookie",
                        "x=1",
                        "Connection",
                        "keep-alive"),
                "hello, cache!",
                T0);
        assertThat(stored.isStored()).isTrue(); // with its cookie, as RFC 9111 allows (cache.store-set-cookie)
        assertThat(stored.stored().header("Set-Cookie")).isEqualTo("x=1");

        stored = forward(
                get("/a"),
                200,
                fields(
                        "Cache-Control",
                        "max-age=60",
                        "Date",
                        date(T0),
                        "Content-Type",
                        "text/plain",
                        "Content-Length",
                        "13",
                        "Connection",
                        "keep-alive"),
                "hello, cache!",
                T0);
        assertThat(stored.isStored()).isTrue();

        CacheLookup hit = cache.lookup(get("/a"), T0 + 7 * SECOND);
        assertThat(hit.action()).isEqualTo(CacheAction.HIT);
        assertThat(hit.cacheStatus().toString()).isEqualTo("proxy-filter; hit; ttl=53");
        CacheAnswer answer = cache.answer(hit, T0 + 7 * SECOND);
        assertThat(answer.status()).isEqualTo(200);
        assertThat(text(answer.body())).isEqualTo("hello, cache!");
        assertThat(answer.headers().get("Age")).isEqualTo("7");
        assertThat(answer.headers().get("Content-Length")).isEqualTo("13");
        assertThat(answer.headers().get("Content-Type")).isEqualTo("text/plain");
        assertThat(answer.headers().contains("Connection")).isFalse();
        assertThat(answer.headers().contains("Set-Cookie")).isFalse();
    }

    @Test
    void theCacheHoldsTheClockItsCallersReadTheTimeFrom() {
        FakeClock clock = new FakeClock(Instant.ofEpochMilli(T0));
        try (HttpCache timed = HttpCache.create(
                CacheConfig.builder().maxEntryBytes(64).build(),
                ResponseStore.inMemory(100, 64),
                "proxy-filter",
                clock)) {
            assertThat(timed.clock()).isSameAs(clock);
            CacheLookup miss = timed.lookup(get("/t"), timed.clock().millis());
            timed.store(
                    miss,
                    200,
                    fields("Cache-Control", "max-age=60", "Date", date(T0)),
                    bytes("fresh"),
                    clock.millis(),
                    clock.millis());

            clock.advance(Duration.ofSeconds(59));
            CacheLookup hit = timed.lookup(get("/t"), timed.clock().millis());
            assertThat(hit.action()).isEqualTo(CacheAction.HIT);
            assertThat(timed.answer(hit, timed.clock().millis()).headers().get("Age"))
                    .isEqualTo("59");

            clock.advance(Duration.ofSeconds(1));
            assertThat(timed.lookup(get("/t"), timed.clock().millis()).action())
                    .as("stale once the fake clock reaches max-age")
                    .isNotEqualTo(CacheAction.HIT);
        }
        assertThat(cache.clock()).as("without one, the system clock").isSameAs(ProxyClock.system());
    }

    @Test
    void headIsAnsweredFromAStoredGetWithoutBody() {
        forward(get("/a"), 200, fields("Cache-Control", "max-age=60"), "body", T0);
        CacheLookup head = cache.lookup(request("HEAD", "/a"), T0);
        assertThat(head.action()).isEqualTo(CacheAction.HIT);
        CacheAnswer answer = cache.answer(head, T0);
        assertThat(answer.body().remaining()).isZero();
        assertThat(answer.headers().get("Content-Length")).isEqualTo("4");
        assertThat(cache.storability(head, 200, fields("Cache-Control", "max-age=60")))
                .isEqualTo(Storability.METHOD);
    }

    @Test
    void aBodyAboveTheLimitIsNotStoredAndEvictsTheOldOne() {
        forward(get("/big"), 200, fields("Cache-Control", "max-age=60"), "small", T0);
        CacheLookup lookup = cache.lookup(get("/big"), T0);
        assertThat(cache.storability(lookup, 200, fields("Cache-Control", "max-age=60", "Content-Length", "65")))
                .isEqualTo(Storability.TOO_LARGE);
        StoreResult result = forward(get("/big"), 200, fields("Cache-Control", "max-age=60"), "x".repeat(65), T0);
        assertThat(result.storability()).isEqualTo(Storability.TOO_LARGE);
        assertThat(cache.lookup(get("/big"), T0).action()).isEqualTo(CacheAction.MISS);

        // without a Content-Length the limit is found by the buffer, or at the latest by the store
        forward(get("/big"), 200, fields("Cache-Control", "max-age=60"), "small", T0);
        result = cache.store(
                cache.lookup(get("/big"), T0),
                200,
                fields("Cache-Control", "max-age=60"),
                bytes("y".repeat(65)),
                T0,
                T0);
        assertThat(result.storability()).isEqualTo(Storability.TOO_LARGE);
        assertThat(cache.lookup(get("/big"), T0).action()).isEqualTo(CacheAction.MISS);
        assertThat(cache.store().stats().rejected()).isEqualTo(1);
    }

    @Test
    void onlyTheResourceItselfCanEvictItsStoredResponse() {
        forward(get("/p"), 200, fields("Cache-Control", "max-age=10", "ETag", "\"v1\""), "public", T0);
        long later = T0 + 60 * SECOND;

        // responses that only this request could not store leave the stored one alone
        CacheLookup head = cache.lookup(request("HEAD", "/p"), later);
        cache.store(head, 200, fields("Cache-Control", "max-age=10"), bytes(""), later, later);
        CacheLookup authorized = cache.lookup(get("/p", "Authorization", "Bearer a"), later);
        cache.store(authorized, 200, fields("Cache-Control", "max-age=10"), bytes("mine"), later, later);
        CacheLookup noStore = cache.lookup(get("/p", "Cache-Control", "no-store"), later);
        cache.store(noStore, 200, fields("Cache-Control", "max-age=10"), bytes("x"), later, later);
        CacheLookup error = cache.lookup(get("/p"), later);
        cache.store(error, 503, fields("Cache-Control", "no-store"), bytes("down"), later, later);
        assertThat(cache.lookup(get("/p"), later).stored()).isNotNull();

        // the resource saying "do not cache me" does evict it
        CacheLookup stale = cache.lookup(get("/p"), later);
        cache.store(stale, 200, fields("Cache-Control", "private"), bytes("now private"), later, later);
        assertThat(cache.lookup(get("/p"), later).action()).isEqualTo(CacheAction.MISS);
    }

    @Test
    void qualifiedNoCacheFieldsAreWithheldUntilValidated() {
        forward(
                get("/n"),
                200,
                fields("Cache-Control", "max-age=60, no-cache=\"X-Secret\"", "X-Secret", "s", "X-Public", "p"),
                "n",
                T0);
        CacheLookup hit = cache.lookup(get("/n"), T0);
        assertThat(hit.action()).isEqualTo(CacheAction.HIT);
        assertThat(cache.answer(hit, T0).headers().contains("X-Secret")).isFalse();
        assertThat(cache.answer(hit, T0).headers().get("X-Public")).isEqualTo("p");
        assertThat(cache.answer(hit.request(), hit.stored(), T0, true).headers().get("X-Secret"))
                .isEqualTo("s");
    }

    @Test
    void theAgeHeaderIsComputedNotCopied() {
        forward(get("/aged"), 200, fields("Cache-Control", "max-age=600", "Age", "100"), "a", T0);
        assertThat(cache.answer(cache.lookup(get("/aged"), T0 + 5 * SECOND), T0 + 5 * SECOND)
                        .headers()
                        .getValuesList("Age"))
                .containsExactly("105");
    }

    @Test
    void heuristicFreshnessAppliesToUrisWithAQueryToo() {
        // RFC 2616 §13.9 excluded them; RFC 7234 and 9111 do not, and neither does this cache
        forward(get("/search?q=x"), 200, fields("Date", date(T0), "Last-Modified", date(T0 - 100 * SECOND)), "r", T0);
        assertThat(cache.lookup(get("/search?q=x"), T0 + 9 * SECOND).action()).isEqualTo(CacheAction.HIT);
        assertThat(cache.lookup(get("/search?q=x"), T0 + 10 * SECOND).action()).isEqualTo(CacheAction.VALIDATE);
        assertThat(cache.lookup(get("/search?q=y"), T0).action()).isEqualTo(CacheAction.MISS);
    }

    @Test
    void a204IsAnsweredWithoutContentLength() {
        forward(get("/empty"), 204, fields("Cache-Control", "max-age=60"), "", T0);
        CacheAnswer answer = cache.answer(cache.lookup(get("/empty"), T0), T0);
        assertThat(answer.status()).isEqualTo(204);
        assertThat(answer.headers().contains("Content-Length")).isFalse();
    }

    @Test
    void aStaleWhileRevalidateHitIsServedWithANegativeTtl() {
        forward(
                get("/swr"),
                200,
                fields("Cache-Control", "max-age=10, stale-while-revalidate=60", "Date", date(T0)),
                "s",
                T0);
        CacheLookup lookup = cache.lookup(get("/swr"), T0 + 30 * SECOND);
        assertThat(lookup.action()).isEqualTo(CacheAction.STALE_WHILE_REVALIDATE);
        assertThat(lookup.cacheStatus().toString()).isEqualTo("proxy-filter; hit; ttl=-20");
        assertThat(text(cache.answer(lookup, T0 + 30 * SECOND).body())).isEqualTo("s");
    }

    @Test
    void missesOfAKeyWhoseResponseMayNotBeStoredLeadAloneUntilOneIsStored() {
        CacheLookup first = cache.lookup(get("/pass"), T0);
        Coalescer.Ticket leader = cache.join(first);
        assertThat(leader).isInstanceOf(Coalescer.Leader.class);
        assertThat(cache.join(cache.lookup(get("/pass"), T0))).isInstanceOf(Coalescer.Follower.class); // as always

        cache.markUncacheable(first, Storability.NO_STORE);
        ((Coalescer.Leader) leader).release();
        Coalescer.Ticket a = cache.join(cache.lookup(get("/pass"), T0));
        Coalescer.Ticket b = cache.join(cache.lookup(get("/pass"), T0));
        assertThat(a).isInstanceOf(Coalescer.Leader.class);
        assertThat(b).isInstanceOf(Coalescer.Leader.class); // nobody waits for a response that is not stored
        assertThat(cache.coalescer().inflight()).isZero();

        // a reason of the request, not of the resource, leaves coalescing as it is
        CacheLookup other = cache.lookup(get("/other"), T0);
        cache.markUncacheable(other, Storability.AUTHORIZATION);
        Coalescer.Leader otherLeader = (Coalescer.Leader) cache.join(other);
        assertThat(cache.join(cache.lookup(get("/other"), T0))).isInstanceOf(Coalescer.Follower.class);
        otherLeader.release();

        // once the resource is stored again, its misses are coalesced again
        StoreResult stored =
                forward(get("/pass"), 200, fields("Cache-Control", "max-age=60", "Date", date(T0)), "x", T0);
        assertThat(stored.isStored()).isTrue();
        cache.store().remove("http://example.com/pass");
        Coalescer.Ticket again = cache.join(cache.lookup(get("/pass"), T0));
        assertThat(again).isInstanceOf(Coalescer.Leader.class);
        assertThat(cache.join(cache.lookup(get("/pass"), T0))).isInstanceOf(Coalescer.Follower.class);
        ((Coalescer.Leader) again).release();
    }
}
