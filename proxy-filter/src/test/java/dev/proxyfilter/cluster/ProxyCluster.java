package dev.proxyfilter.cluster;

import dev.proxyfilter.config.CacheConfig;
import dev.proxyfilter.config.ClusterConfig;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.config.RouteConfig;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.TestBackend;
import dev.proxyfilter.testing.TestConfigs;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.UnaryOperator;
import org.eclipse.jetty.client.CompletableResponseListener;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The fixture of the cluster tests: a counting origin, and proxy instances in front of it (the core handler in
 * Jetty, as the standalone proxy runs, each engine with its own upstream client and its own embedded Hazelcast
 * member), in one cluster with a name of its own, on 127.0.0.1 only, with a TCP-IP member list of free ports.
 *
 * <p>Requests carry {@code Host: shop.example}, as a load balancer in front of the instances would send them,
 * so that every instance computes the same cache keys. Unscripted paths answer {@code 200 "PATH N"} with
 * {@code max-age=60} (N counts the requests for the path). Close it in {@code @AfterEach}.
 */
final class ProxyCluster implements AutoCloseable {
    /** The host every request names. */
    static final String HOST = "shop.example";

    /** How the origin answers a path, given how many requests for it it has seen, this one included. */
    interface Script {
        void answer(int n, HttpServletRequest request, HttpServletResponse response) throws Exception;
    }

    final String name;
    /** The members to connect to as clients, or {@code null}: each proxy runs an embedded member. */
    private final List<String> external;

    private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    private final Map<String, Script> scripts = new ConcurrentHashMap<>();
    private final TestBackend origin;
    private final HttpClient http;
    private final CacheConfig cache;
    /** What a test changes in each node's configuration before and after it is built. */
    private final BiFunction<TestConfigs, java.net.URI, TestConfigs> builder;

    private final UnaryOperator<ProxyConfig> customize;
    private final List<Integer> ports = new ArrayList<>();
    private final List<ProxyAdapter.Running> proxies = new ArrayList<>();

    private ProxyCluster(
            CacheConfig cache,
            String name,
            List<String> external,
            BiFunction<TestConfigs, java.net.URI, TestConfigs> builder,
            UnaryOperator<ProxyConfig> customize) {
        this.cache = cache;
        this.builder = builder;
        this.customize = customize;
        this.name = name;
        this.external = external;
        this.origin = TestBackend.start("origin", new Origin());
        QueuedThreadPool threads = new QueuedThreadPool(32, 2);
        threads.setName("cluster-test-client");
        this.http = new HttpClient();
        http.setExecutor(threads);
        http.setMaxConnectionsPerDestination(128);
        http.setIdleTimeout(30_000);
        try {
            http.start();
        } catch (Exception e) {
            origin.close();
            throw new IllegalStateException(e);
        }
    }

    /** An origin and {@code nodes} proxies with the shared cache ({@code shared-timeout} 2 s: no flaky misses). */
    static ProxyCluster start(int nodes) {
        return start(nodes, defaultCache().build());
    }

    /** The cache the tests use unless they say otherwise. */
    static CacheConfig.Builder defaultCache() {
        return CacheConfig.builder()
                .store(CacheConfig.Store.SHARED)
                .sharedTimeout(Duration.ofSeconds(2))
                .coalesceTimeout(Duration.ofSeconds(20))
                .maxEntryBytes(10_000);
    }

    /** An origin and {@code nodes} proxies with {@code cache}, started one after the other. */
    static ProxyCluster start(int nodes, CacheConfig cache) {
        return start(nodes, cache, (builder, origin) -> builder, UnaryOperator.identity());
    }

    /**
     * An origin and {@code nodes} proxies with {@code cache}, each node's configuration made by {@code builder}
     * (given the origin's URL; it may replace pool {@code web} and add routes) and then passed through
     * {@code customize} (security, cluster settings).
     */
    static ProxyCluster start(
            int nodes,
            CacheConfig cache,
            BiFunction<TestConfigs, java.net.URI, TestConfigs> builder,
            UnaryOperator<ProxyConfig> customize) {
        return start(nodes, cache, "pf-test-" + UUID.randomUUID(), null, builder, customize);
    }

    /** {@code nodes} proxies that are Hazelcast clients of the cluster {@code name} of {@code members}. */
    static ProxyCluster startClients(int nodes, String name, List<String> members) {
        return start(
                nodes, defaultCache().build(), name, members, (builder, origin) -> builder, UnaryOperator.identity());
    }

    /** As {@link #startClients(int, String, List)}, each configuration passed through {@code customize}. */
    static ProxyCluster startClients(
            int nodes, String name, List<String> members, UnaryOperator<ProxyConfig> customize) {
        return start(nodes, defaultCache().build(), name, members, (builder, origin) -> builder, customize);
    }

