package dev.proxyfilter.cache;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Request coalescing (collapsed forwarding): of the concurrent misses for one key, the first becomes the
 * {@link Leader} and goes to the backend; the others become {@link Follower}s and wait for its outcome
 * instead of stampeding the backend. No thread is parked: a follower holds a {@link CompletableFuture}.
 *
 * <p>The leader ends with {@link Leader#complete(StoredResponse)}: followers are served from the stored
 * response (each checks that it matches its own request, {@code Vary} included, see
 * {@link HttpCache#answerFollower}); or with {@link Leader#release()} (not storable, failed): followers go to
 * the backend on their own. A follower waits at most the configured time, then goes to the backend too
 * ({@link Outcome.Kind#TIMED_OUT}), and removes the slow leader from the table, so the next miss starts a new
 * one; this also bounds the damage of a leader that never ends. A leader must end exactly once, on every
 * path ({@code finally}); later calls are ignored.
 *
 * <p>Pure bookkeeping: no I/O and no clock of its own (the timeout uses
 * {@link CompletableFuture#completeOnTimeout}, which schedules on the JDK's one shared delay thread).
 */
public final class Coalescer {
    private final ConcurrentHashMap<String, Leader> inflight = new ConcurrentHashMap<>();
    private final long maxWaitMillis;

    /** @param maxWait how long a follower waits for its leader; {@link Duration#ZERO} makes every request a leader */
    public Coalescer(Duration maxWait) {
        if (maxWait.isNegative()) {
            throw new IllegalArgumentException("maxWait: " + maxWait + " (expected: >= 0)");
        }
        this.maxWaitMillis = maxWait.toMillis();
    }

    /**
     * Joins the misses in flight for {@code key}: the first caller since the last leader ended gets the
     * {@link Leader}, every other caller a {@link Follower}.
     */
    public Ticket join(String key) {
        Objects.requireNonNull(key, "key");
        Leader candidate = new Leader(key);
        if (maxWaitMillis == 0) {
            return candidate; // coalescing is off: everybody leads, nobody is registered
        }
        Leader current = inflight.putIfAbsent(key, candidate);
        if (current == null) {
            return candidate;
        }
        return new Follower(current);
    }

    /**
     * A {@link Leader} for {@code key} that nobody follows: it is not registered, so that other requests for the
     * key do not wait for it (they lead too). For keys whose responses are known not to be stored, where a
     * follower would only wait for a release and then go to the backend itself.
     */
    public Leader leadAlone(String key) {
        return new Leader(Objects.requireNonNull(key, "key"));
    }

    /**
     * The {@link Leader} for {@code key} if no exchange leads it now, else {@code null}; unlike {@link #join},
     * a caller that does not lead does not wait (a stale hit that starts at most one background refresh).
     */
    public Leader tryLead(String key) {
        Objects.requireNonNull(key, "key");
        Leader candidate = new Leader(key);
        if (maxWaitMillis == 0) {
            return candidate;
        }
        return inflight.putIfAbsent(key, candidate) == null ? candidate : null;
    }

    /** Keys with a leader in flight. */
    public int inflight() {
        return inflight.size();
    }

    /** What {@link #join} hands out. */
    public sealed interface Ticket permits Leader, Follower {
        /** The key joined. */
        String key();
    }

    /** Marks {@link Leader#onEnd} as run: the leader has ended. */
    private static final Runnable ENDED = () -> {};

    /**
     * The one request per key that goes to the backend while the others wait. Across a cluster
     * ({@link ClusterCoalescing}) it may also stand in, on this node, for a leader on another node: then it
     * does not go to the backend itself, and the one who joined first follows it too ({@link #follower()}).
     */
    public final class Leader implements Ticket {
        private final String key;
        private final CompletableFuture<Outcome> outcome = new CompletableFuture<>();
        private final AtomicBoolean ended = new AtomicBoolean();
        private final AtomicReference<Runnable> onEnd = new AtomicReference<>();

        private Leader(String key) {
            this.key = key;
        }

        @Override
        public String key() {
            return key;
        }

        /** The response was stored: followers answer from it. */
        public void complete(StoredResponse stored) {
            end(new Outcome(Outcome.Kind.SERVED, Objects.requireNonNull(stored, "stored")));
        }

        /** Nothing was stored (not storable, too large, backend failed): followers go to the backend. */
        public void release() {
            end(Outcome.RELEASED);
        }

        /**
         * The fill waited for ended without a response that answers this leader's request, though one may come
         * of asking again (a stored response to validate, another variant): followers look up and join anew,
         * once. Only a stand-in for another node's leader ends so ({@link ClusterCoalescing}).
         */
        public void retry() {
            end(Outcome.RETRY);
        }

        private void end(Outcome result) {
            if (ended.compareAndSet(false, true)) {
                inflight.remove(key, this); // first, so that a late joiner leads a new exchange
                outcome.complete(result);
                Runnable action = onEnd.getAndSet(ENDED);
                if (action != null) {
                    action.run();
                }
            }
        }

        /**
         * Runs {@code action} once this leader ends, after its followers were told, or at once if it has ended:
         * where the cluster releases its claim on the key. One action per leader.
         */
        public void onEnd(Runnable action) {
            Objects.requireNonNull(action, "action");
            Runnable current = onEnd.compareAndExchange(null, action);
            if (current == ENDED) {
                action.run();
            } else if (current != null) {
                throw new IllegalStateException("leader of " + key + " has an end action already");
            }
        }

        /** A new follower of this leader, for a caller that got the leader but must wait like the others. */
        public Follower follower() {
            return new Follower(this);
        }

        /** Whether {@link #complete} or {@link #release} was called. */
        public boolean ended() {
            return ended.get();
        }

        private CompletableFuture<Outcome> follow() {
            CompletableFuture<Outcome> mine =
                    outcome.copy().completeOnTimeout(Outcome.TIMED_OUT, maxWaitMillis, TimeUnit.MILLISECONDS);
            mine.thenAccept(result -> {
                if (result.kind() == Outcome.Kind.TIMED_OUT) {
                    inflight.remove(key, this);
                }
            });
            return mine;
        }
    }

    /** A request that waits for the leader of its key. */
    public final class Follower implements Ticket {
        private final Leader leader;
        private final CompletableFuture<Outcome> outcome;

        private Follower(Leader leader) {
            this.leader = leader;
            this.outcome = leader.follow();
        }

        @Override
        public String key() {
            return leader.key();
        }

        /** Completes when the leader ends or the wait times out; never completes exceptionally. */
        public CompletableFuture<Outcome> outcome() {
            return outcome;
        }
    }

    /**
     * How a wait ended.
     *
     * @param kind   served, released or timed out
     * @param stored the leader's stored response when {@link Kind#SERVED}, else {@code null}
     */
    public record Outcome(Kind kind, StoredResponse stored) {
        static final Outcome RELEASED = new Outcome(Kind.RELEASED, null);
        static final Outcome TIMED_OUT = new Outcome(Kind.TIMED_OUT, null);
        static final Outcome RETRY = new Outcome(Kind.RETRY, null);

        /** How a wait ended. */
        public enum Kind {
            /** The leader stored a response; answer from it if it matches the request. */
            SERVED,
            /** The leader stored nothing; go to the backend. */
            RELEASED,
            /** The leader took too long; go to the backend. */
            TIMED_OUT,
            /**
             * Another node's fill ended, but what it left does not answer this request as it stands: look up and
             * join again (once; a second time counts as {@link #RELEASED}).
             */
            RETRY
        }
    }
}
