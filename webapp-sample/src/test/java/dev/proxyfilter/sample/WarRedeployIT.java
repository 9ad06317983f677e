package dev.proxyfilter.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import javax.management.ObjectName;
import org.apache.catalina.Context;
import org.apache.catalina.Host;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.loader.WebappClassLoaderBase;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.scan.StandardJarScanner;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sample WAR undeployed and deployed again in one running Tomcat 11, with every part of the engine
 * that holds threads or connections switched on (health checks, the Ehcache cache with off-heap and a
 * persistent disk tier, a rate limit): each undeploy must give back what the deploy took. After a first
 * cycle (which starts the JDK's and Tomcat's lazy threads), three more cycles with proxied traffic must
 * leave the same thread names, no thread tied to a webapp class loader, no open upstream connection, no
 * {@code dev.proxyfilter} MBean and no leak warning from Tomcat's own detection. A request in flight
 * when the webapp is undeployed finishes first: the filter's {@code destroy()} drains the engine.
 */
@Timeout(120)
class WarRedeployIT {
    private static final String CONTEXT_PATH = "/sample";
    /** What the test adds to the sample's configuration, as an operator would: system properties. */
    private static final List<String> KEYS = List.of(
            "pool.api.backend.a.url",
            "pool.api.backend.b.url",
            "pool.api.health.path",
            "pool.api.health.interval",
            "cache.enabled",
            "cache.off-heap-mb",
            "cache.disk-mb",
            "cache.disk-path",
            "cache.disk-persistent",
            "route.api.cache",
            "security.rate-limit",
            "server.shutdown-timeout");
    /** Tomcat's request threads, the test backends' and the JDK's pools grow under load: their names say nothing about a leak. */
    private static final List<String> GROWING_POOLS = List.of("http-nio-", "ForkJoinPool", "HttpClient-", "backend-");

    private static Path war;

