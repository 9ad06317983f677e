package dev.proxyfilter.standalone;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.testing.Backends;
import dev.proxyfilter.testing.TestBackend;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
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
 * Issue 17, black-box: the packaged {@code bin/proxy-filter --takeover} replaces the running process five
 * times in a row under steady load, and no request fails. Each new process starts on the same ports
 * ({@code server.reuse-port=true}), becomes ready, writes the pid file and sends the old one SIGTERM; the
 * old one hands over (its listener closes at a quiet moment with its accept queue drained, its
 * connections get {@code Connection: close}) and exits 0.
 *
 * <p>The load is four client threads, each bounded in time and count: two keep their connections alive
 * (the JDK's {@link HttpClient}, which, like browsers and curl, sends an idempotent request again when a
 * reused connection turns out closed before any response byte: the keep-alive race), and two open a new
 * connection for every request and never retry (a raw socket with {@code Connection: close}), which is
 * the worst case for the accept queue of a listener that closes. Every body is compared byte for byte
 * with what the backend sent. {@code net.ipv4.tcp_migrate_req} is left as the machine has it (0 here).
 *
 * <p>Its clients speak HTTP/1.1. The listener speaks h2c too ({@code server.h2c}), and Java 17's {@code
 * HttpClient} would upgrade to it by default, but that client fails every open stream on a GOAWAY, even the
 * graceful one a draining server sends (JDK-8335181, fixed in 17.0.17; this JDK is older); clients that follow RFC 9113 let
 * the streams below the GOAWAY's last stream id finish.
 */
