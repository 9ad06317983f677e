package dev.proxyfilter.cache;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpFields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Request coalescing across the nodes of a cluster, on top of each node's {@link Coalescer}: of the concurrent
 * misses for one key anywhere in the cluster, one goes to the backend.
 *
 * <h2>How</h2>
 * On each node the {@link Coalescer} picks one local leader per key, as without a cluster; its other misses
 * follow it. Before the local leader goes to the backend, it claims the key cluster-wide ({@link FillClaims},
 * a lease):
 * <ul>
 * <li><b>claimed</b>: it goes to the backend. It first reads the shared store once more, bypassing near
 *     caches ({@link HttpCache#lookupLatest}): another node may have stored the response between this node's
 *     lookup and its claim, and then it is served from there instead. When its exchange ends (stored or not)
 *     the claim is released, which every node hears of.</li>
 * <li><b>held</b> by another node: the local leader becomes a stand-in for that node's leader. It does not go
 *     to the backend; the request that got it follows it like the local followers do. When the holder's fill
 *     ends, the stand-in reads the shared store (again bypassing near caches, which may still hold the miss
 *     they saw) with its request: a fresh response there completes it, and every local follower answers from
 *     it as from a local leader's (each checks its own {@code Vary} selection). Nothing there (the response
 *     was not storable, or the holder failed) releases them to go to the backend on their own. Something
 *     there that does not answer the request as it stands (a response it must validate, another variant)
 *     makes them look up and join again, once ({@link Coalescer.Leader#retry()}): one of them then leads.</li>
 * <li><b>unavailable</b> (the cluster did not answer in time): the local leader goes to the backend, as it
 *     would without a cluster.</li>
 * </ul>
 *
 * <h2>Bounds</h2>
 * A stand-in gives up after the coalescing timeout, as local followers do, and the claim's lease is that
 * timeout, so a holder that dies or hangs delays the others by at most that much. A holder that leaves the
 * cluster ends its stand-ins at once (they look up and join again). Two races are covered: a fill that ends between a node's lookup and
 * its claim (the claimant's re-read above), and one that ends between a failed claim and the stand-in's
 * registration (the stand-in asks once, after registering, whether the key is still claimed).
 *
 * <p>Blocking cluster reads run on the shared cache's executor, never on the threads that deliver the
 * cluster's events; the claim and the claimant's re-read run on the request's thread, which the engine keeps
 * off selector threads when the store is shared.
 */
final class ClusterCoalescing implements FillClaims.Listener {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterCoalescing.class);

    private final HttpCache cache;
    private final FillClaims claims;
    private final Executor executor;
    private final Duration maxWait;
    private final ConcurrentHashMap<String, StandIn> standIns = new ConcurrentHashMap<>();

    /** A local leader standing in for another node's fill of its key. */
    private record StandIn(Coalescer.Leader leader, CacheRequest request, String holder) {}

    ClusterCoalescing(HttpCache cache, FillClaims claims, Executor executor, Duration maxWait) {
        this.cache = Objects.requireNonNull(cache, "cache");
        this.claims = Objects.requireNonNull(claims, "claims");
        this.executor = Objects.requireNonNull(executor, "executor");
        this.maxWait = Objects.requireNonNull(maxWait, "maxWait");
        claims.listen(this);
    }

    /** What the local leader of {@code lookup}'s key does cluster-wide: see the class documentation. */
    Coalescer.Ticket lead(Coalescer.Leader local, CacheLookup lookup) {
        FillClaims.Claim claim = claims.claim(local.key(), maxWait);
        switch (claim.kind()) {
            case CLAIMED -> {
                local.onEnd(() -> claims.release(claim));
                StoredResponse filled = filledMeanwhile(lookup.request());
                if (filled == null) {
                    return local;
                }
                local.complete(filled); // releases the claim, and the others hear the fill ended
                return local.follower();
            }
            case HELD -> {
                return standIn(local, lookup.request(), claim.holder());
            }
            default -> {
                return local;
            }
        }
    }

    /**
     * The local leader of a background revalidation when no node revalidates the key yet, else {@code null}
     * (the local leader released): at most one refresh per key in the cluster.
     */
    Coalescer.Leader tryLead(Coalescer.Leader local) {
        FillClaims.Claim claim = claims.claim(local.key(), maxWait);
        switch (claim.kind()) {
            case CLAIMED -> {
                local.onEnd(() -> claims.release(claim));
                return local;
            }
            case HELD -> {
                local.release();
                return null;
            }
            default -> {
                return local;
            }
        }
    }

    private StoredResponse filledMeanwhile(CacheRequest request) {
        try {
            CacheLookup latest = cache.lookupLatest(request, cache.clock().millis());
            return latest.action() == CacheAction.HIT ? latest.stored() : null;
        } catch (RuntimeException e) {
            LOG.debug("re-reading {} after claiming it failed", request.uri(), e);
            return null;
        }
    }

    private Coalescer.Ticket standIn(Coalescer.Leader local, CacheRequest request, String holder) {
        // Copied: the request that joined first may be answered (and its fields recycled) before this ends.
        CacheRequest copy = new CacheRequest(
                request.method(),
                request.scheme(),
                request.authority(),
                request.path(),
                request.query(),
                HttpFields.build(request.headers()).asImmutable());
        StandIn standIn = new StandIn(local, copy, holder);
        String key = local.key();
        standIns.put(key, standIn); // a previous stand-in of this key has ended or timed out: replaced
        local.onEnd(() -> standIns.remove(key, standIn));
        CompletableFuture.delayedExecutor(maxWait.toMillis(), TimeUnit.MILLISECONDS)
                .execute(local::release); // bounds the wait even if no word ever comes
        // The holder may have ended before this stand-in was registered: then no word will come.
        submit(standIn, () -> {
            if (claims.holder(key) == null) {
                resolve(standIn, false);
            }
        });
        return local.follower();
    }

    /**
     * Ends a stand-in by what the shared store holds now for its request: a fresh response completes it; nothing
     * at all (the holder's response was not storable) releases its followers to the backend, as a local leader
     * that stored nothing does; anything else (a response to validate, another variant, or nothing because the
     * holder left) makes them look up and join again, when one of them will lead.
     */
    private void resolve(StandIn standIn, boolean holderLeft) {
        Coalescer.Leader leader = standIn.leader();
        if (leader.ended()) {
            return;
        }
        CacheLookup latest;
        try {
            latest = cache.lookupLatest(standIn.request(), cache.clock().millis());
        } catch (RuntimeException e) {
            LOG.debug("reading {} after its fill ended failed", leader.key(), e);
            leader.release();
            return;
        }
        if (latest.action() == CacheAction.HIT) {
            leader.complete(latest.stored());
        } else if (!holderLeft && latest.decision().forward() == CacheStatus.Forward.URI_MISS) {
            leader.release();
        } else {
            leader.retry();
        }
    }

    private void submit(StandIn standIn, Runnable task) {
        try {
            executor.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    LOG.debug(
                            "cluster coalescing of {} failed", standIn.leader().key(), e);
                    standIn.leader().release();
                }
            });
        } catch (RejectedExecutionException e) {
            standIn.leader().release(); // shutting down: the followers go to the backend
        }
    }

    @Override
    public void fillEnded(String key) {
        StandIn standIn = standIns.get(key);
        if (standIn != null) {
            submit(standIn, () -> resolve(standIn, false));
        }
    }

    @Override
    public void nodeLeft(String nodeId) {
        for (StandIn standIn : standIns.values()) {
            if (nodeId.equals(standIn.holder())) {
                submit(standIn, () -> resolve(standIn, true));
            }
        }
    }

    /** Stand-ins waiting now, for tests. */
    int waiting() {
        return standIns.size();
    }
}
