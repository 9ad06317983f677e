package dev.proxyfilter.accesslog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.proxyfilter.config.AccessLogFormat;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The two access log formats, that a client cannot forge log lines through them, and the queue between the
 * request threads and the writer: drops counted when it is full, never a blocked caller, everything written at
 * close.
 */
@Timeout(30)
class AccessLogTest {
    private static AccessLog.Entry entry(String path, String userAgent) {
        return new AccessLog.Entry(
                java.time.Instant.now(),
                "203.0.113.7",
                "GET",
                path,
                "q=1",
                "HTTP/1.1",
                200,
                512,
                12_500_000L,
                "web/a",
                10_000_000L,
                1,
                null,
                null,
                userAgent);
    }

    @Test
    void combinedIsNcsaPlusProxyFields() {
        String line = AccessLog.combined(entry("/api/x", "curl/8"));
        assertThat(line)
                .matches(
                        "203\\.0\\.113\\.7 - - \\[\\d\\d/\\w{3}/\\d{4}:\\d\\d:\\d\\d:\\d\\d \\+0000] "
                                + "\"GET /api/x\\?q=1 HTTP/1\\.1\" 200 512 \"-\" \"curl/8\" rt=0\\.013 backend=web/a urt=0\\.010 retries=1 cache=-");
    }

    @Test
    void jsonHasEveryField() {
        String line = AccessLog.json(entry("/api/x", "curl/8"));
        assertThat(line)
                .startsWith("{\"time\":\"")
                .contains(
                        "\"client\":\"203.0.113.7\"",
                        "\"method\":\"GET\"",
                        "\"path\":\"/api/x\"",
                        "\"status\":200",
                        "\"bytes\":512",
                        "\"duration_ms\":12.500",
                        "\"backend\":\"web/a\"",
                        "\"upstream_ms\":10.000",
                        "\"retries\":1",
                        "\"cache\":null",
                        "\"user_agent\":\"curl/8\"")
                .endsWith("}");
    }

    @Test
    void quotesAndControlCharactersCannotForgeLines() {
        String ua = "x\" 200 0 \"-\"\n203.0.113.66 - - [forged]";
        assertThat(AccessLog.combined(entry("/a\"b", ua)))
                .doesNotContain("\n")
                .contains("\\x22")
                .contains("\\x0a");
        assertThat(AccessLog.json(entry("/a\"b", ua)))
                .doesNotContain("\n")
                .contains("\\\"")
                .contains("\\u000a");
    }

    /** A sink that records each line with the thread that wrote it, and can hold the writer. */
    private static final class Sink {
        final List<String> lines = new CopyOnWriteArrayList<>();
        final List<String> threads = new CopyOnWriteArrayList<>();
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release;

        Sink(boolean hold) {
            release = new CountDownLatch(hold ? 1 : 0);
        }

        void accept(String line) {
            entered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            lines.add(line);
            threads.add(Thread.currentThread().getName());
        }
    }

    private static AccessLog.Entry numbered(int n) {
        return entry("/" + n, "ua");
    }

    @Test
    void aFullQueueDropsTheLineAndCountsItWithoutBlockingTheCaller() throws Exception {
        Sink sink = new Sink(true);
        AccessLog log = new AccessLog(2, sink::accept);
        try {
            log.log(AccessLogFormat.COMBINED, numbered(1));
            assertThat(sink.entered.await(5, TimeUnit.SECONDS))
                    .as("the writer took line 1 and is stuck writing it")
                    .isTrue();

            long start = System.nanoTime();
            for (int n = 2; n <= 6; n++) {
                log.log(AccessLogFormat.COMBINED, numbered(n)); // 2 and 3 fill the queue; 4, 5 and 6 do not fit
            }
            long tookNanos = System.nanoTime() - start;

            assertThat(log.queued()).isEqualTo(2);
            assertThat(log.dropped()).isEqualTo(3);
            assertThat(tookNanos).as("log() never waits for the writer").isLessThan(TimeUnit.SECONDS.toNanos(1));
            assertThat(sink.lines).isEmpty();

            sink.release.countDown();
            await().atMost(Duration.ofSeconds(5)).until(() -> sink.lines.size() == 3);
        } finally {
            sink.release.countDown();
            log.close();
        }
        assertThat(sink.lines).hasSize(3);
        assertThat(sink.lines.get(0)).contains("\"GET /1?q=1 ");
        assertThat(sink.lines.get(1)).contains("\"GET /2?q=1 ");
        assertThat(sink.lines.get(2)).contains("\"GET /3?q=1 ");
        assertThat(sink.threads).allMatch(t -> t.startsWith("proxy-access-log-"));
        assertThat(log.dropped()).isEqualTo(3);
    }

