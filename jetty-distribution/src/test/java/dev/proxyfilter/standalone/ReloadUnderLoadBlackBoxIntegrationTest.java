package dev.proxyfilter.standalone;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14, black-box: the real {@code bin/proxy-filter} under steady load, with the access log on and the
 * proxy's output redirected into the directory of its configuration file, as the reporter ran it. That
 * directory then sees over a thousand events a second, and before the fix no rewrite of the file was applied
 * until the load stopped. Here the file is rewritten in the four ways operators and tools do it, twice each;
 * every rewrite must be applied (admin API and routing) within {@link #DEADLINE}, and no request of the load
 * may fail.
 *
 * <p>The configuration starts in a Kubernetes ConfigMap layout ({@code proxy.properties ->
 * ..data/proxy.properties}, {@code ..data -> ..TIMESTAMP/}), so the {@code ..data} swaps come first; the first
 * rename then puts a plain file in place of the link, which the in-place and {@code sed -i} rewrites edit. Like
 * {@link DistributionBlackBoxIntegrationTest}, it runs in {@code integration-test} on the unpacked tarball.
 *
 * <p>Its clients speak HTTP/1.1. The listener speaks h2c too ({@code server.h2c}), and Java 17's {@code
 * HttpClient} would upgrade to it by default, but that client fails every open stream on a GOAWAY, even the
 * graceful one a draining server sends (JDK-8335181, fixed in 17.0.17; this JDK is older); clients that follow RFC 9113 let
 * the streams below the GOAWAY's last stream id finish.
 */
