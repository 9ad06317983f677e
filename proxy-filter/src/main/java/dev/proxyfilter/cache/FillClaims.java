package dev.proxyfilter.cache;

import java.time.Duration;
import java.util.Objects;

/**
 * Cluster-wide claims on filling a key from the backend, for {@link ClusterCoalescing}: of the nodes that miss
 * the same key at once, the one that claims it first goes to the backend, and the others wait for its
 * response to reach the shared store.
 *
 * <p>A claim is a lease: it lapses by itself after the time given, so that a node that dies while filling
 * holds nobody up for longer than that. Implementations never throw: a cluster that cannot be reached makes a
 * claim {@link Claim.Kind#UNAVAILABLE} (the node then fills on its own) and a release a no-op.
 */
public interface FillClaims {

    /**
     * Claims the fill of {@code key} for at most {@code lease}.
     *
     * @return claimed, held by another node (with its id), or unavailable
     */
    Claim claim(String key, Duration lease);

    /**
     * The node holding the claim on {@code key} now, or {@code null} if nobody does; when the cluster cannot
     * tell, a holder that is not {@code null} (waiting on is the safe side: the wait is bounded).
     */
    String holder(String key);

    /**
     * Gives a claim up once its fill ended, stored or not, and tells every node that the fill of its key ended
     * ({@link Listener#fillEnded}). Does not block the caller.
     */
    void release(Claim claim);

    /** Tells {@code listener} of fills ending and nodes leaving, on any node; one listener. */
    void listen(Listener listener);

    /** What happens on the cluster that waiting nodes care about. Called on threads that must not block. */
    interface Listener {
        /** A node released its claim on {@code key}: its response, if any, is in the shared store now. */
        void fillEnded(String key);

        /** A node left the cluster: the claims it held will never be released. */
        void nodeLeft(String nodeId);
    }

    /**
     * The outcome of {@link #claim}.
     *
     * @param kind   claimed, held or unavailable
     * @param key    the key claimed
     * @param holder the node holding it: this node's id when {@link Kind#CLAIMED}, another's when
     *               {@link Kind#HELD}, {@code null} when {@link Kind#UNAVAILABLE}
     * @param token  what {@link #release} removes: this claim and no later one; {@code null} unless claimed
     */
    record Claim(Kind kind, String key, String holder, String token) {
        public Claim {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(key, "key");
        }

        /** The cluster could not be asked: the caller fills on its own. */
        public static Claim unavailable(String key) {
            return new Claim(Kind.UNAVAILABLE, key, null, null);
        }

        /** What a claim came to. */
        public enum Kind {
            /** This node fills the key, and releases the claim when done. */
            CLAIMED,
            /** Another node fills it: wait for the shared store to have the response. */
            HELD,
            /** The cluster could not be asked in time. */
            UNAVAILABLE
        }
    }
}
