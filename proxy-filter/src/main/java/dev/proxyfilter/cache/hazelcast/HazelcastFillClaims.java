package dev.proxyfilter.cache.hazelcast;

import com.hazelcast.map.IMap;
import com.hazelcast.map.impl.proxy.MapProxyImpl;
import dev.proxyfilter.cache.FillClaims;
import dev.proxyfilter.cluster.Cluster;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@link FillClaims} on a Hazelcast {@link IMap}: a claim is an entry under the key, put only if absent, with a
 * time to live (the lease). No lock and no CP subsystem: the entry's owner decides atomically who put it first,
 * and the lease ends it even if its holder dies.
 *
 * <p>The value is a token, {@code m/nodeId/n} (a member's) or {@code c/nodeId/n} (a client's), so that a
 * release removes its own claim only, not a later one of the same node after the lease lapsed. A release
 * deletes the entry, then publishes {@code F key} on the cache's topic, which {@link HazelcastSharedCache}
 * hands to the listener on every node.
 *
 * <p>A claim held by a member that is no longer in the cluster (it died while filling; the claim survived in
 * the backup) is stale: the next claimant removes it and claims again, rather than wait for the lease to lapse.
 */
final class HazelcastFillClaims implements FillClaims {
    /** What {@link #holder} says when the cluster cannot tell. */
    static final String UNKNOWN = "unknown";

    private final IMap<String, String> claims;
    private final Cluster cluster;
    private final Remote remote;
    private final Executor executor;
    private final String tokenPrefix;
    private final AtomicLong sequence = new AtomicLong();
    private volatile Listener listener;

    HazelcastFillClaims(
            IMap<String, String> claims, Cluster cluster, boolean client, Remote remote, Executor executor) {
        this.claims = claims;
        this.cluster = cluster;
        this.remote = remote;
        this.executor = executor;
        this.tokenPrefix = (client ? "c/" : "m/") + cluster.nodeId() + '/';
    }

    @Override
    public Claim claim(String key, Duration lease) {
        String token = tokenPrefix + sequence.incrementAndGet();
        try {
            String held = putIfAbsent(key, token, lease);
            if (held != null && heldByDeadMember(held)) {
                String stale = held;
                remote.call("removing a dead member's claim on " + key, () -> claims.remove(key, stale));
                held = putIfAbsent(key, token, lease);
            }
            return held == null
                    ? new Claim(Claim.Kind.CLAIMED, key, cluster.nodeId(), token)
                    : new Claim(Claim.Kind.HELD, key, nodeOf(held), null);
        } catch (Remote.Unavailable e) {
            return Claim.unavailable(key);
        }
    }

    /**
     * On a member, Hazelcast's own asynchronous put-if-absent (public on its map proxy, not on {@link IMap}):
     * the request's thread waits for the answer itself instead of queueing for one of the shared cache's
     * threads, which every miss of the node would otherwise share. Elsewhere (a client), the blocking call on
     * those threads.
     */
    @SuppressWarnings("unchecked")
    private String putIfAbsent(String key, String token, Duration lease) throws Remote.Unavailable {
        if (claims instanceof MapProxyImpl<?, ?> proxy) {
            MapProxyImpl<String, String> member = (MapProxyImpl<String, String>) proxy;
            return remote.await(
                    "claiming " + key,
                    () -> member.putIfAbsentAsync(key, token, lease.toMillis(), TimeUnit.MILLISECONDS));
        }
        return remote.call(
                "claiming " + key, () -> claims.putIfAbsent(key, token, lease.toMillis(), TimeUnit.MILLISECONDS));
    }

    /** A member's claim whose member has left; a client's cannot be told apart from a live one. */
    private boolean heldByDeadMember(String token) {
        return token.startsWith("m/") && !cluster.members().contains(nodeOf(token));
    }

    @Override
    public String holder(String key) {
        try {
            String held = remote.await("reading the claim on " + key, () -> claims.getAsync(key));
            return held == null ? null : nodeOf(held);
        } catch (Remote.Unavailable e) {
            return UNKNOWN;
        }
    }

    @Override
    public void release(Claim claim) {
        if (claim.kind() != Claim.Kind.CLAIMED) {
            return;
        }
        Runnable release = () -> {
            try {
                remote.call("releasing the claim on " + claim.key(), () -> claims.remove(claim.key(), claim.token()));
            } catch (Remote.Unavailable e) {
                // the lease ends it
            }
            cluster.publish(HazelcastSharedCache.TOPIC, HazelcastSharedCache.FILLED + claim.key());
        };
        try {
            executor.execute(release);
        } catch (RejectedExecutionException e) {
            cluster.publish(HazelcastSharedCache.TOPIC, HazelcastSharedCache.FILLED + claim.key()); // closing
        }
    }

    @Override
    public void listen(Listener newListener) {
        this.listener = newListener;
    }

    void fillEnded(String key) {
        Listener current = listener;
        if (current != null) {
            current.fillEnded(key);
        }
    }

    void nodeLeft(String nodeId) {
        Listener current = listener;
        if (current != null) {
            current.nodeLeft(nodeId);
        }
    }

    /** The node id in a token {@code kind/nodeId/n}. */
    static String nodeOf(String token) {
        int first = token.indexOf('/');
        int last = token.lastIndexOf('/');
        return first < 0 || last <= first ? token : token.substring(first + 1, last);
    }
}