@Tag("distribution")
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class TakeoverBlackBoxIntegrationTest {
    private static final int SWAPS = 5;
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(30);
    /** Bounds of the load, which also stops when the test ends. */
    private static final Duration LOAD_LIMIT = Duration.ofSeconds(100);

    private static final long LOAD_MAX_REQUESTS = 2_000_000;
    private static final int MAX_BODY = 24 * 1024;

    @TempDir
    Path dir;

    private Path home;
    private TestBackend backend;
    private final List<Process> processes = new ArrayList<>();
    private final List<Thread> clients = new ArrayList<>();
    private final AtomicBoolean loading = new AtomicBoolean(true);
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong freshConnections = new AtomicLong();
    private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    private int port;

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
        for (Process process : processes) {
            if (process.isAlive()) {
                process.destroy();
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                }
            }
        }
        if (backend != null) {
            backend.close();
        }
    }

    @Test
    void fiveTakeoversUnderLoadFailNoRequestAndServeEveryByte() throws Exception {
        backend = TestBackend.start("bytes", new Backends.Digest());
        port = freePort();
        int adminPort = freePort();
        Path config =
                Files.writeString(dir.resolve("proxy.properties"), """
                server.host=127.0.0.1
                server.port=%d
                server.reuse-port=true
                server.shutdown-timeout=10s
                admin.host=127.0.0.1
                admin.port=%d
                log.access=off
                pool.web.backend.a.url=http://127.0.0.1:%d
                route.main.path=/
                route.main.pool=web
                """.formatted(port, adminPort, backend.port()));
        Path pidFile = dir.resolve("run/proxy-filter.pid");
        long testStart = System.nanoTime();

        Process first = start(0, "--config", config.toString(), "--pid-file", pidFile.toString());
        Awaitility.await()
                .atMost(START_TIMEOUT)
                .pollInterval(Duration.ofMillis(100))
                .ignoreExceptions()
                .until(() -> {
                    if (!first.isAlive()) {
                        throw new AssertionError("exited with " + first.exitValue() + ":\n" + output(0));
                    }
                    return Files.readString(pidFile).trim().equals(Long.toString(first.pid()));
                });

        startLoad();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> requests.get() > 200);

        List<String> swaps = new ArrayList<>();
        for (int i = 1; i <= SWAPS; i++) {
            Process old = processes.get(i - 1);
            long before = requests.get();
            long swapStart = System.nanoTime();
            Process next = start(i, "--config", config.toString(), "--pid-file", pidFile.toString(), "--takeover");
            int index = i;
            assertThat(old.waitFor(START_TIMEOUT.plus(EXIT_TIMEOUT).toSeconds(), TimeUnit.SECONDS))
                    .as(() -> "process %d still runs:\n%s\nprocess %d:\n%s"
                            .formatted(index - 1, output(index - 1), index, output(index)))
                    .isTrue();
            long swapMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - swapStart);
            assertThat(old.exitValue()).as(output(i - 1)).isZero();
            assertThat(next.isAlive()).as(output(i)).isTrue();
            assertThat(Files.readString(pidFile).trim()).isEqualTo(Long.toString(next.pid()));
            // The new process serves alone now, and the load goes on through it.
            long after = requests.get();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> requests.get() > after + 100);
            swaps.add("%d ms (%d requests)".formatted(swapMillis, after - before));
            assertThat(failures)
                    .as("failed requests by swap %d of %d requests", i, requests.get())
                    .isEmpty();
        }
        stopLoad();
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - testStart);

        String handOvers = String.join(
                "\n",
                java.util.stream.IntStream.range(0, SWAPS)
                        .mapToObj(this::output)
                        .flatMap(String::lines)
                        .filter(line -> line.contains("hand-over:"))
                        .toList());
        System.out.printf(
                Locale.ROOT,
                "%d takeovers in %d ms under %d requests (%d on fresh connections), %d failed; swaps: %s%n%s%n",
                SWAPS,
                millis,
                requests.get(),
                freshConnections.get(),
                failures.size(),
                swaps,
                handOvers);
        assertThat(failures).as("failed requests of %d", requests.get()).isEmpty();
        assertThat(freshConnections.get()).isGreaterThan(100);
        for (int i = 0; i < SWAPS; i++) {
            assertThat(output(i)).contains("hand-over: listener closed").contains("proxy-filter stopped");
            assertThat(output(i + 1))
                    .contains("takeover: ready after")
                    .contains("takeover complete: pid " + processes.get(i).pid() + " exited");
        }

        Process last = processes.get(SWAPS);
        last.destroy(); // SIGTERM, with no other process to hand over to
        assertThat(last.waitFor(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(last.exitValue()).as(output(SWAPS)).isZero();
        assertThat(pidFile).as("removed by the process it named").doesNotExist();
    }

    private Process start(int index, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(home.resolve("bin/proxy-filter").toString());
        command.addAll(Arrays.asList(args));
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("proxy-" + index + ".log").toFile());
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().remove("JAVA_OPTS");
        builder.environment().remove("PROXY_FILTER_OPTS");
        Process process = builder.start();
        processes.add(process);
        return process;
    }

    /** Two keep-alive clients and two that open a connection per request, each until stopped or bounded. */
    private void startLoad() {
        long end = System.nanoTime() + LOAD_LIMIT.toNanos();
        for (int i = 0; i < 4; i++) {
            boolean keepAlive = i % 2 == 0;
            HttpClient http = HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1) // see the class comment: h2c and Java 17's GOAWAY
                    .connectTimeout(Duration.ofSeconds(2))
                    .build();
            int client = i;
            Thread thread = new Thread(
                    () -> {
                        long n = 0;
                        while (loading.get() && System.nanoTime() - end < 0 && requests.get() < LOAD_MAX_REQUESTS) {
                            int size = 1 + (int) ((n++ * 7919 + client * 104729) % MAX_BODY);
                            String path = "/bytes/" + client + "/" + n + "?size=" + size;
                            try {
                                byte[] body = keepAlive ? getKeptAlive(http, path) : getOnFreshConnection(path);
                                if (!Arrays.equals(body, expected(size))) {
                                    failures.add(path + ": body of " + body.length + " bytes differs");
                                }
                            } catch (Exception e) {
                                failures.add(path + ": " + e);
                            }
                            requests.incrementAndGet();
                        }
                    },
                    (keepAlive ? "keep-alive-" : "fresh-") + i);
            thread.setDaemon(true);
            thread.start();
            clients.add(thread);
        }
    }

    private void stopLoad() throws InterruptedException {
        loading.set(false);
        for (Thread client : clients) {
            client.join(15_000);
        }
    }

    private byte[] getKeptAlive(HttpClient http, String path) throws Exception {
        HttpResponse<byte[]> response = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() != 200) {
            throw new IOException("status " + response.statusCode());
        }
        return response.body();
    }

    /** One request on a new connection that closes after it; no retry of any kind. */
    private byte[] getOnFreshConnection(String path) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2_000);
            socket.setSoTimeout(10_000);
            freshConnections.incrementAndGet();
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            byte[] response = all.toByteArray();
            int headEnd = indexOf(response, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            if (headEnd < 0) {
                throw new IOException("no complete response head in " + response.length + " bytes");
            }
            String head = new String(response, 0, headEnd, StandardCharsets.ISO_8859_1);
            if (!head.startsWith("HTTP/1.1 200 ")) {
                throw new IOException(head.lines().findFirst().orElse(head));
            }
            String length = head.lines()
                    .filter(l -> l.toLowerCase(Locale.ROOT).startsWith("content-length:"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .findFirst()
                    .orElseThrow(() -> new IOException("no Content-Length in " + head));
            byte[] body = Arrays.copyOfRange(response, headEnd + 4, response.length);
            if (body.length != Integer.parseInt(length)) {
                throw new IOException("Content-Length " + length + ", " + body.length + " bytes received");
            }
            return body;
        }
    }

    private static byte[] expected(int size) {
        byte[] body = new byte[size];
        Backends.Digest.pattern(body, 0, size);
        return body;
    }

    private static int indexOf(byte[] data, byte[] pattern) {
        outer:
        for (int i = 0; i + pattern.length <= data.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (data[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private String output(int index) {
        try {
            return Files.readString(dir.resolve("proxy-" + index + ".log"));
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }
}
