package dev.proxyfilter.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import dev.proxyfilter.testing.Backends;
import dev.proxyfilter.testing.TestBackend;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.http2.api.Session;
import org.eclipse.jetty.http2.api.Stream;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.frames.HeadersFrame;
import org.eclipse.jetty.http2.frames.ResetFrame;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Unpacks {@code target/proxy-filter.tar.gz} and runs its real {@code bin/proxy-filter} as a separate
 * process, as an operator would (after Jetty's {@code JettyHomeTester}). Runs in the
 * {@code integration-test} phase, after {@code package} has built the tarball: tagged so that the
 * {@code test} phase skips it.
 *
 * <p>Its clients speak HTTP/1.1. The listener speaks h2c too ({@code server.h2c}), and Java 17's {@code
 * HttpClient} would upgrade to it by default, but that client fails every open stream on a GOAWAY, even the
 * graceful one a draining server sends (JDK-8335181, fixed in 17.0.17; this JDK is older); clients that follow RFC 9113 let
 * the streams below the GOAWAY's last stream id finish.
 */
@Tag("distribution")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DistributionBlackBoxIntegrationTest {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private Path home;
    private final List<Process> processes = new ArrayList<>();
    private final List<TestBackend> backends = new ArrayList<>();
    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1) // see the class comment: h2c and Java 17's GOAWAY
            .connectTimeout(Duration.ofSeconds(2))
            .build();

    @BeforeEach
    void unpack() throws Exception {
        Path tarball = Path.of(System.getProperty("proxyfilter.distribution", "target/proxy-filter.tar.gz"));
        assertThat(tarball)
                .as("run `mvn verify`: the tarball is built in `package`")
                .isRegularFile();
        Process tar = new ProcessBuilder("tar", "xzf", tarball.toAbsolutePath().toString(), "-C", dir.toString())
                .redirectErrorStream(true)
                .start();
        assertThat(tar.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(tar.exitValue())
                .as(new String(tar.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                .isZero();
        home = dir.resolve("proxy-filter");
    }

    @AfterEach
    void killLeftovers() throws InterruptedException {
        for (Process process : processes) {
            if (process.isAlive()) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
        backends.forEach(TestBackend::close);
    }

    @Test
    void tarballHoldsScriptJarsAndSampleConfig() throws IOException {
        assertThat(home.resolve("bin/proxy-filter")).isRegularFile().isExecutable();
        assertThat(home.resolve("config/proxy.properties")).isRegularFile();
        assertThat(home.resolve("config/logback.xml")).isRegularFile();
        assertThat(home.resolve("config/grafana-dashboard.json")).isRegularFile();
        assertThat(home.resolve("README.txt")).isRegularFile();
        try (var jars = Files.list(home.resolve("lib"))) {
            assertThat(jars.map(p -> p.getFileName().toString()).toList())
                    .anyMatch(n -> n.startsWith("jetty-distribution-") && n.endsWith(".jar"))
                    .anyMatch(n -> n.startsWith("proxy-filter-") && n.endsWith(".jar"))
                    .anyMatch(n -> n.startsWith("jetty-ee10-proxy-"))
                    .anyMatch(n -> n.startsWith("jetty-ee10-servlet-"))
                    .anyMatch(n -> n.startsWith("jakarta.servlet-api-"))
                    .anyMatch(n -> n.startsWith("logback-classic-"))
                    .noneMatch(n -> n.startsWith("jetty-slf4j-impl-"))
                    .noneMatch(n -> n.startsWith("junit") || n.startsWith("assertj") || n.startsWith("awaitility"));
        }
    }

    @Test
    void scriptBalancesOverDemoBackendsAndExitsZeroOnSigterm() throws Exception {
        int port = freePort();
        int portA = freePort();
        int portB = freePort();
        Path config =
                Files.writeString(dir.resolve("test.properties"), """
                server.host=127.0.0.1
                server.port=%d
                admin.port=0
                pool.web.strategy=weighted-round-robin
                pool.web.backend.a.url=http://127.0.0.1:%d
                pool.web.backend.a.weight=3
                pool.web.backend.b.url=http://127.0.0.1:%d
                pool.web.backend.b.weight=1
                route.main.path=/
                route.main.pool=web
                demo.backend.a.port=%d
                demo.backend.b.port=%d
                """.formatted(port, portA, portB, portA, portB));

        Process process = startScript("run", "--config", config.toString());
        awaitAnswering(process, "run", port);

        // exec: the script's process is the JVM itself, so SIGTERM reaches it; default JAVA_OPTS applied.
        assertThat(process.info().command())
                .hasValueSatisfying(c -> assertThat(c).endsWith("java"));
        String homeArgument = "-Dproxyfilter.home=" + home.toRealPath();
        assertThat(process.info().arguments())
                .hasValueSatisfying(args -> assertThat(args).contains("-Xmx256m", "-XX:+UseSerialGC", homeArgument));

        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 40; i++) {
            HttpResponse<String> response = get(port, "/page/" + i);
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("Server")).isEmpty();
            counts.merge(response.body(), 1, Integer::sum);
        }
        assertThat(counts).containsOnlyKeys("backend a\n", "backend b\n");
        assertThat(counts.get("backend a\n")).isCloseTo(30, within(2));

        process.destroy(); // SIGTERM
        assertThat(process.waitFor(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS))
                .as(output("run"))
                .isTrue();
        assertThat(process.exitValue()).as(output("run")).isZero();
        assertThat(output("run"))
                .contains("demo backend a on http://127.0.0.1:" + portA)
                .contains("proxy-filter listening on http://127.0.0.1:" + port + ", 1 route(s)")
                .contains("proxy-filter stopped");
    }

    /**
     * Issue 7's graceful shutdown, black-box: SIGTERM in the middle of slow requests. They finish with their
     * whole body, a new connection is refused meanwhile, and the process exits 0.
     */
    @Test
    void sigtermLetsSlowRequestsFinishRefusesNewConnectionsAndExitsZero() throws Exception {
        Backends.Slow slow = new Backends.Slow();
        TestBackend backend = TestBackend.start("slow", slow);
        backends.add(backend);
        int port = freePort();
        Process process = startScript(
                "drain", "--config", slowConfig(port, backend, "10s").toString());
        awaitAnswering(process, "drain", port, "/ready?ms=0");
        int before = slow.started.get();

        HttpClient clients = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1) // see the class comment: h2c and Java 17's GOAWAY
                .connectTimeout(Duration.ofSeconds(2))
                .build();
        List<CompletableFuture<HttpResponse<byte[]>>> inFlight = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            inFlight.add(clients.sendAsync(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/slow/" + i + "?ms=4000"))
                            .timeout(Duration.ofSeconds(20))
                            .build(),
                    HttpResponse.BodyHandlers.ofByteArray()));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> slow.started.get() == before + 4);

        process.destroy(); // SIGTERM, half-way through their bodies
        await().atMost(Duration.ofSeconds(3))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> refused(port));
        assertThat(inFlight).as("still draining when the port closed").noneMatch(CompletableFuture::isDone);

        for (CompletableFuture<HttpResponse<byte[]>> response : inFlight) {
            assertThat(response.get(10, TimeUnit.SECONDS).statusCode())
                    .as(output("drain"))
                    .isEqualTo(200);
            assertThat(response.get().body()).isEqualTo(Backends.slowBody());
        }
        assertThat(process.waitFor(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS))
                .as(output("drain"))
                .isTrue();
        assertThat(process.exitValue()).as(output("drain")).isZero();
        assertThat(output("drain"))
                .contains("proxy-filter stopping: new connections refused, 4 exchange(s) in flight get up to 10000 ms")
                .contains("proxy-filter stopped")
                .doesNotContain("still in flight after");
    }

    /**
     * The same drain over h2c (prior knowledge), on one HTTP/2 connection of Jetty's {@link HTTP2Client}
     * (its session API, which follows RFC 9113 on GOAWAY; Jetty's pooled {@code HttpClient} closes the
     * connection when one exchange ends after a GOAWAY and aborts the others still receiving): four streams in
     * flight when SIGTERM comes finish with their whole body, and the process exits 0.
     */
    @Test
    void sigtermLetsInFlightHttp2StreamsFinish() throws Exception {
        Backends.Slow slow = new Backends.Slow();
        TestBackend backend = TestBackend.start("slow", slow);
        backends.add(backend);
        int port = freePort();
        Process process = startScript(
                "drain-h2", "--config", slowConfig(port, backend, "10s").toString());
        awaitAnswering(process, "drain-h2", port, "/ready?ms=0");
        int before = slow.started.get();

        HTTP2Client h2 = new HTTP2Client();
        h2.start();
        try {
            Session session = h2.connect(new InetSocketAddress("127.0.0.1", port), new Session.Listener() {})
                    .get(5, TimeUnit.SECONDS);
            List<CompletableFuture<byte[]>> bodies = new ArrayList<>();
            List<CompletableFuture<Integer>> statuses = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                CompletableFuture<Integer> status = new CompletableFuture<>();
                CompletableFuture<byte[]> body = new CompletableFuture<>();
                statuses.add(status);
                bodies.add(body);
                MetaData.Request request = new MetaData.Request(
                        "GET",
                        HttpURI.from("http://127.0.0.1:" + port + "/slow/" + i + "?ms=4000"),
                        HttpVersion.HTTP_2,
                        HttpFields.EMPTY);
                session.newStream(new HeadersFrame(request, null, true), new Stream.Listener() {
                            private final java.io.ByteArrayOutputStream received = new java.io.ByteArrayOutputStream();

                            @Override
                            public void onHeaders(Stream stream, HeadersFrame frame) {
                                if (frame.getMetaData() instanceof MetaData.Response response) {
                                    status.complete(response.getStatus());
                                }
                                stream.demand();
                            }

                            @Override
                            public void onDataAvailable(Stream stream) {
                                Stream.Data data = stream.readData();
                                if (data == null) {
                                    stream.demand();
                                    return;
                                }
                                java.nio.ByteBuffer buffer = data.frame().getByteBuffer();
                                byte[] bytes = new byte[buffer.remaining()];
                                buffer.get(bytes);
                                received.writeBytes(bytes);
                                data.release();
                                if (data.frame().isEndStream()) {
                                    body.complete(received.toByteArray());
                                } else {
                                    stream.demand();
                                }
                            }

                            @Override
                            public void onReset(Stream stream, ResetFrame frame, Callback callback) {
                                body.completeExceptionally(new IOException("stream reset: " + frame));
                                callback.succeeded();
                            }

                            @Override
                            public void onFailure(
                                    Stream stream, int error, String reason, Throwable failure, Callback callback) {
                                body.completeExceptionally(failure);
                                callback.succeeded();
                            }
                        })
                        .get(5, TimeUnit.SECONDS);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> slow.started.get() == before + 4);

            process.destroy(); // SIGTERM, half-way through their bodies
            for (int i = 0; i < 4; i++) {
                byte[] body;
                try {
                    body = bodies.get(i).get(10, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new AssertionError("stream " + i + " failed; the proxy said:\n" + output("drain-h2"), e);
                }
                assertThat(statuses.get(i).getNow(-1)).as(output("drain-h2")).isEqualTo(200);
                assertThat(body).isEqualTo(Backends.slowBody());
            }
        } finally {
            h2.stop();
        }
        assertThat(process.waitFor(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS))
                .as(output("drain-h2"))
                .isTrue();
        assertThat(process.exitValue()).as(output("drain-h2")).isZero();
        assertThat(output("drain-h2")).contains("proxy-filter stopped").doesNotContain("still in flight after");
    }

    /** A request longer than {@code server.shutdown-timeout} is cut, and the exit is still 0, soon after the grace. */
    @Test
    void sigtermCutsWhatOutlivesTheGraceAndStillExitsZero() throws Exception {
        Backends.Stall stall = new Backends.Stall();
        TestBackend backend = TestBackend.start("stall", stall);
        backends.add(backend);
        int port = freePort();
        Process process =
                startScript("cut", "--config", slowConfig(port, backend, "1s").toString());
        await().atMost(START_TIMEOUT)
                .pollInterval(Duration.ofMillis(100))
                .ignoreExceptions()
                .until(() -> {
                    if (!process.isAlive()) {
                        throw new AssertionError("exited with " + process.exitValue() + ":\n" + output("cut"));
                    }
                    return !refused(port);
                });
        CompletableFuture<HttpResponse<byte[]>> stalled = client.sendAsync(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/stalled"))
                        .timeout(Duration.ofSeconds(30))
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());
        await().atMost(Duration.ofSeconds(10)).until(() -> stall.requests.get() == 1);

        long start = System.nanoTime();
        process.destroy();
        assertThat(process.waitFor(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS))
                .as(output("cut"))
                .isTrue();
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(process.exitValue()).as(output("cut")).isZero();
        assertThat(tookMillis).as("grace 1s, then cut").isBetween(1_000L, 8_000L);
        Object outcome = stalled.handle((response, failure) -> response != null ? response.statusCode() : failure)
                .get(5, TimeUnit.SECONDS);
        assertThat(outcome)
                .as("the stalled request did not get a normal answer")
                .isNotEqualTo(200);
        assertThat(output("cut")).contains("proxy-filter stopped");
    }

    /** A configuration over the two demo backends where only {@code serving} takes traffic. */
    private static String hupConfig(int port, int portA, int portB, String serving, String extra) {
        return """
                server.host=127.0.0.1
                server.port=%d
                admin.port=-1
                reload.watch=false
                pool.web.backend.%s.url=http://127.0.0.1:%d
                route.main.path=/
                route.main.pool=web
                demo.backend.a.port=%d
                demo.backend.b.port=%d
                """.formatted(port, serving, serving.equals("a") ? portA : portB, portA, portB) + extra;
    }

    @Test
    void sighupReloadsTheConfigurationAndAnInvalidOneKeepsTheOldServing() throws Exception {
        int port = freePort();
        int portA = freePort();
        int portB = freePort();
        Path config = Files.writeString(dir.resolve("hup.properties"), hupConfig(port, portA, portB, "a", ""));
        // With SIGHUP reset to its default: a build started under nohup passes SIG_IGN down to the proxy, and
        // the JVM then refuses to handle it (the proxy says so in its log; see HangupSignal).
        Process process = start(
                "hup",
                new ProcessBuilder(
                        "env",
                        "--default-signal=HUP",
                        home.resolve("bin/proxy-filter").toString(),
                        "--config",
                        config.toString()));
        awaitAnswering(process, "hup", port);
        assertThat(get(port, "/x").body()).isEqualTo("backend a\n");

        // reload.watch=false: only the signal makes the proxy read the file again.
        Files.writeString(config, hupConfig(port, portA, portB, "b", ""));
        signal(process, "HUP");
        // untilAsserted: a failure shows the last answer and the proxy's output, not only a timeout.
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(get(port, "/x").body())
                        .as(() -> output("hup"))
                        .isEqualTo("backend b\n"));
        // The swap comes before its log line: wait for the line rather than read it at once.
        await().atMost(Duration.ofSeconds(10))
                .until(() -> output("hup").contains("configuration reloaded (signal): generation 2"));

        Files.writeString(config, hupConfig(port, portA, portB, "a", "pool.web.backend.a.weight=-1\n"));
        signal(process, "HUP");
        await().atMost(Duration.ofSeconds(10)).until(() -> output("hup").contains("rejected"));
        assertThat(output("hup"))
                .contains("configuration reload (signal) rejected, generation 2 keeps serving: "
                        + "pool.web.backend.a.weight: -1 (expected: integer >= 0) [" + config + "]");
        assertThat(process.isAlive()).isTrue();
        for (int i = 0; i < 5; i++) {
            assertThat(get(port, "/x").body()).isEqualTo("backend b\n");
        }

        process.destroy();
        assertThat(process.waitFor(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS))
                .as(output("hup"))
                .isTrue();
        assertThat(process.exitValue()).as(output("hup")).isZero();
    }

    private static void signal(Process process, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid()))
                .redirectErrorStream(true)
                .start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
    }

    @Test
    void badConfigurationExitsOneNamingKeyAndFile() throws Exception {
        Path config = Files.writeString(dir.resolve("bad-weight.properties"), """
                server.port=0
                admin.port=0
                pool.web.backend.a.url=http://127.0.0.1:1
                pool.web.backend.a.weight=-1
                route.main.path=/
                route.main.pool=web
                """);

        Process process = startScript("bad", "--config", config.toString());

        assertThat(process.waitFor(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).isEqualTo(1);
        assertThat(stderr("bad"))
                .isEqualTo("proxy-filter: configuration error: pool.web.backend.a.weight: -1"
                        + " (expected: integer >= 0) [" + config + "]\n");
    }

    /**
     * README, "Observability and administration": on any interface other than loopback the admin listener refuses
     * to start without {@code admin.token}. The process exits 1 before it listens anywhere.
     */
    @Test
    void aPublicAdminListenerWithoutATokenExitsOneNamingTheKey() throws Exception {
        int port = freePort();
        Path config = Files.writeString(dir.resolve("public-admin.properties"), """
                server.host=127.0.0.1
                server.port=%d
                admin.host=0.0.0.0
                admin.port=0
                pool.web.backend.a.url=http://127.0.0.1:1
                route.main.path=/
                route.main.pool=web
                """.formatted(port));

        Process process = startScript("public-admin", "--config", config.toString());

        assertThat(process.waitFor(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(output("public-admin")).isEqualTo(1);
        assertThat(stderr("public-admin"))
                .isEqualTo("proxy-filter: configuration error: admin.host: 0.0.0.0 (expected: a loopback address"
                        + " such as 127.0.0.1, or set admin.token: the admin interface can drain backends and purge"
                        + " the cache) [" + config + "]\n");
        assertThat(refused(port)).as("the proxy never listened").isTrue();
    }

    @Test
    void unknownArgumentExitsTwoWithUsage() throws Exception {
        Process process = startScript("usage", "--port", "80");

        assertThat(process.waitFor(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).isEqualTo(2);
        assertThat(stderr("usage"))
                .startsWith("proxy-filter: unknown argument: --port")
                .contains("usage: proxy-filter");
    }

    @Test
    void scriptFindsItsHomeThroughASymlink() throws Exception {
        Path link = Files.createSymbolicLink(
                Files.createDirectories(dir.resolve("usr/bin")).resolve("proxy-filter"),
                home.resolve("bin/proxy-filter"));

        Process process = start("help", new ProcessBuilder(link.toString(), "--help"));

        assertThat(process.waitFor(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(output("help")).isZero();
        assertThat(Files.readString(dir.resolve("help.out"))).startsWith("usage: proxy-filter");
    }

    /** The shipped config/proxy.properties, run with no argument; needs ports 8080, 8081, 9001 and 9002. */
    @Test
    void defaultConfigurationServesDemoBackends() throws Exception {
        Assumptions.assumeTrue(
                free("0.0.0.0", 8080) && free("127.0.0.1", 8081) && free("127.0.0.1", 9001) && free("127.0.0.1", 9002),
                "ports 8080, 8081, 9001 and 9002 must be free");

        Process process = startScript("default");
        await().atMost(START_TIMEOUT)
                .pollInterval(Duration.ofMillis(100))
                .ignoreExceptions()
                .until(() -> {
                    if (!process.isAlive()) {
                        // Lost a race for a port to another program: not this distribution's fault.
                        Assumptions.assumeFalse(
                                stderr("default").contains("Address already in use"), stderr("default"));
                        throw new AssertionError("exited with " + process.exitValue() + ":\n" + output("default"));
                    }
                    return get(8080, "/").statusCode() == 200;
                });

        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            bodies.add(get(8080, "/").body());
        }
        assertThat(bodies).containsOnly("backend a\n", "backend b\n").contains("backend a\n", "backend b\n");
        // The admin listener of the shipped config, on loopback.
        assertThat(get(8081, "/healthz").statusCode()).isEqualTo(200);
        assertThat(get(8081, "/metrics").body())
                // the readiness probe above plus 8 requests, smooth weighted 3:1: a a b a a a b a a
                .contains("proxyfilter_backend_request_duration_seconds_count{backend=\"a\",pool=\"web\"} 7\n")
                .contains("proxyfilter_backend_request_duration_seconds_count{backend=\"b\",pool=\"web\"} 2\n");

        process.destroy();
        assertThat(process.waitFor(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(output("default")).isZero();

        // The shipped log.access.to=stdout: bare combined lines on stdout, one per proxied request (the 8 above
        // and those of the wait for start-up), and none among the diagnostics on stderr.
        List<String> access = Files.readAllLines(dir.resolve("default.out"));
        assertThat(access)
                .hasSizeGreaterThanOrEqualTo(8)
                .allSatisfy(line -> assertThat(line)
                        .matches("127\\.0\\.0\\.1 - - \\[[^]]+] \"GET / HTTP/1\\.1\" 200 10 \"-\" \"[^\"]*\" "
                                + "rt=\\d+\\.\\d{3} backend=web/[ab] urt=\\d+\\.\\d{3} retries=0 cache=-"));
        assertThat(stderr("default")).doesNotContain("dev.proxyfilter.access");
    }

    private Process startScript(String name, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(home.resolve("bin/proxy-filter").toString());
        command.addAll(List.of(args));
        return start(name, new ProcessBuilder(command));
    }

    /** Runs from an unrelated working directory, with this JVM's Java and the script's default options. */
    private Process start(String name, ProcessBuilder builder) throws IOException {
        Path cwd = Files.createDirectories(dir.resolve("cwd"));
        builder.directory(cwd.toFile())
                .redirectOutput(dir.resolve(name + ".out").toFile())
                .redirectError(dir.resolve(name + ".err").toFile());
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().remove("JAVA_OPTS");
        builder.environment().remove("PROXY_FILTER_OPTS");
        Process process = builder.start();
        processes.add(process);
        return process;
    }

    private void awaitAnswering(Process process, String name, int port) {
        awaitAnswering(process, name, port, "/");
    }

    private void awaitAnswering(Process process, String name, int port, String path) {
        await().atMost(START_TIMEOUT)
                .pollInterval(Duration.ofMillis(100))
                .ignoreExceptions()
                .until(() -> {
                    if (!process.isAlive()) {
                        throw new AssertionError("exited with " + process.exitValue() + ":\n" + output(name));
                    }
                    return get(port, path).statusCode() == 200;
                });
    }

    /** One route to one backend in this JVM, with the given {@code server.shutdown-timeout}. */
    private Path slowConfig(int port, TestBackend backend, String grace) throws IOException {
        return Files.writeString(
                dir.resolve("slow-" + port + ".properties"), """
                server.host=127.0.0.1
                server.port=%d
                server.shutdown-timeout=%s
                admin.port=0
                pool.web.backend.a.url=%s
                route.main.path=/
                route.main.pool=web
                """.formatted(port, grace, backend.url()));
    }

    /** Whether a connection to the port is refused. */
    private static boolean refused(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private HttpResponse<String> get(int port, String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(5))
                .build();
        return client.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private String stderr(String name) throws IOException {
        return Files.readString(dir.resolve(name + ".err"));
    }

    private String output(String name) {
        try {
            return Files.readString(dir.resolve(name + ".out")) + Files.readString(dir.resolve(name + ".err"));
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }

    private static boolean free(String host, int port) {
        try (ServerSocket socket = new ServerSocket(port, 50, InetAddress.getByName(host))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
