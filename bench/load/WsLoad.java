import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The WebSocket load of bench/load/websocket.sh, with the JDK's own client ({@code java.net.http.WebSocket}):
 * CONNECTIONS sessions each send one binary message of SIZE bytes, wait for its echo, check its length and
 * send the next, for SECONDS seconds (after WARMUP seconds not counted). Prints one line:
 *
 * <pre>
 * MESSAGES n RATE msgs_per_s P50_US p50 P99_US p99 ERRORS n
 * </pre>
 *
 * where the percentiles are the round-trip times of the measured messages, in microseconds.
 *
 * <pre>
 * java bench/load/WsLoad.java URI CONNECTIONS SIZE WARMUP SECONDS
 * </pre>
 */
public final class WsLoad {
    public static void main(String[] args) throws Exception {
        URI uri = URI.create(args[0]);
        int connections = Integer.parseInt(args[1]);
        int size = Integer.parseInt(args[2]);
        long warmupNanos = TimeUnit.SECONDS.toNanos(Long.parseLong(args[3]));
        long measureNanos = TimeUnit.SECONDS.toNanos(Long.parseLong(args[4]));
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        byte[] payload = new byte[size];
        new java.util.Random(8).nextBytes(payload);

        long start = System.nanoTime();
        long measureFrom = start + warmupNanos;
        long end = measureFrom + measureNanos;
        AtomicLong errors = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        List<Session> sessions = new ArrayList<>();
        for (int i = 0; i < connections; i++) {
            Session session = new Session(payload, measureFrom, end, errors);
            session.socket = http.newWebSocketBuilder().buildAsync(uri, session).get(10, TimeUnit.SECONDS);
            sessions.add(session);
        }
        for (Session session : sessions) {
            session.sendNext();
        }
        for (Session session : sessions) {
            session.done.await(end - System.nanoTime() + TimeUnit.SECONDS.toNanos(30), TimeUnit.NANOSECONDS);
        }
        stop.set(true);
        int total = 0;
        for (Session session : sessions) {
            total += session.count;
        }
        long[] all = new long[total];
        int at = 0;
        for (Session session : sessions) {
            System.arraycopy(session.rtts, 0, all, at, session.count);
            at += session.count;
            session.socket.sendClose(WebSocket.NORMAL_CLOSURE, "done");
        }
        Arrays.sort(all);
        double seconds = measureNanos / 1e9;
        System.out.printf(
                "MESSAGES %d RATE %.0f P50_US %d P99_US %d ERRORS %d%n",
                total,
                total / seconds,
                total == 0 ? -1 : all[(int) (total * 0.50)] / 1000,
                total == 0 ? -1 : all[Math.min(total - 1, (int) (total * 0.99))] / 1000,
                errors.get());
        System.exit(0);
    }

    /** One connection: one message in flight at a time. */
    private static final class Session implements WebSocket.Listener {
        private final byte[] payload;
        private final long measureFrom;
        private final long end;
        private final AtomicLong errors;
        final CountDownLatch done = new CountDownLatch(1);
        volatile WebSocket socket;
        long[] rtts = new long[1 << 16];
        int count;
        private long sentAt;
        private int received;

        Session(byte[] payload, long measureFrom, long end, AtomicLong errors) {
            this.payload = payload;
            this.measureFrom = measureFrom;
            this.end = end;
            this.errors = errors;
        }

        void sendNext() {
            sentAt = System.nanoTime();
            received = 0;
            socket.sendBinary(ByteBuffer.wrap(payload), true);
        }

        @Override
        public void onOpen(WebSocket webSocket) {
            webSocket.request(1);
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            received += data.remaining();
            if (last) {
                long now = System.nanoTime();
                if (received != payload.length) {
                    errors.incrementAndGet();
                }
                if (sentAt >= measureFrom && now <= end) {
                    if (count == rtts.length) {
                        rtts = Arrays.copyOf(rtts, count * 2);
                    }
                    rtts[count++] = now - sentAt;
                }
                if (now < end) {
                    sendNext();
                } else {
                    done.countDown();
                }
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            errors.incrementAndGet();
            done.countDown();
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            done.countDown();
            return CompletableFuture.completedFuture(null);
        }
    }
}
