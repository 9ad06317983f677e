package dev.proxyfilter.accesslog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.proxyfilter.config.AccessLogFormat;
import dev.proxyfilter.config.AccessLogTarget;
import dev.proxyfilter.metrics.ProxyMetrics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The access log written directly to a file ({@code log.access.to=/path}): bare lines, in batches, UTF-8, none lost
 * or cut, and a rotator's rename followed by a new file, as logrotate without {@code copytruncate} expects.
 */
@Timeout(30)
class DirectSinkTest {
    @TempDir
    Path folder;

    private final ProxyMetrics metrics = new ProxyMetrics();

    @AfterEach
    void closeMetrics() {
        metrics.close();
    }

    private static AccessLog.Entry entry(String path, String userAgent) {
        return new AccessLog.Entry(
                Instant.parse("2026-12-07T10:00:00Z"),
                "127.0.0.1",
                "GET",
                path,
                null,
                "HTTP/1.1",
                200,
                100,
                1_000_000L,
                "web/a",
                500_000L,
                0,
                null,
                null,
                userAgent);
    }

    @Test
    void linesAreWrittenBareAndWholeInUtf8() throws Exception {
        Path file = folder.resolve("access.log");
        AccessLog log = AccessLog.start(metrics, AccessLogTarget.file(file));
        try {
            assertThat(log.enabled(AccessLogFormat.COMBINED))
                    .as("written whatever the logger's level (the tests keep dev.proxyfilter.access quiet)")
                    .isTrue();
            assertThat(log.enabled(AccessLogFormat.OFF)).isFalse();
            for (int n = 0; n < 1000; n++) {
                log.log(AccessLogFormat.COMBINED, entry("/n/" + n, "agent é € 😀"));
            }
            log.log(AccessLogFormat.JSON, entry("/json", "j"));
        } finally {
            log.close();
        }

        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertThat(lines).hasSize(1001);
        for (int n = 0; n < 1000; n++) {
            assertThat(lines.get(n)).isEqualTo(AccessLog.combined(entry("/n/" + n, "agent é € 😀")));
        }
        assertThat(lines.get(1000)).isEqualTo(AccessLog.json(entry("/json", "j")));
        assertThat(log.dropped()).isZero();
    }

    @Test
    void aLineLargerThanTheBufferIsWrittenWhole() throws Exception {
        Path file = folder.resolve("long.log");
        String longPath = "/" + "x€".repeat(50_000); // 150,001 bytes in UTF-8, the buffer holds 64 KiB
        AccessLog log = AccessLog.start(metrics, AccessLogTarget.file(file));
        try {
            log.log(AccessLogFormat.COMBINED, entry("/before", "a"));
            log.log(AccessLogFormat.COMBINED, entry(longPath, "b"));
            log.log(AccessLogFormat.COMBINED, entry("/after", "c"));
        } finally {
            log.close();
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertThat(lines)
                .containsExactly(
                        AccessLog.combined(entry("/before", "a")),
                        AccessLog.combined(entry(longPath, "b")),
                        AccessLog.combined(entry("/after", "c")));
    }

    @Test
    void aRenamedFileIsFollowedByANewOneAndNoLineIsLost() throws Exception {
        Path file = folder.resolve("access.log");
        Path rotated = folder.resolve("access.log.1");
        AccessLog log = AccessLog.start(metrics, AccessLogTarget.file(file));
        List<String> written = new ArrayList<>();
        try {
            for (int n = 0; n < 10; n++) {
                log.log(AccessLogFormat.COMBINED, entry("/old/" + n, "a"));
                written.add(AccessLog.combined(entry("/old/" + n, "a")));
            }
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> Files.readAllLines(file).size() == 10);
            Files.move(file, rotated); // logrotate's default: rename, and the writer is to notice

            // Lines keep coming; within about a second of the rename they land in a new file of that name.
            int n = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!Files.exists(file) && System.nanoTime() < deadline) {
                log.log(AccessLogFormat.COMBINED, entry("/during/" + n, "a"));
                written.add(AccessLog.combined(entry("/during/" + n, "a")));
                n++;
                Thread.sleep(20);
            }
            assertThat(file).as("opened again after the rename").exists();
            for (int m = 0; m < 10; m++) {
                log.log(AccessLogFormat.COMBINED, entry("/new/" + m, "a"));
                written.add(AccessLog.combined(entry("/new/" + m, "a")));
            }
        } finally {
            log.close();
        }

        List<String> old = Files.readAllLines(rotated, StandardCharsets.UTF_8);
        List<String> fresh = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertThat(old)
                .as("the rotated file begins with the lines before the rename")
                .startsWith(written.get(0));
        assertThat(fresh).as("the new file ends with the lines after it").endsWith(written.get(written.size() - 1));
        List<String> all = new ArrayList<>(old);
        all.addAll(fresh);
        assertThat(all).as("every line once, in order, across both files").isEqualTo(written);
        assertThat(log.dropped()).isZero();
    }

    @Test
    void aFileThatCannotBeOpenedStopsTheStartNamingTheKey() {
        Path file = folder.resolve("missing-folder/access.log");
        assertThatThrownBy(() -> AccessLog.start(metrics, AccessLogTarget.file(file)))
                .isInstanceOf(UncheckedIOException.class)
                .hasMessageStartingWith("log.access.to=" + file + ": cannot open the file for appending")
                .hasCauseInstanceOf(IOException.class);
    }
}
