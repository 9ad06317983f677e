package dev.proxyfilter.cache;

import static dev.proxyfilter.cache.Http.stored;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The coalescer's bookkeeping, one thread at a time (see {@link CoalescerRaceTest} for the concurrent
 * case; collapsed forwarding as RFC 9211 §2.6 names it): keys are independent, a leader ends once, a
 * follower's wait is bounded, and a slow leader is replaced.
 */
class CoalescerTest {

    @Test
    void differentKeysHaveDifferentLeaders() {
        Coalescer coalescer = new Coalescer(Duration.ofSeconds(5));
        assertThat(coalescer.join("a")).isInstanceOf(Coalescer.Leader.class);
        assertThat(coalescer.join("b")).isInstanceOf(Coalescer.Leader.class);
        assertThat(coalescer.join("a")).isInstanceOf(Coalescer.Follower.class);
        assertThat(coalescer.inflight()).isEqualTo(2);
    }

    @Test
    void tryLeadLeadsOnlyAnIdleKeyAndNeverWaits() {
        Coalescer coalescer = new Coalescer(Duration.ofSeconds(5));
        Coalescer.Leader refresher = coalescer.tryLead("a");
        assertThat(refresher).isNotNull();
        assertThat(coalescer.tryLead("a")).isNull(); // a stale hit during the refresh starts no other
        assertThat(coalescer.join("a")).isInstanceOf(Coalescer.Follower.class); // a miss waits for it
        refresher.release();
        assertThat(coalescer.tryLead("a")).isNotNull();
    }

    @Test
    void aLeaderEndsOnceAndLaterCallsAreIgnored() throws Exception {
        Coalescer coalescer = new Coalescer(Duration.ofSeconds(5));
        Coalescer.Leader leader = (Coalescer.Leader) coalescer.join("a");
        Coalescer.Follower follower = (Coalescer.Follower) coalescer.join("a");
        leader.release();
        leader.complete(stored());
        assertThat(leader.ended()).isTrue();
        assertThat(follower.outcome().get(1, TimeUnit.SECONDS).kind()).isEqualTo(Coalescer.Outcome.Kind.RELEASED);
    }

    @Test
    void aFollowerWaitsNoLongerThanTheTimeoutAndThenReplacesTheSlowLeader() throws Exception {
        Coalescer coalescer = new Coalescer(Duration.ofMillis(50));
        Coalescer.Leader slow = (Coalescer.Leader) coalescer.join("a");
        Coalescer.Follower follower = (Coalescer.Follower) coalescer.join("a");

        // completeOnTimeout fires on the JDK's delay thread; the test only waits for the future
        assertThat(follower.outcome().get(5, TimeUnit.SECONDS).kind()).isEqualTo(Coalescer.Outcome.Kind.TIMED_OUT);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> coalescer.inflight() == 0);

        Coalescer.Ticket next = coalescer.join("a");
        assertThat(next).isInstanceOf(Coalescer.Leader.class).isNotSameAs(slow);
        slow.complete(stored()); // late: must not disturb the new leader
        assertThat(coalescer.inflight()).isEqualTo(1);
        assertThat(coalescer.join("a")).isInstanceOf(Coalescer.Follower.class);
    }

    @Test
    void aZeroTimeoutTurnsCoalescingOff() {
        Coalescer coalescer = new Coalescer(Duration.ZERO);
        assertThat(coalescer.join("a")).isInstanceOf(Coalescer.Leader.class);
        assertThat(coalescer.join("a")).isInstanceOf(Coalescer.Leader.class);
        assertThat(coalescer.inflight()).isZero();
    }

    @Test
    void aFollowerIsAnsweredFromTheLeadersResponseOnlyWhenItsVarySelectionMatches() {
        try (HttpCache cache = new HttpCache(
                ResponseStore.inMemory(10, 1024),
                CachePolicy.sharedCache(),
                new Coalescer(Duration.ofSeconds(5)),
                "pf")) {
            CacheRequest leaderRequest = Http.get("/v", "Accept-Encoding", "gzip");
            StoreResult stored = cache.store(
                    cache.lookup(leaderRequest, Http.T0),
                    200,
                    Http.fields("Cache-Control", "max-age=60", "Vary", "Accept-Encoding"),
                    Http.bytes("gz"),
                    Http.T0,
                    Http.T0);

            CacheAnswer same = cache.answerFollower(
                    Http.get("/v", "Accept-Encoding", "GZIP", "Cache-Control", "no-cache"), stored.stored(), Http.T0);
            assertThat(same).isNotNull();
            assertThat(Http.text(same.body())).isEqualTo("gz");
            assertThat(cache.answerFollower(Http.get("/v", "Accept-Encoding", "br"), stored.stored(), Http.T0))
                    .isNull();
        }
    }

    @Test
    void anEndActionRunsOnceAfterTheFollowersWereToldOrAtOnceWhenTheLeaderHasEnded() {
        Coalescer coalescer = new Coalescer(Duration.ofSeconds(5));
        Coalescer.Leader leader = (Coalescer.Leader) coalescer.join("a");
        Coalescer.Follower follower = (Coalescer.Follower) coalescer.join("a");
        java.util.List<Boolean> runs = new java.util.ArrayList<>();
        leader.onEnd(() -> runs.add(follower.outcome().isDone()));

        leader.release();
        leader.release();
        Coalescer.Leader ended = leader;
        ended.onEnd(() -> runs.add(true));

        assertThat(runs).containsExactly(true, true);
    }

    @Test
    void aLeaderCanHandOutAFollowerOfItselfForTheRequestThatGotIt() {
        Coalescer coalescer = new Coalescer(Duration.ofSeconds(5));
        Coalescer.Leader leader = (Coalescer.Leader) coalescer.join("a");
        Coalescer.Follower self = leader.follower();

        leader.release();

        assertThat(self.key()).isEqualTo("a");
        assertThat(self.outcome().getNow(null).kind()).isEqualTo(Coalescer.Outcome.Kind.RELEASED);
    }
}
