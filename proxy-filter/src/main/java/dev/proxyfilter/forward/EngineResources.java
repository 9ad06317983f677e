package dev.proxyfilter.forward;

import dev.proxyfilter.accesslog.AccessLog;
import dev.proxyfilter.cluster.Cluster;
import dev.proxyfilter.config.ClusterConfig;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.config.RouteConfig;
import dev.proxyfilter.metrics.ProxyMetrics;
import dev.proxyfilter.security.Security;
import dev.proxyfilter.security.SharedBuckets;
import dev.proxyfilter.time.ProxyClock;

/**
 * What an engine holds for its whole life, across generations, opened in the order they depend on each other
 * and closed in reverse: the cluster (the shared cache and rate limits need it), the cluster's token buckets,
 * the security layer, the response cache, the upstream clients, and last the access log's writer thread. A
 * part that fails to open closes what opened before it: a bad {@code cluster.*}, users file or {@code cache.*}
 * setting leaks no thread.
 */
final class EngineResources {
    /** The cluster's token buckets, loaded by name ({@link #openSharedBuckets}). */
    private static final String SHARED_BUCKETS = "dev.proxyfilter.cluster.hazelcast.HazelcastBuckets";

    final ProxyMetrics metrics;
    /** This instance's part in a cluster, {@code null} without {@code cluster.enabled=true}. */
    final Cluster cluster;
    /** The cluster's token buckets, {@code null} unless it shares its rate limits ({@code cluster.rate-limits}). */
    final SharedBuckets sharedBuckets;
    /** The first generation's security layer (a reload builds the next). */
    final Security security;
    /** The response cache, {@code null} when {@code cache.enabled=false}. */
    final CachingStep caching;

    final UpstreamClients clients;
    /** The access log's queue and writer thread. */
    final AccessLog accessLog;

    private EngineResources(
            ProxyMetrics metrics,
            Cluster cluster,
            SharedBuckets sharedBuckets,
            Security security,
            CachingStep caching,
            UpstreamClients clients,
            AccessLog accessLog) {
        this.metrics = metrics;
        this.cluster = cluster;
        this.sharedBuckets = sharedBuckets;
        this.security = security;
        this.caching = caching;
        this.clients = clients;
        this.accessLog = accessLog;
    }

    /**
     * Opens them all for {@code config}; {@code security} is the caller's own layer, or {@code null} to build
     * one (with the cluster's buckets when it shares its rate limits).
     */
    static EngineResources open(ProxyConfig config, Security security, ProxyClock clock, ProxyMetrics metrics)
            throws Exception {
        // First: a file it cannot open stops the start before anything else has a thread running.
        AccessLog accessLog = AccessLog.start(metrics, config.accessLogTarget());
        Cluster cluster;
        try {
            cluster = config.cluster().enabled() ? Cluster.start(config) : null;
        } catch (Exception | Error e) {
            accessLog.close();
            throw e;
        }
        SharedBuckets buckets = null;
        CachingStep caching = null;
        try {
            buckets = cluster != null && config.cluster().sharesRateLimits()
                    ? openSharedBuckets(cluster, config.cluster())
                    : null;
            Security started = security != null
                    ? security
                    : Security.start(
                            config.security(),
                            config.routes().stream().map(RouteConfig::name).toList(),
                            clock,
                            null,
                            buckets);
            caching = CachingStep.open(config, metrics, clock, cluster);
            UpstreamClients clients = new UpstreamClients(config.upstreamTls(), config.cache());
            if (cluster != null) {
                metrics.gauge("proxy.cluster.members", () -> cluster.members().size());
            }
            metrics.gauge("proxy.upstream.threads.busy", clients.executor()::getBusyThreads);
            metrics.gauge("proxy.upstream.threads.max", clients.executor()::getMaxThreads);
            metrics.gauge("proxy.upstream.threads.queued", clients.executor()::getQueueSize);
            return new EngineResources(metrics, cluster, buckets, started, caching, clients, accessLog);
        } catch (Exception | Error e) {
            accessLog.close();
            if (caching != null) {
                caching.close();
            }
            if (buckets != null) {
                buckets.close();
            }
            if (cluster != null) {
                cluster.close();
            }
            throw e;
        }
    }

    /**
     * Closes them once no exchange runs any more: the access log writes what it queued, the upstream threads
     * stop, the cache closes (a persistent disk tier is flushed and reopens consistent), then the buckets, then
     * this instance leaves its cluster (after the cache, whose last writes and purges still reach it; an
     * embedded member hands its share of the shared cache over), then the metrics (JMX).
     */
    void close() {
        accessLog.close();
        clients.stopThreads();
        if (caching != null) {
            caching.close();
        }
        if (sharedBuckets != null) {
            sharedBuckets.close();
        }
        if (cluster != null) {
            cluster.close();
        }
        metrics.close();
    }

    /** Loads the cluster's token buckets by name, so that a single node never loads a class that needs Hazelcast. */
    private static SharedBuckets openSharedBuckets(Cluster cluster, ClusterConfig config) {
        try {
            return (SharedBuckets) Class.forName(SHARED_BUCKETS, true, EngineResources.class.getClassLoader())
                    .getMethod("open", Cluster.class, ClusterConfig.class)
                    .invoke(null, cluster, config);
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException("cannot start the cluster's rate limits", e.getCause());
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new IllegalStateException("cannot start the cluster's rate limits", e);
        }
    }
}
