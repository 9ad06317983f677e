package dev.proxyfilter.forward;

import dev.proxyfilter.config.CacheConfig;
import dev.proxyfilter.config.PoolConfig;
import dev.proxyfilter.config.UpstreamTlsConfig;
import dev.proxyfilter.upstream.Http2Upstream;
import dev.proxyfilter.upstream.Upstream;
import dev.proxyfilter.upstream.UpstreamClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.http.HttpCookieStore;
import org.eclipse.jetty.io.ArrayByteBufferPool;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.util.component.LifeCycle;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.Invocable.InvocationType;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's upstream side: one thread pool, scheduler and buffer pool, and one client pair per connect
 * timeout (Jetty sets that per connector, not per request). Each pair shares one {@link ClientConnector}: our
 * pooled HTTP/1.1 {@link UpstreamClient} and the multiplexed {@link Http2Upstream}, which forward requests (a pool's
 * {@code protocol} picks one), and an {@link HttpClient} (whose beans they are,
 * so they start and stop together), which runs the health checks. Generations share the clients; {@link
 * Reloader} stops one once no live generation uses its timeout. Mutations are guarded by the engine's reload
 * lock (the caller's).
 */
final class UpstreamClients {
    private static final Logger LOG = LoggerFactory.getLogger(UpstreamClients.class);

    /** How long an idle pooled upstream connection is kept: below the common 20-30 s of backends. */
    private static final Duration UPSTREAM_POOL_IDLE = Duration.ofSeconds(15);

    private final QueuedThreadPool executor;
    private final ScheduledExecutorScheduler scheduler;
    private final ArrayByteBufferPool bufferPool = new ArrayByteBufferPool();
    private final UpstreamTlsConfig tls;
    private final boolean cacheMayUseDisk;
    /** Clients by connect timeout. */
    private final Map<Duration, HttpClient> clients = new HashMap<>();

    UpstreamClients(UpstreamTlsConfig tls, CacheConfig cache) throws Exception {
        this.tls = tls;
        this.cacheMayUseDisk = cacheMayUseDisk(cache);
        executor = new QueuedThreadPool(256, 4);
        executor.setName("proxy-upstream");
        executor.setDaemon(true);
        scheduler = new ScheduledExecutorScheduler("proxy-upstream-scheduler", true);
        executor.start();
        scheduler.start();
    }

    QueuedThreadPool executor() {
        return executor;
    }

    ScheduledExecutorScheduler scheduler() {
        return scheduler;
    }

    /**
     * Whether the response cache may block the calling thread: on a disk tier, or waiting (up to
     * {@code cache.shared-timeout}) for the tier shared by the cluster.
     */
    static boolean cacheMayUseDisk(CacheConfig cache) {
        return cache.enabled() && (cache.diskMb() > 0 || cache.ehcacheXml() != null || cache.shared());
    }

    /** The running client for a connect timeout, or one started now and noted in {@code started}. */
    HttpClient client(Duration connectTimeout, Map<Duration, HttpClient> started) throws Exception {
        HttpClient client = clients.get(connectTimeout);
        if (client == null) {
            client = started.get(connectTimeout);
        }
        if (client == null) {
            client = newClient(connectTimeout);
            started.put(connectTimeout, client);
        }
        return client;
    }

    /** Makes clients started for a generation being built part of the running set. */
    void adopt(Map<Duration, HttpClient> started) {
        clients.putAll(started);
    }

    /** Connect timeouts of the running clients among {@code used}. */
    Map<Duration, HttpClient> running() {
        return clients;
    }

    /** Removes the clients whose connect timeout is not in {@code inUse}; returns them, for the caller to stop. */
    List<HttpClient> removeUnused(Set<Duration> inUse) {
        List<HttpClient> unused = new ArrayList<>();
        for (var it = clients.entrySet().iterator(); it.hasNext(); ) {
            var entry = it.next();
            if (!inUse.contains(entry.getKey())) {
                unused.add(entry.getValue());
                it.remove();
            }
        }
        return unused;
    }

    /** The upstream a pool's requests go through on {@code client}: HTTP/1.1, or HTTP/2 with the pool's limits. */
    static Upstream upstream(HttpClient client, PoolConfig pool) {
        if (pool != null && pool.protocol().http2()) {
            return client.getBean(Http2Upstream.class)
                    .limited(pool.protocol().maxConnections(), pool.protocol().maxStreams());
        }
        return client.getBean(UpstreamClient.class);
    }

    /** Backend addresses no live generation routes to lose their connection pools. */
    void retainDestinations(Set<String> addresses) {
        for (HttpClient client : clients.values()) {
            client.getBean(UpstreamClient.class).retainDestinations(addresses);
            client.getBean(Http2Upstream.class).retainDestinations(addresses);
        }
    }

    /** Backend addresses the upstream clients hold pools for. */
    int destinations() {
        int count = 0;
        for (HttpClient client : clients.values()) {
            count += client.getBean(UpstreamClient.class).destinations();
            count += client.getBean(Http2Upstream.class).destinations();
        }
        return count;
    }

    /**
     * Upstream connections carrying an exchange (or opening for one), exchanges waiting for one, and HTTP/2
     * streams open.
     */
    int[] busyAndWaiting() {
        int busy = 0;
        int waiting = 0;
        int streams = 0;
        for (HttpClient client : clients.values()) {
            UpstreamClient upstream = client.getBean(UpstreamClient.class);
            busy += upstream.busyConnections();
            waiting += upstream.waitingExchanges();
            Http2Upstream http2 = client.getBean(Http2Upstream.class);
            busy += http2.busyConnections();
            waiting += http2.waitingExchanges();
            streams += http2.activeStreams();
        }
        return new int[] {busy, waiting, streams};
    }

    /** Removes every client; returns them, for the caller to stop. */
    List<HttpClient> removeAll() {
        List<HttpClient> running = List.copyOf(clients.values());
        clients.clear();
        return running;
    }

    /** Stops the thread pool and the scheduler, after the clients. */
    void stopThreads() {
        stopQuietly(scheduler);
        stopQuietly(executor);
    }

    private HttpClient newClient(Duration connectTimeout) throws Exception {
        ClientConnector connector = new ClientConnector();
        connector.setSelectors(1);
        connector.setSslContextFactory(upstreamTls());
        HttpClient client = new HttpClient(new HttpClientTransportOverHTTP(connector));
        client.setExecutor(executor);
        client.setScheduler(scheduler);
        client.setByteBufferPool(bufferPool);
        client.setConnectTimeout(connectTimeout.toMillis());
        client.setIdleTimeout(UPSTREAM_POOL_IDLE.toMillis());
        // A proxy passes traffic through: no redirects, cookies, decoding or authentication of its own.
        client.setFollowRedirects(false);
        client.setHttpCookieStore(new HttpCookieStore.Empty());
        client.getContentDecoderFactories().clear();
        client.getProtocolHandlers().clear();
        client.setUserAgentField(null);
        client.setMaxConnectionsPerDestination(256);
        client.setMaxRequestsQueuedPerDestination(1024);
        // Heap buffers reach servlet output streams without a copy.
        client.setUseInputDirectByteBuffers(false);
        client.setUseOutputDirectByteBuffers(false);
        // Forwarding goes through our own pooled HTTP/1.1 client on the same connector (one selector);
        // the HttpClient runs the health checks. It starts and stops with the HttpClient.
        connector.setConnectTimeout(connectTimeout);
        UpstreamClient upstream =
                new UpstreamClient(connector, executor, scheduler, bufferPool, UPSTREAM_POOL_IDLE, 256, 1024);
        // Responses are handled on the selector thread (no hand-off per read) unless storing them in the
        // cache may write to a disk tier: the selector must never wait on a disk.
        upstream.setReadInvocationType(cacheMayUseDisk ? InvocationType.BLOCKING : InvocationType.NON_BLOCKING);
        client.addBean(upstream, true);
        // HTTP/2 to the pools that ask for it, on the same connector; its sessions close when idle as long.
        client.addBean(new Http2Upstream(connector, executor, scheduler, UPSTREAM_POOL_IDLE, 1024), true);
        client.start();
        return client;
    }

    /**
     * TLS to {@code https://} backends: the configured trust store or the JDK's CAs, and the backend's
     * certificate must name the host of its URL unless {@code proxy.tls.verify-hostname=false}.
     */
    private SslContextFactory.Client upstreamTls() {
        SslContextFactory.Client factory = new SslContextFactory.Client();
        if (tls.truststore() != null) {
            factory.setTrustStorePath(tls.truststore());
            factory.setTrustStoreType("PKCS12");
            if (tls.truststorePassword() != null) {
                factory.setTrustStorePassword(tls.truststorePassword());
            }
        }
        factory.setEndpointIdentificationAlgorithm(tls.verifyHostname() ? "HTTPS" : null);
        factory.setIncludeProtocols("TLSv1.3", "TLSv1.2");
        return factory;
    }

    static void stopQuietly(LifeCycle lifeCycle) {
        try {
            lifeCycle.stop();
        } catch (Exception e) {
            LOG.warn("stopping {} failed", lifeCycle, e);
        }
    }
}
