package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.testing.Backends;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.RawHttp;
import dev.proxyfilter.testing.SocketBackend;
import dev.proxyfilter.testing.TestConfigs;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A slow client downloading 100 MiB through the proxy (README: "request and response bodies stream both ways
 * with back-pressure"). The backend writes as fast as the proxy takes the bytes and counts what it wrote; the
 * client, with a small receive buffer, reads a few MiB slowly and then stops. Once the backend has come to a
 * halt, what it wrote beyond what the client read sits somewhere in between: in the queues of the four sockets
 * on the way (the kernel's, which Linux lists in {@code /proc/net/tcp}) or in the proxy. The test accounts for
 * every byte: the proxy holds at most {@link #PROXY_BOUND}, the rest is in the kernel, and the backend is
 * throttled far below the 100 MiB. Then the client reads the rest at full speed, byte for byte.
 */
@Timeout(90)
class SlowClientIntegrationTest {
    private static final long TOTAL = 100L * 1024 * 1024;
    private static final int SLOW_BYTES = 4 * 1024 * 1024;
    private static final int SLOW_STEP = 64 * 1024;
    /** What the proxy may hold of the body: a few chunks in flight (measured: under 1 KiB, the heads' bytes). */
    private static final long PROXY_BOUND = 1024 * 1024;
    /**
     * Where {@code /proc/net/tcp} is missing, what may sit between the backend and the client at all. Linux
     * autotunes the proxy's two socket buffers to a few MiB each on loopback (measured: the backend 3 to 13 MiB
     * ahead, with tcp_rmem max 32 MiB and tcp_wmem max 4 MiB).
     */
    private static final long WINDOW = 24L * 1024 * 1024;

    /**
     * A backend on a bare socket with a 64 KiB send buffer (no autotuning on its side): answers every request
     * with {@link #TOTAL} bytes of {@link Backends.Digest#pattern} as fast as its writes go, counting what they
     * handed to the kernel.
     */
    private static SocketBackend streaming(AtomicLong written, AtomicInteger proxyPort) {
        return SocketBackend.start(socket -> {
            socket.setSendBufferSize(64 * 1024);
            proxyPort.set(socket.getPort());
            if (SocketBackend.readHead(socket.getInputStream()).isEmpty()) {
                return;
            }
            OutputStream out = socket.getOutputStream();
            out.write(SocketBackend.ascii("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                    + "Content-Length: " + TOTAL + "\r\n\r\n"));
            byte[] chunk = new byte[65536];
            long sent = 0;
            while (sent < TOTAL) {
                int n = (int) Math.min(chunk.length, TOTAL - sent);
                Backends.Digest.pattern(chunk, sent, n);
                out.write(chunk, 0, n); // blocks while the proxy takes nothing
                sent += n;
                written.set(sent);
            }
            out.flush();
        });
    }

    @ParameterizedTest
    @EnumSource(
            value = ProxyAdapter.class,
            names = {"HANDLER_IN_JETTY", "FAST_PATH", "FILTER_IN_JETTY", "FILTER_IN_TOMCAT"})
    void aSlowClientThrottlesTheBackendAndGetsEveryByte(ProxyAdapter adapter) throws Exception {
        AtomicLong written = new AtomicLong();
        AtomicInteger upstreamPort = new AtomicInteger();
        try (SocketBackend backend = streaming(written, upstreamPort);
                ProxyAdapter.Running proxy = adapter.start(TestConfigs.builder()
                        .pool("web", StrategyName.ROUND_ROBIN, "a", backend.url(), 1)
                        .route("main", "/", "web")
                        .build());
                Socket socket = new Socket()) {
            socket.setReceiveBufferSize(32 * 1024);
            socket.connect(
                    new InetSocketAddress(proxy.uri().getHost(), proxy.uri().getPort()), 5_000);
            socket.setSoTimeout(15_000);
            socket.getOutputStream()
                    .write(("GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                            .getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = new BufferedInputStream(socket.getInputStream(), 8192);
            assertThat(RawHttp.line(in)).startsWith("HTTP/1.1 200");
            String contentLength = null;
            for (String line = RawHttp.line(in); line != null && !line.isEmpty(); line = RawHttp.line(in)) {
                if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
                    contentLength = line.substring(15).trim();
                }
            }
            assertThat(contentLength).isEqualTo(Long.toString(TOTAL));

            Body body = new Body(in);
            // Slowly: 64 KiB every 20 ms, then not at all.
            while (body.read < SLOW_BYTES) {
                body.readExactly(SLOW_STEP);
                Thread.sleep(20);
            }
            long halted = awaitHalt(written);
            long ahead = halted - body.read;
            assertThat(halted).as("the backend is throttled, not done").isLessThan(TOTAL / 2);
            Map<String, Long> queues = kernelQueues();
            if (queues.isEmpty()) {
                assertThat(ahead).as("bytes between the backend and the client").isLessThanOrEqualTo(WINDOW);
            } else {
                int client = socket.getLocalPort();
                int listener = proxy.uri().getPort();
                int upstream = upstreamPort.get();
                int origin = backend.url().getPort();
                long inKernel = 0;
                for (String connection : List.of(
                        origin + ">" + upstream, // the backend's send queue
                        upstream + ">" + origin, // the proxy's receive queue from it
                        listener + ">" + client, // the proxy's send queue to the client
                        client + ">" + listener)) { // the client's receive queue
                    assertThat(queues).as("established connections").containsKey(connection);
                    inKernel += queues.get(connection);
                }
                assertThat(ahead - inKernel)
                        .as(
                                "%s: bytes the proxy holds (the backend %d KiB ahead of the client, %d KiB in socket"
                                        + " queues)",
                                adapter, ahead >> 10, inKernel >> 10)
                        .isLessThanOrEqualTo(PROXY_BOUND);
            }

            // Fast: the rest, every byte checked; a larger receive buffer only saves time.
            socket.setReceiveBufferSize(1024 * 1024);
            body.readExactly(TOTAL - body.read);
            assertThat(in.read()).as("nothing after the body").isEqualTo(-1);
            // The backend's thread counts its last write after the kernel took it: the client may read the
            // last byte first.
            Awaitility.await()
                    .atMost(java.time.Duration.ofSeconds(5))
                    .untilAsserted(() -> assertThat(written.get()).isEqualTo(TOTAL));
        }
    }

    /** The backend's count once it stopped moving for 300 ms (at most 10 s). */
    private static long awaitHalt(AtomicLong written) {
        long[] last = {-1};
        long[] since = {System.nanoTime()};
        Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(10))
                .pollInterval(java.time.Duration.ofMillis(50))
                .until(() -> {
                    long now = written.get();
                    if (now != last[0]) {
                        last[0] = now;
                        since[0] = System.nanoTime();
                        return false;
                    }
                    return System.nanoTime() - since[0] > 300_000_000L;
                });
        return last[0];
    }

    /**
     * Bytes in the kernel's send and receive queues of each established TCP connection of this host, keyed
     * {@code localPort>remotePort}, from Linux's {@code /proc/net/tcp} and {@code tcp6} (write_seq - snd_una
     * and rcv_nxt - copied_seq); empty elsewhere.
     */
    private static Map<String, Long> kernelQueues() throws IOException {
        Map<String, Long> queued = new HashMap<>();
        for (String file : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path table = Path.of(file);
            if (!Files.isReadable(table)) {
                continue;
            }
            List<String> lines = Files.readAllLines(table, StandardCharsets.US_ASCII);
            for (String line : lines.subList(1, lines.size())) {
                String[] fields = line.trim().split("\\s+");
                if (!fields[3].equals("01")) {
                    continue; // not ESTABLISHED
                }
                String[] queues = fields[4].split(":");
                queued.merge(
                        port(fields[1]) + ">" + port(fields[2]),
                        Long.parseLong(queues[0], 16) + Long.parseLong(queues[1], 16),
                        Long::sum);
            }
        }
        return queued;
    }

    private static int port(String hexAddress) {
        return Integer.parseInt(hexAddress.substring(hexAddress.lastIndexOf(':') + 1), 16);
    }

    /** The response body as read so far, checked against the pattern as it comes. */
    private static final class Body {
        private final InputStream in;
        private final byte[] buffer = new byte[65536];
        private final byte[] expected = new byte[65536];
        long read;

        Body(InputStream in) {
            this.in = in;
        }

        void readExactly(long bytes) throws IOException {
            long end = read + bytes;
            while (read < end) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, end - read));
                if (n < 0) {
                    throw new IOException("the body ended at byte " + read + " of " + TOTAL);
                }
                Backends.Digest.pattern(expected, read, n);
                if (!Arrays.equals(buffer, 0, n, expected, 0, n)) {
                    throw new AssertionError("wrong bytes between " + read + " and " + (read + n));
                }
                read += n;
            }
        }
    }
}