@Tag("distribution")
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReloadUnderLoadBlackBoxIntegrationTest {
    private static final Duration DEADLINE = Duration.ofSeconds(2);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final int CLIENTS = 4;
    /** Bounds of the load, which also stops when the test ends. */
    private static final Duration LOAD_LIMIT = Duration.ofSeconds(45);

    private static final long LOAD_MAX_REQUESTS = 500_000;

    @TempDir
    Path dir;

    private Path home;
    private Process process;
    private final List<Thread> clients = new ArrayList<>();
    private final AtomicBoolean loading = new AtomicBoolean(true);
    private final AtomicLong requests = new AtomicLong();
    private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1) // see the class comment: h2c and Java 17's GOAWAY
            .connectTimeout(Duration.ofSeconds(2))
            .build();

    private int port;
    private int adminPort;
    private int portA;
    private int portB;

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
        assertThat(tar.exitValue()).isZero();
        home = dir.resolve("proxy-filter");
    }

    @AfterEach
    void stop() throws InterruptedException {
        stopLoad();
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /** One pool of one demo backend: which one answers shows which configuration serves. */
    private String config(String backend) {
        return """
                server.host=127.0.0.1
                server.port=%d
                admin.host=127.0.0.1
                admin.port=%d
                log.access=combined
                pool.web.backend.%s.url=http://127.0.0.1:%d
                route.main.path=/
                route.main.pool=web
                demo.backend.a.port=%d
                demo.backend.b.port=%d
                """.formatted(port, adminPort, backend, backend.equals("a") ? portA : portB, portA, portB);
    }

    @Test
    void everyWayOfRewritingTheFileIsAppliedWithinTwoSecondsUnderLoadWithTheAccessLogInItsDirectory() throws Exception {
        port = freePort();
        adminPort = freePort();
        portA = freePort();
        portB = freePort();
        Path volume = Files.createDirectories(dir.resolve("config"));
        Path first = Files.createDirectories(volume.resolve("..2026_01_01_00_00_00.1"));
        Files.writeString(first.resolve("proxy.properties"), config("a"));
        Files.createSymbolicLink(volume.resolve("..data"), first.getFileName());
        Path file = Files.createSymbolicLink(volume.resolve("proxy.properties"), Path.of("..data/proxy.properties"));

        ProcessBuilder builder = new ProcessBuilder(
                        home.resolve("bin/proxy-filter").toString(), "--config", file.toString())
                .directory(dir.toFile())
                // The access log goes to stderr: here, next to the configuration, as in the issue.
                .redirectOutput(volume.resolve("proxy.out").toFile())
                .redirectError(volume.resolve("proxy.err").toFile());
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().remove("JAVA_OPTS");
        builder.environment().remove("PROXY_FILTER_OPTS");
        process = builder.start();
        Awaitility.await()
                .atMost(START_TIMEOUT)
                .pollInterval(Duration.ofMillis(100))
                .ignoreExceptions()
                .until(() -> {
                    if (!process.isAlive()) {
                        throw new AssertionError("exited with " + process.exitValue() + ":\n" + output(volume));
                    }
                    // The proxy listener can answer a moment before the admin listener is bound.
                    return get(port, "/").body().equals("backend a\n")
                            && get(adminPort, "/api/reload").statusCode() == 200;
                });

        // Also warms up the admin API, which measures each delay below.
        assertThat(get(adminPort, "/api/reload").body()).contains("\"generation\":1,");

        startLoad();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> requests.get() > 200);
        long logBefore = Files.size(volume.resolve("proxy.err"));

        // Each way twice: the swaps first, while the file is still a link; the first rename replaces the link.
        List<Rewrite> rewrites = List.of(
                Rewrite.CONFIGMAP_SWAP,
                Rewrite.CONFIGMAP_SWAP,
                Rewrite.RENAME,
                Rewrite.IN_PLACE,
                Rewrite.SED,
                Rewrite.RENAME,
                Rewrite.IN_PLACE,
                Rewrite.SED);
        List<String> delays = new ArrayList<>();
        String serving = "a";
        for (int i = 0; i < rewrites.size(); i++) {
            Rewrite rewrite = rewrites.get(i);
            String next = serving.equals("a") ? "b" : "a";
            int generation = i + 2;
            long start = System.nanoTime();
            rewrite.apply(volume, file, config(serving), config(next), generation);
            awaitApplied(generation, next, volume);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            delays.add(rewrite + " " + millis + " ms");
            assertThat(millis).as("%s applied after", rewrite).isLessThanOrEqualTo(DEADLINE.toMillis());
            assertThat(Files.readString(file)).isEqualTo(config(next));
            serving = next;
            Thread.sleep(300); // the load goes on between rewrites
        }
        stopLoad();

        System.out.printf("reloads applied under %d requests: %s%n", requests.get(), delays);
        assertThat(failures).as("failed requests of %d", requests.get()).isEmpty();
        // The premise: the access log grew in the watched directory all along.
        assertThat(Files.size(volume.resolve("proxy.err")) - logBefore).isGreaterThan(100_000);
        assertThat(output(volume)).doesNotContain("rejected");
    }

    /** The four ways to rewrite the file. */
    private enum Rewrite {
        /** As the kubelet does: a new {@code ..TIMESTAMP} directory, a {@code ..data_tmp} link to it renamed over {@code ..data}. */
        CONFIGMAP_SWAP {
            @Override
            void apply(Path volume, Path file, String old, String content, int generation) throws Exception {
                assertThat(file)
                        .as("the swap must come while the file is a link")
                        .isSymbolicLink();
                Path next = Files.createDirectories(volume.resolve("..2026_01_01_00_00_00." + generation));
                Files.writeString(next.resolve("proxy.properties"), content);
                Path link = Files.createSymbolicLink(volume.resolve("..data_tmp"), next.getFileName());
                Files.move(link, volume.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);
            }
        },
        /** {@code mv} of a temporary file of the same directory over the file. */
        RENAME {
            @Override
            void apply(Path volume, Path file, String old, String content, int generation) throws Exception {
                Path staged = Files.writeString(volume.resolve(".proxy.properties.tmp"), content);
                run("mv", "-f", staged.toString(), file.toString());
            }
        },
        /** Truncated and written again, as most editors save. */
        IN_PLACE {
            @Override
            void apply(Path volume, Path file, String old, String content, int generation) throws Exception {
                Files.writeString(file, content);
            }
        },
        /** {@code sed -i}, which writes a temporary file of its own and renames it over the file. */
        SED {
            @Override
            void apply(Path volume, Path file, String old, String content, int generation) throws Exception {
                String from = old.lines()
                        .filter(l -> l.startsWith("pool."))
                        .findFirst()
                        .orElseThrow();
                String to = content.lines()
                        .filter(l -> l.startsWith("pool."))
                        .findFirst()
                        .orElseThrow();
                run("sed", "-i", "s|^" + from.replace(".", "\\.") + "$|" + to + "|", file.toString());
            }
        };

        abstract void apply(Path volume, Path file, String old, String content, int generation) throws Exception;

        private static void run(String... command) throws Exception {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue())
                    .as(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                    .isZero();
        }
    }

    /** Waits until the admin API reports {@code generation} applied from the file and {@code backend} answers. */
    private void awaitApplied(int generation, String backend, Path volume) {
        Awaitility.await()
                // Past the deadline: the caller asserts the delay, with a clearer message than a time-out.
                .atMost(DEADLINE.plusSeconds(3))
                .pollInterval(Duration.ofMillis(20))
                .untilAsserted(() -> {
                    String status = get(adminPort, "/api/reload").body();
                    assertThat(status)
                            .as(() -> status + "\n" + proxyLines(volume))
                            .contains("\"generation\":" + generation + ",")
                            .contains("\"outcome\":\"applied\"")
                            .contains("\"trigger\":\"file\"");
                    assertThat(get(port, "/").body()).isEqualTo("backend " + backend + "\n");
                });
    }

    /** {@link #CLIENTS} threads of GETs, each until the test ends, {@link #LOAD_LIMIT} passes or the count is reached. */
    private void startLoad() {
        long end = System.nanoTime() + LOAD_LIMIT.toNanos();
        for (int i = 0; i < CLIENTS; i++) {
            Thread client = new Thread(
                    () -> {
                        while (loading.get() && System.nanoTime() - end < 0 && requests.get() < LOAD_MAX_REQUESTS) {
                            try {
                                HttpResponse<String> response = get(port, "/load/" + requests.incrementAndGet());
                                if (response.statusCode() != 200
                                        || !response.body().startsWith("backend ")) {
                                    failures.add(response.statusCode() + " " + response.body());
                                }
                            } catch (Exception e) {
                                failures.add(e.toString());
                            }
                        }
                    },
                    "load-" + i);
            client.setDaemon(true);
            client.start();
            clients.add(client);
        }
    }

    private void stopLoad() throws InterruptedException {
        loading.set(false);
        for (Thread client : clients) {
            client.join(10_000);
        }
    }

    private HttpResponse<String> get(int target, String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + target + path))
                .timeout(Duration.ofSeconds(5))
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private static String output(Path volume) {
        try {
            return Files.readString(volume.resolve("proxy.out")) + Files.readString(volume.resolve("proxy.err"));
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    /** The proxy's output without the access log. */
    private static String proxyLines(Path volume) {
        return String.join(
                "\n",
                output(volume)
                        .lines()
                        .filter(l -> !l.contains(" dev.proxyfilter.access: "))
                        .toList());
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }
}