    private static ProxyCluster start(
            int nodes,
            CacheConfig cache,
            String name,
            List<String> external,
            BiFunction<TestConfigs, java.net.URI, TestConfigs> builder,
            UnaryOperator<ProxyConfig> customize) {
        ProxyCluster cluster = new ProxyCluster(cache, name, external, builder, customize);
        try {
            for (int i = 0; i < nodes; i++) {
                cluster.ports.add(freePort());
            }
            for (int i = 0; i < nodes; i++) {
                cluster.startNode(i);
            }
            return cluster;
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    /** Starts one more proxy, which joins the running ones; returns its index. */
    int join() {
        ports.add(freePort());
        int index = ports.size() - 1;
        startNode(index);
        return index;
    }

    private void startNode(int index) {
        List<String> members = ports.stream().map(port -> "127.0.0.1:" + port).toList();
        ProxyConfig config = builder.apply(
                        TestConfigs.builder()
                                .pool("web", StrategyName.ROUND_ROBIN, "origin", origin.url(), 1)
                                .route(new RouteConfig(
                                                "main",
                                                null,
                                                "/",
                                                "web",
                                                false,
                                                true,
                                                Duration.ofSeconds(2),
                                                Duration.ofSeconds(20),
                                                Duration.ZERO)
                                        .withCache(true)),
                        origin.url())
                .build()
                .withCache(cache)
                .withCluster(
                        external == null
                                ? ClusterConfig.loopback(name, ports.get(index), members)
                                : ClusterConfig.loopback(name, ports.get(index), members)
                                        .asClientOf(external));
        config = customize.apply(config);
        ProxyAdapter.Running proxy = ProxyAdapter.HANDLER_IN_JETTY.start(config);
        synchronized (proxies) {
            if (proxies.size() > index) {
                proxies.set(index, proxy);
            } else {
                proxies.add(proxy);
            }
        }
    }

    /** Ports handed out in this JVM: never twice, not even once the member that had one has stopped. */
    private static final java.util.Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    /**
     * A free port for a member, below Linux's ephemeral range (32768 and up). A member's port taken from that
     * range (as {@code new ServerSocket(0)} picks) can, once the member stops, become the local port of another
     * member's outgoing connection; Hazelcast then takes the departed member's address for that member's own,
     * and the last member's deregistrations wait for an invocation timeout ("Connecting to self!").
     */
    static int freePort() {
        java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
        for (int attempt = 0; attempt < 1000; attempt++) {
            int port = random.nextInt(20_000, 32_000);
            if (!HANDED_OUT.add(port)) {
                continue;
            }
            try (ServerSocket socket = new ServerSocket()) {
                socket.bind(new java.net.InetSocketAddress(InetAddress.getByName("127.0.0.1"), port));
                return port;
            } catch (IOException e) {
                // taken: try another
            }
        }
        throw new IllegalStateException("no free port in 20000..31999");
    }

    ProxyAdapter.Running proxy(int index) {
        synchronized (proxies) {
            return proxies.get(index);
        }
    }

    int size() {
        synchronized (proxies) {
            return proxies.size();
        }
    }

    /** Scripts the origin's answers for {@code path}. */
    ProxyCluster script(String path, Script script) {
        scripts.put(path, script);
        return this;
    }

    /** Requests for {@code path} the origin has seen. */
    int count(String path) {
        AtomicInteger n = counts.get(path);
        return n == null ? 0 : n.get();
    }

    /** The test's HTTP client. */
    HttpClient http() {
        return http;
    }

    /** The origin's URL. */
    java.net.URI originUrl() {
        return origin.url();
    }

    /** A GET through proxy {@code node}, with {@code Host: shop.example}. */
    ContentResponse get(int node, String path) throws Exception {
        return request(node, HttpMethod.GET, path).send();
    }

    /** The same, without waiting. */
    CompletableFuture<ContentResponse> getAsync(int node, String path) {
        return new CompletableResponseListener(request(node, HttpMethod.GET, path)).send();
    }

    Request request(int node, HttpMethod method, String path) {
        return http.newRequest(proxy(node).uri().resolve(path))
                .method(method)
                .headers(headers -> headers.put(HttpHeader.HOST, HOST))
                .timeout(30, TimeUnit.SECONDS);
    }

    /** The URL of {@code path} as the cache keys it, for purges. */
    static String url(String path) {
        return "http://" + HOST + path;
    }

    static String cacheStatus(ContentResponse response) {
        String value = response.getHeaders().get("Cache-Status");
        return value == null ? "" : value;
    }

    @Override
    public void close() {
        List<ProxyAdapter.Running> running;
        synchronized (proxies) {
            running = new ArrayList<>(proxies);
        }
        // The last ones first: the first member is the master, whose leaving costs the others most.
        for (int i = running.size() - 1; i >= 0; i--) {
            try {
                running.get(i).close();
            } catch (RuntimeException e) {
                // a node a test killed may fail to stop cleanly; the others still must
            }
        }
        try {
            http.stop();
        } catch (Exception e) {
            // closing anyway
        }
        origin.close();
    }

    private final class Origin extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            String path = req.getRequestURI();
            int n = counts.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
            Script script = scripts.get(path);
            if (script == null) {
                resp.setHeader("Cache-Control", "max-age=60");
                resp.setContentType("text/plain");
                byte[] body = (path + " " + n).getBytes(StandardCharsets.UTF_8);
                resp.setContentLength(body.length);
                resp.getOutputStream().write(body);
                return;
            }
            try {
                script.answer(n, req, resp);
            } catch (IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException(e);
            }
        }
    }
}