    @Test
    void closeWritesEveryQueuedLineInOrderAndStopsTheWriter() {
        Sink sink = new Sink(false);
        AccessLog log = new AccessLog(AccessLog.DEFAULT_CAPACITY, sink::accept);
        for (int n = 0; n < 1000; n++) {
            log.log(n % 2 == 0 ? AccessLogFormat.COMBINED : AccessLogFormat.JSON, numbered(n));
        }

        log.close();

        assertThat(sink.lines).hasSize(1000);
        assertThat(sink.lines.get(998)).contains("\"GET /998?q=1 ");
        assertThat(sink.lines.get(999)).startsWith("{").contains("\"path\":\"/999\"");
        assertThat(log.dropped()).isZero();
        assertThat(Thread.getAllStackTraces().keySet())
                .noneMatch(t -> t.getName().startsWith("proxy-access-log-") && sink.threads.contains(t.getName()));

        log.log(AccessLogFormat.COMBINED, numbered(1000));
        assertThat(sink.lines).hasSize(1001);
        assertThat(sink.threads.get(1000))
                .as("after close, on the caller's thread")
                .isEqualTo(Thread.currentThread().getName());
        log.close(); // idempotent
    }

    @Test
    void closeGivesUpOnAStuckWriterWithinItsTimeout() throws Exception {
        Sink sink = new Sink(true);
        AccessLog log = new AccessLog(16, sink::accept);
        try {
            log.log(AccessLogFormat.COMBINED, numbered(1));
            log.log(AccessLogFormat.COMBINED, numbered(2));
            assertThat(sink.entered.await(5, TimeUnit.SECONDS)).isTrue();

            long start = System.nanoTime();
            log.close();
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            assertThat(tookMillis)
                    .isGreaterThanOrEqualTo(AccessLog.CLOSE_TIMEOUT.toMillis() - 50)
                    .isLessThan(AccessLog.CLOSE_TIMEOUT.toMillis() + 3000);
        } finally {
            sink.release.countDown();
        }
    }

    @Test
    void aLineTheLoggingBackendRefusesIsCountedAndTheNextOnesAreWritten() {
        List<String> written = new CopyOnWriteArrayList<>();
        AccessLog log = new AccessLog(16, line -> {
            if (line.contains("/boom")) {
                throw new IllegalStateException("appender failed");
            }
            written.add(line);
        });
        log.log(AccessLogFormat.COMBINED, entry("/boom", "ua"));
        log.log(AccessLogFormat.COMBINED, entry("/fine", "ua"));

        log.close();

        assertThat(log.dropped()).isEqualTo(1);
        assertThat(written).singleElement().asString().contains("GET /fine");
    }

    /** The formatting shortcuts print exactly what String.format and Instant.toString print. */
    @Test
    void numbersAndTimesAreFormattedAsTheJdkWould() {
        java.util.Random random = new java.util.Random(14);
        for (int i = 0; i < 40_000; i++) {
            long nanos = switch (i % 4) {
                case 0 -> random.nextInt(2_000_000);
                case 1 -> random.nextInt(1000) * 500_000L; // exactly half a unit, often
                case 2 -> random.nextInt(1000) * 500L;
                default -> (long) (random.nextDouble() * 120e9);
            };
            assertThat(AccessLog.thousandths(new StringBuilder(), nanos, 1_000_000)
                            .toString())
                    .as("%d ns in seconds", nanos)
                    .isEqualTo(String.format(java.util.Locale.ROOT, "%.3f", nanos / 1e9));
            assertThat(AccessLog.thousandths(new StringBuilder(), nanos, 1_000).toString())
                    .as("%d ns in milliseconds", nanos)
                    .isEqualTo(String.format(java.util.Locale.ROOT, "%.3f", nanos / 1e6));
        }
        java.time.Instant base = java.time.Instant.parse("2026-12-07T10:00:00Z");
        for (int i = 0; i < 5_000; i++) {
            int nano = switch (i % 4) {
                case 0 -> 0;
                case 1 -> random.nextInt(1000) * 1_000_000;
                case 2 -> random.nextInt(1_000_000) * 1000;
                default -> random.nextInt(1_000_000_000);
            };
            java.time.Instant time = base.plusSeconds(random.nextInt(3)).plusNanos(nano);
            assertThat(AccessLog.isoTime(time)).isEqualTo(time.toString());
            assertThat(AccessLog.ncsaTime(time))
                    .isEqualTo(java.time.format.DateTimeFormatter.ofPattern(
                                    "dd/MMM/yyyy:HH:mm:ss Z", java.util.Locale.ROOT)
                            .withZone(java.time.ZoneOffset.UTC)
                            .format(time));
        }
    }
}