    @TempDir
    Path workDir;

    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private final List<String> leakWarnings = new CopyOnWriteArrayList<>();
    private final Logger loaderLogger = Logger.getLogger("org.apache.catalina.loader.WebappClassLoaderBase");
    private final Handler leakCapture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                leakWarnings.add(String.valueOf(record.getMessage()) + " "
                        + List.of(record.getParameters() == null ? new Object[0] : record.getParameters()));
            }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };
    private EchoBackend backendA;
    private EchoBackend backendB;
    private Tomcat tomcat;
    private Connector connector;

    @BeforeAll
    static void findWar() {
        war = Path.of(System.getProperty("sample.war", "target/webapp-sample.war"))
                .toAbsolutePath();
        assertThat(war).as("run `mvn package` first").isRegularFile();
    }

    @BeforeEach
    void start() throws Exception {
        backendA = new EchoBackend("a");
        backendB = new EchoBackend("b");
        set("pool.api.backend.a.url", backendA.url().toString());
        set("pool.api.backend.b.url", backendB.url().toString());
        set("pool.api.health.path", "/health");
        set("pool.api.health.interval", "200ms");
        set("cache.enabled", "true");
        set("cache.off-heap-mb", "1");
        set("cache.disk-mb", "4");
        set("cache.disk-path", workDir.resolve("cache").toString());
        set("cache.disk-persistent", "true");
        set("route.api.cache", "true");
        set("security.rate-limit", "1000/s");
        set("server.shutdown-timeout", "10s");
        loaderLogger.addHandler(leakCapture);

        Path baseDir = workDir.resolve("tomcat");
        Files.createDirectories(baseDir.resolve("webapps"));
        tomcat = new Tomcat();
        tomcat.setBaseDir(baseDir.toString());
        connector = new Connector();
        connector.setPort(0);
        connector.setProperty("address", "127.0.0.1");
        tomcat.setConnector(connector);
        tomcat.getHost(); // the host, before start, so that deploys below go into a started one
        tomcat.start();
    }

    @AfterEach
    void stop() throws Exception {
        for (String key : KEYS) {
            System.clearProperty("proxyfilter." + key);
        }
        loaderLogger.removeHandler(leakCapture);
        try (AutoCloseable a = backendA;
                AutoCloseable b = backendB) {
            tomcat.stop();
            tomcat.destroy();
        }
    }

    @Test
    void redeployingLeavesNoThreadConnectionOrRegistrationBehind() throws Exception {
        cycle(); // starts what the JDK and Tomcat start once, lazily
        Set<String> before = threadNames();
        assertThat(before).noneMatch(name -> name.startsWith("proxy-"));
        // Embedded Tomcat starts its utility threads lazily, during the first deploy: its leak detection then
        // blames that webapp for them. A standalone Tomcat starts them with the server.
        leakWarnings.removeIf(warning -> warning.contains("[Catalina-utility-"));

        for (int i = 0; i < 3; i++) {
            cycle();
        }

        assertThat(threadNames())
                .as("threads after 3 redeploys, against %s", before)
                .isSubsetOf(before);
        assertThat(threadsPinningAWebapp()).isEmpty();
        assertThat(proxyFilterMBeans()).isEmpty();
        // Tomcat's utility pool may also grow a thread during a later cycle (seen on a loaded machine): its own
        // thread, not the webapp's, whatever the leak detection says.
        leakWarnings.removeIf(warning -> warning.contains("[Catalina-utility-"));
        assertThat(leakWarnings).as("Tomcat's leak detection on undeploy").isEmpty();
    }

    @Test
    void anUndeployLetsARequestInFlightFinish() throws Exception {
        Context context = deploy();
        assertThat(get("/api/ready").statusCode()).isEqualTo(200);
        CompletableFuture<HttpResponse<String>> slow =
                http.sendAsync(request("/api/slow"), HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(5)).until(() -> backendA.slowRequests() + backendB.slowRequests() == 1);
        assertThat(slow).isNotDone();

        undeploy(context); // blocks in the filter's destroy() until the exchange ended

        assertThat(slow).isCompleted();
        HttpResponse<String> response = slow.get(1, TimeUnit.SECONDS);
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isIn("a", "b");
    }

    /** Deploys the WAR, proxies traffic through it (misses, hits, health checks), undeploys it. */
    private void cycle() throws Exception {
        Context context = deploy();
        for (int i = 0; i < 20; i++) {
            assertThat(get("/api/page/" + (i % 5)).statusCode()).isEqualTo(200);
        }
        assertThat(get("/hello").statusCode()).isEqualTo(200);
        undeploy(context);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(backendA.openConnections())
                    .as("connections to backend a")
                    .isZero();
            assertThat(backendB.openConnections())
                    .as("connections to backend b")
                    .isZero();
        });
        assertThat(threadsPinningAWebapp()).isEmpty();
    }

    private Context deploy() {
        Context context = tomcat.addWebapp(tomcat.getHost(), CONTEXT_PATH, war.toString());
        ((StandardJarScanner) context.getJarScanner()).setScanClassPath(false);
        assertThat(context.getState().isAvailable())
                .as("the sample webapp started")
                .isTrue();
        return context;
    }

    private void undeploy(Context context) {
        Host host = tomcat.getHost();
        host.removeChild(context); // stops and destroys it, as the manager's undeploy does
    }

    private Set<String> threadNames() {
        Set<String> names = new TreeSet<>();
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (thread.isAlive() && GROWING_POOLS.stream().noneMatch(thread.getName()::startsWith)) {
                names.add(thread.getName());
            }
        }
        return names;
    }

    /** Live threads that would keep an undeployed webapp's class loader: by their class or their context loader. */
    private static List<String> threadsPinningAWebapp() {
        List<String> pinning = new ArrayList<>();
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (thread.isAlive()
                    && (thread.getContextClassLoader() instanceof WebappClassLoaderBase
                            || thread.getClass().getClassLoader() instanceof WebappClassLoaderBase)) {
                pinning.add(thread.getName());
            }
        }
        return pinning;
    }

    private static Set<ObjectName> proxyFilterMBeans() throws Exception {
        return ManagementFactory.getPlatformMBeanServer().queryNames(new ObjectName("dev.proxyfilter*:*"), null);
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(request(path), HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest request(String path) {
        URI uri = URI.create("http://127.0.0.1:" + connector.getLocalPort() + CONTEXT_PATH + path);
        return HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build();
    }

    private static void set(String key, String value) {
        System.setProperty("proxyfilter." + key, value);
    }
}
