package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.testing.Backends;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.TestBackend;
import dev.proxyfilter.testing.TestConfigs;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * 100 MiB up and down through every adapter, byte-identical (SHA-256), and proof that neither
 * direction is buffered whole: each side stops half-way until the far end has seen the first
 * megabytes, which can only happen if the proxy passes them on as they come.
 */
@Tag("slow")
@Timeout(120)
class StreamingIntegrationTest {
    private static final long SIZE = 100L * 1024 * 1024;
    private static final long GATE = 8L * 1024 * 1024;
    private static final long SEEN = 4L * 1024 * 1024;
    private static String expectedSha;

    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void digestOfThePattern() {
        MessageDigest digest = Backends.sha256();
        byte[] chunk = new byte[65536];
        for (long pos = 0; pos < SIZE; pos += chunk.length) {
            int n = (int) Math.min(chunk.length, SIZE - pos);
            Backends.Digest.pattern(chunk, pos, n);
            digest.update(chunk, 0, n);
        }
        expectedSha = HexFormat.of().formatHex(digest.digest());
    }

    /** Reads the upload, counting bytes as they arrive; answers size and SHA-256. */
    static final class CountingSink extends HttpServlet {
        private static final long serialVersionUID = 1L;
        final AtomicLong received = new AtomicLong();

        @Override
        protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            MessageDigest digest = Backends.sha256();
            InputStream in = req.getInputStream();
            byte[] buffer = new byte[65536];
            long total = 0;
            int read;
            while ((read = in.read(buffer)) >= 0) {
                digest.update(buffer, 0, read);
                total += read;
                received.set(total);
            }
            resp.getWriter().print(total + " " + HexFormat.of().formatHex(digest.digest()));
        }
    }

    /** Streams the pattern, pausing after {@link #GATE} bytes until the client has seen {@link #SEEN}. */
    static final class GatedSource extends HttpServlet {
        private static final long serialVersionUID = 1L;
        final AtomicLong clientSaw = new AtomicLong();
        volatile boolean gateOpened;

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            resp.setContentType("application/octet-stream");
            if (req.getParameter("chunked") == null) {
                resp.setContentLengthLong(SIZE);
            }
            ServletOutputStream out = resp.getOutputStream();
            byte[] chunk = new byte[65536];
            for (long pos = 0; pos < SIZE; pos += chunk.length) {
                if (pos == GATE) {
                    out.flush();
                    gateOpened = awaitAtLeast(clientSaw, SEEN);
                }
                int n = (int) Math.min(chunk.length, SIZE - pos);
                Backends.Digest.pattern(chunk, pos, n);
                out.write(chunk, 0, n);
            }
        }
    }

    /** The pattern as a stream that pauses after {@link #GATE} bytes until the backend has {@link #SEEN}. */
    static final class GatedUpload extends InputStream {
        private final AtomicLong backendReceived;
        private long pos;
        volatile boolean gateOpened;

        GatedUpload(AtomicLong backendReceived) {
            this.backendReceived = backendReceived;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (pos >= SIZE) {
                return -1;
            }
            if (pos == GATE) {
                gateOpened = awaitAtLeast(backendReceived, SEEN);
            }
            long limit = pos < GATE ? GATE : SIZE;
            int n = (int) Math.min(len, limit - pos);
            byte[] tmp = new byte[n];
            Backends.Digest.pattern(tmp, pos, n);
            System.arraycopy(tmp, 0, b, off, n);
            pos += n;
            return n;
        }
    }

    private static boolean awaitAtLeast(AtomicLong counter, long value) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (counter.get() < value) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                return false;
            }
        }
        return true;
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void hundredMebibytesUpAndDownStreamedAndIntact(ProxyAdapter adapter) throws Exception {
        CountingSink sink = new CountingSink();
        GatedSource source = new GatedSource();
        try (TestBackend up = TestBackend.start("sink", sink);
                TestBackend down = TestBackend.start("source", source);
                ProxyAdapter.Running proxy = adapter.start(TestConfigs.builder()
                        .pool("up", StrategyName.ROUND_ROBIN, "sink", up.url(), 1)
                        .pool("down", StrategyName.ROUND_ROBIN, "source", down.url(), 1)
                        .route("up", "/up", "up")
                        .route("down", "/down", "down")
                        .build())) {

            GatedUpload upload = new GatedUpload(sink.received);
            HttpResponse<String> uploaded = http.send(
                    HttpRequest.newBuilder(proxy.uri().resolve("/up"))
                            .POST(HttpRequest.BodyPublishers.fromPublisher(
                                    HttpRequest.BodyPublishers.ofInputStream(() -> upload), SIZE))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(upload.gateOpened)
                    .as("backend saw the upload's first MiBs before the client sent the rest")
                    .isTrue();
            assertThat(uploaded.statusCode()).isEqualTo(200);
            assertThat(uploaded.body()).isEqualTo(SIZE + " " + expectedSha);

            for (String query : new String[] {"", "?chunked"}) {
                source.clientSaw.set(0);
                HttpResponse<InputStream> response = http.send(
                        HttpRequest.newBuilder(proxy.uri().resolve("/down" + query))
                                .build(),
                        HttpResponse.BodyHandlers.ofInputStream());
                assertThat(response.statusCode()).isEqualTo(200);
                MessageDigest digest = Backends.sha256();
                long total = 0;
                try (InputStream in = response.body()) {
                    byte[] buffer = new byte[65536];
                    int read;
                    while ((read = in.read(buffer)) >= 0) {
                        digest.update(buffer, 0, read);
                        total += read;
                        source.clientSaw.set(total);
                    }
                }
                assertThat(source.gateOpened)
                        .as("client saw the download's first MiBs before the backend sent the rest")
                        .isTrue();
                assertThat(total).isEqualTo(SIZE);
                assertThat(HexFormat.of().formatHex(digest.digest())).isEqualTo(expectedSha);
            }
        }
    }
}
