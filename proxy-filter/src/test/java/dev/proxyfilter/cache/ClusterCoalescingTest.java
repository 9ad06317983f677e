package dev.proxyfilter.cache;

import static dev.proxyfilter.cache.Http.T0;
import static dev.proxyfilter.cache.Http.date;
import static dev.proxyfilter.cache.Http.get;
import static dev.proxyfilter.cache.Http.stored;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.CacheConfig;
import dev.proxyfilter.testing.FakeClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Coalescing across nodes, one step at a time, with the cluster played by hand: a {@link FillClaims} that
 * answers as a test says, a shared tier in memory, and cluster work run on the calling thread.
 */
class ClusterCoalescingTest {
    private static final String KEY = "http://example.com/hot";

    private final ScriptedClaims claims = new ScriptedClaims();
    private final ResponseStore sharedTier = ResponseStore.inMemory(100, 1000);
    private final TieredResponseStore store = new TieredResponseStore(ResponseStore.inMemory(100, 1000), sharedTier);
    private final HttpCache cache = HttpCache.create(
            CacheConfig.builder().maxEntryBytes(1000).build(),
            new InMemoryShared(store, claims),
            "proxy-filter",
            new FakeClock(Instant.ofEpochMilli(T0)));

    @AfterEach
    void close() {
        cache.close();
    }

    private Coalescer.Ticket join() {
        return cache.join(cache.lookup(get("/hot"), T0));
    }

    /** Another node's fill reaching the shared tier. */
    private StoredResponse storedElsewhere() {
        StoredResponse response = stored("Cache-Control", "max-age=60", "Date", date(T0));
        sharedTier.put(KEY, response);
        return response;
    }

    private static Coalescer.Outcome outcome(Coalescer.Ticket ticket) {
        assertThat(ticket).isInstanceOf(Coalescer.Follower.class);
        return ((Coalescer.Follower) ticket).outcome().getNow(null);
    }

    @Test
    void theClaimantLeadsAndReleasesItsClaimWhenItEnds() {
        claims.next = FillClaims.Claim.Kind.CLAIMED;

        Coalescer.Ticket ticket = join();
        ((Coalescer.Leader) ticket).release();

        assertThat(claims.released).containsExactly(KEY);
    }

    @Test
    void aClaimantFindsAResponseStoredBetweenItsLookupAndItsClaimAndGoesNowhere() {
        CacheLookup lookup = cache.lookup(get("/hot"), T0); // a miss
        StoredResponse response = storedElsewhere();
        claims.next = FillClaims.Claim.Kind.CLAIMED;

        Coalescer.Ticket ticket = cache.join(lookup);

        assertThat(outcome(ticket).stored()).isEqualTo(response);
        assertThat(claims.released).containsExactly(KEY); // at once: the others hear the fill ended
    }

    @Test
    void whileAnotherNodeFillsTheKeyThisNodesMissesWaitForItsResponse() {
        claims.next = FillClaims.Claim.Kind.HELD;
        claims.holders.put(KEY, "node-b");

        Coalescer.Ticket first = join();
        Coalescer.Ticket second = join(); // a local follower of the stand-in
        assertThat(outcome(first)).isNull();
        assertThat(outcome(second)).isNull();
        StoredResponse response = storedElsewhere();
        claims.holders.remove(KEY);
        claims.listener.fillEnded(KEY);

        assertThat(outcome(first).kind()).isEqualTo(Coalescer.Outcome.Kind.SERVED);
        assertThat(outcome(first).stored()).isEqualTo(response);
        assertThat(outcome(second).stored()).isEqualTo(response);
        assertThat(claims.claimed).as("one claim per node, not per request").hasSize(1);
    }

    @Test
    void aFillThatEndedBeforeTheStandInListenedIsFoundAtOnce() {
        claims.next = FillClaims.Claim.Kind.HELD; // held when claimed, released before the stand-in asked again
        StoredResponse response = storedElsewhere();

        Coalescer.Ticket ticket = join();

        assertThat(outcome(ticket).stored()).isEqualTo(response);
    }

