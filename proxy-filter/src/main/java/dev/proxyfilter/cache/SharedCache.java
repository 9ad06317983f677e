package dev.proxyfilter.cache;

import java.util.concurrent.Executor;

/**
 * What a response cache shared by a cluster of instances gives {@link HttpCache}: the store (this instance's
 * tier in front of the cluster's, {@link TieredResponseStore}), cluster-wide fill claims for coalescing misses
 * across nodes ({@link FillClaims}), and where work that waits on the cluster runs.
 *
 * <p>The implementation on Hazelcast is {@code dev.proxyfilter.cache.hazelcast.HazelcastSharedCache}; the
 * engine loads it by name, so that an instance without a cluster loads no Hazelcast class.
 */
public interface SharedCache extends AutoCloseable {

    /** The tiered store; closed by {@link #close()}. */
    TieredResponseStore store();

    /** Claims on filling a key, cluster-wide. */
    FillClaims fills();

    /**
     * Runs cluster reads that may block for up to the shared tier's timeout, off the threads that deliver the
     * cluster's events, which must not block.
     */
    Executor executor();

    /** Stops listening to the cluster, then closes the store. The cluster itself stays up. */
    @Override
    void close();
}
