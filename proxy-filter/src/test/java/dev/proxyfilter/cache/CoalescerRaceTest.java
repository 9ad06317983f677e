package dev.proxyfilter.cache;

import static dev.proxyfilter.cache.Http.stored;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Timeout;

/**
 * Request coalescing under concurrent misses (collapsed forwarding, the {@code collapsed} parameter of
 * RFC 9211 §2.6): of 50 misses for one key started together, exactly one leads and the 49 others follow
 * it and receive its outcome.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class CoalescerRaceTest {
    private static final int MISSES = 50;

    private final ExecutorService threads = Executors.newFixedThreadPool(MISSES, r -> new Thread(r, "coalesce-race"));

    @AfterEach
    void stop() throws InterruptedException {
        threads.shutdownNow();
        assertThat(threads.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }

    private List<Coalescer.Ticket> race(Coalescer coalescer, String key) throws Exception {
        CyclicBarrier start = new CyclicBarrier(MISSES);
        List<Future<Coalescer.Ticket>> joins = new ArrayList<>();
        for (int i = 0; i < MISSES; i++) {
            joins.add(threads.submit(() -> {
                start.await();
                return coalescer.join(key);
            }));
        }
        List<Coalescer.Ticket> tickets = new ArrayList<>();
        for (Future<Coalescer.Ticket> join : joins) {
            tickets.add(join.get(20, TimeUnit.SECONDS));
        }
        return tickets;
    }

    @RepeatedTest(5)
    void fiftyConcurrentMissesMakeExactlyOneLeaderAndTheOthersGetItsResponse() throws Exception {
        Coalescer coalescer = new Coalescer(Duration.ofSeconds(20));
        List<Coalescer.Ticket> tickets = race(coalescer, "http://example.com/hot");

        List<Coalescer.Leader> leaders = tickets.stream()
                .filter(t -> t instanceof Coalescer.Leader)
                .map(t -> (Coalescer.Leader) t)
                .toList();
        List<Coalescer.Follower> followers = tickets.stream()
                .filter(t -> t instanceof Coalescer.Follower)
                .map(t -> (Coalescer.Follower) t)
                .toList();
        assertThat(leaders).hasSize(1);
        assertThat(followers).hasSize(MISSES - 1);
        assertThat(followers).noneMatch(f -> f.outcome().isDone());
        assertThat(coalescer.inflight()).isEqualTo(1);

        StoredResponse response = stored("Cache-Control", "max-age=60");
        leaders.get(0).complete(response);

        CompletableFuture.allOf(
                        followers.stream().map(Coalescer.Follower::outcome).toArray(CompletableFuture[]::new))
                .get(10, TimeUnit.SECONDS);
        assertThat(followers).allSatisfy(f -> {
            Coalescer.Outcome outcome = f.outcome().join();
            assertThat(outcome.kind()).isEqualTo(Coalescer.Outcome.Kind.SERVED);
            assertThat(outcome.stored()).isSameAs(response);
        });
        assertThat(coalescer.inflight()).isZero();
    }

    @RepeatedTest(3)
    void aReleasedLeaderSendsEveryFollowerToTheBackendAndTheNextMissLeadsAgain() throws Exception {
        Coalescer coalescer = new Coalescer(Duration.ofSeconds(20));
        List<Coalescer.Ticket> tickets = race(coalescer, "k");
        Coalescer.Leader leader = (Coalescer.Leader) tickets.stream()
                .filter(t -> t instanceof Coalescer.Leader)
                .findFirst()
                .orElseThrow();
        leader.release();

        assertThat(tickets)
                .filteredOn(t -> t instanceof Coalescer.Follower)
                .allSatisfy(t -> assertThat(((Coalescer.Follower) t)
                                .outcome()
                                .get(10, TimeUnit.SECONDS)
                                .kind())
                        .isEqualTo(Coalescer.Outcome.Kind.RELEASED));
        assertThat(coalescer.join("k")).isInstanceOf(Coalescer.Leader.class);
    }
}