    @Test
    void aFillThatStoredNothingReleasesTheWaitersToTheBackend() {
        claims.next = FillClaims.Claim.Kind.HELD;
        claims.holders.put(KEY, "node-b");
        Coalescer.Ticket ticket = join();

        claims.holders.remove(KEY);
        claims.listener.fillEnded(KEY);

        assertThat(outcome(ticket).kind()).isEqualTo(Coalescer.Outcome.Kind.RELEASED);
    }

    @Test
    void aHolderThatLeavesTheClusterSendsItsWaitersToJoinAgain() {
        claims.next = FillClaims.Claim.Kind.HELD;
        claims.holders.put(KEY, "node-b");
        Coalescer.Ticket ticket = join();

        claims.listener.nodeLeft("node-c");
        assertThat(outcome(ticket)).isNull();
        claims.listener.nodeLeft("node-b");

        assertThat(outcome(ticket).kind()).isEqualTo(Coalescer.Outcome.Kind.RETRY); // one of them will lead
    }

    @Test
    void aFillThatLeftAResponseToValidateSendsTheWaitersToJoinAgain() {
        claims.next = FillClaims.Claim.Kind.HELD;
        claims.holders.put(KEY, "node-b");
        Coalescer.Ticket ticket = join();
        sharedTier.put(KEY, stored("Cache-Control", "no-cache", "Date", date(T0), "ETag", "\"e1\""));

        claims.holders.remove(KEY);
        claims.listener.fillEnded(KEY);

        assertThat(outcome(ticket).kind()).isEqualTo(Coalescer.Outcome.Kind.RETRY);
    }

    @Test
    void anUnreachableClusterLeavesCoalescingToThisNode() {
        claims.next = FillClaims.Claim.Kind.UNAVAILABLE;

        Coalescer.Ticket ticket = join();
        Coalescer.Ticket local = join();
        ((Coalescer.Leader) ticket).release();

        assertThat(ticket).isInstanceOf(Coalescer.Leader.class);
        assertThat(local).isInstanceOf(Coalescer.Follower.class);
        assertThat(claims.released).isEmpty();
    }

    @Test
    void aBackgroundRefreshRunsOnOneNodeOnly() {
        CacheLookup lookup = cache.lookup(get("/hot"), T0);
        claims.next = FillClaims.Claim.Kind.HELD;

        assertThat(cache.tryLead(lookup)).isNull();
        claims.next = FillClaims.Claim.Kind.CLAIMED;
        assertThat(cache.tryLead(lookup)).isNotNull(); // the local leader above was released
    }

    /** Claims as the test scripts them. */
    private static final class ScriptedClaims implements FillClaims {
        volatile Claim.Kind next = Claim.Kind.CLAIMED;
        final Map<String, String> holders = new ConcurrentHashMap<>();
        final List<String> claimed = new CopyOnWriteArrayList<>();
        final List<String> released = new CopyOnWriteArrayList<>();
        volatile Listener listener;

        @Override
        public Claim claim(String key, Duration lease) {
            claimed.add(key);
            return switch (next) {
                case CLAIMED -> new Claim(Claim.Kind.CLAIMED, key, "node-a", "token");
                case HELD -> new Claim(Claim.Kind.HELD, key, holders.getOrDefault(key, "node-b"), null);
                case UNAVAILABLE -> Claim.unavailable(key);
            };
        }

        @Override
        public String holder(String key) {
            return holders.get(key);
        }

        @Override
        public void release(Claim claim) {
            released.add(claim.key());
        }

        @Override
        public void listen(Listener newListener) {
            this.listener = newListener;
        }
    }

    /** A shared cache of two in-memory tiers; cluster work runs on the caller's thread. */
    private record InMemoryShared(TieredResponseStore store, FillClaims fills) implements SharedCache {
        @Override
        public Executor executor() {
            return Runnable::run;
        }

        @Override
        public void close() {
            store.close();
        }
    }
}
