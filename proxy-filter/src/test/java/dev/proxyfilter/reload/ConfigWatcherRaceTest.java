package dev.proxyfilter.reload;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ConfigWatcher} racing other writers of its directory (issue 14). An access log redirected next to the
 * configuration raised over a thousand events a second, each of which restarted the quiet period: no reload
 * ran until the load stopped. Each change here must be reloaded within {@link #DEADLINE} while another thread
 * floods the directory with events, and nothing else may cause a reload. Real files, real inotify; each flood
 * is bounded in count and time.
 */
@Timeout(value = 40, unit = TimeUnit.SECONDS)
class ConfigWatcherRaceTest {
    /** Issue 14's bound on how long a write may wait for its reload. */
    private static final Duration DEADLINE = Duration.ofSeconds(2);

    private static final Duration FLOOD_LIMIT = Duration.ofSeconds(20);
    private static final long FLOOD_MAX_EVENTS = 200_000;

    @TempDir
    Path dir;

    /** The content each reload read, in order. */
    private final List<String> reloads = new CopyOnWriteArrayList<>();

    private ConfigWatcher watcher;
    private Thread flood;
    private final AtomicBoolean flooding = new AtomicBoolean(true);
    private final AtomicLong floodEvents = new AtomicLong();
    private OutputStream log;

    @AfterEach
    void stop() throws Exception {
        flooding.set(false);
        if (flood != null) {
            flood.join(5000);
            assertThat(flood.isAlive()).isFalse();
        }
        if (log != null) {
            log.close();
        }
        if (watcher != null) {
            watcher.close();
        }
    }

    private void watch(Path file) {
        watch(file, Duration.ZERO);
    }

    /** Starts the watcher; each reload reads the file, then takes {@code reloadTime} more. */
    private void watch(Path file, Duration reloadTime) {
        watcher = ConfigWatcher.start(file, ConfigWatcher.DEFAULT_DEBOUNCE, () -> {
            try {
                reloads.add(Files.readString(file));
                Thread.sleep(reloadTime.toMillis());
            } catch (IOException e) {
                reloads.add("unreadable: " + e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    /** Runs {@code step} on a daemon thread until the test ends, {@link #FLOOD_LIMIT} passes, or the count is reached. */
    private void flood(String name, FloodStep step) {
        long end = System.nanoTime() + FLOOD_LIMIT.toNanos();
        flood = new Thread(
                () -> {
                    try {
                        for (long i = 0; flooding.get() && i < FLOOD_MAX_EVENTS && System.nanoTime() - end < 0; i++) {
                            step.run(i);
                            floodEvents.incrementAndGet();
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                },
                name);
        flood.setDaemon(true);
        flood.start();
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> floodEvents.get() > 100);
    }

    /** An access log in the configuration's directory: one unbuffered write per line, about 2000 a second. */
    private void floodWithLogLines() throws IOException {
        log = Files.newOutputStream(dir.resolve("proxy.log"), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        flood("log-flood", i -> {
            log.write(("127.0.0.1 - - \"GET /" + i + " HTTP/1.1\" 200 12\n").getBytes(StandardCharsets.US_ASCII));
            LockSupport.parkNanos(500_000);
        });
    }

    /** Files created and deleted under new names: events the JDK cannot fold into one another. */
    private void floodWithNewFiles() {
        flood("create-flood", i -> {
            Path created = dir.resolve("spool-" + i);
            Files.writeString(created, "x");
            Files.delete(created);
        });
    }

    private void writeAndAwaitReload(String content, Write write) throws Exception {
        int before = reloads.size();
        long start = System.nanoTime();
        write.run(content);
        Awaitility.await().atMost(DEADLINE).pollInterval(Duration.ofMillis(20)).until(() -> reloads.size() > before);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(reloads).as("reloaded after %d ms", millis).hasSize(before + 1);
        assertThat(reloads.get(before)).isEqualTo(content);
    }

    private Write renameOver(Path file) {
        return content -> {
            Path staged = dir.resolve(".proxy.properties.tmp");
            Files.writeString(staged, content);
            Files.move(staged, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        };
    }

    @Test
    void aRenameOverTheFileIsReloadedWhileALogInTheSameDirectoryIsWrittenContinuously() throws Exception {
        Path file = Files.writeString(dir.resolve("proxy.properties"), "generation=1\n");
        watch(file);
        floodWithLogLines();

        // The flood alone is no change.
        Thread.sleep(1200);
        assertThat(reloads).isEmpty();

        for (int generation = 2; generation <= 4; generation++) {
            writeAndAwaitReload("generation=" + generation + "\n", renameOver(file));
        }
        writeAndAwaitReload("generation=5 in place\n", content -> Files.writeString(file, content));
        assertThat(floodEvents.get()).as("the log was written all along").isGreaterThan(1000);
    }

    @Test
    void aChangeIsReloadedWhileOtherFilesAreCreatedAndDeletedContinuously() throws Exception {
        Path file = Files.writeString(dir.resolve("proxy.properties"), "generation=1\n");
        watch(file);
        floodWithNewFiles();

        Thread.sleep(1200);
        assertThat(reloads).isEmpty();

        writeAndAwaitReload("generation=2\n", content -> Files.writeString(file, content));
        writeAndAwaitReload("generation=3\n", renameOver(file));
    }

    /**
     * Past 512 pending events a watch key drops them all for one OVERFLOW, the config file's among them. A slow
     * reload leaves the key undrained long enough for that; the file itself then tells that it changed.
     */
    @Test
    void aChangeLostInAnOverflowIsStillReloadedAndAnOverflowAloneReloadsNothing() throws Exception {
        Duration slowReload = Duration.ofMillis(600);
        Path file = Files.writeString(dir.resolve("proxy.properties"), "generation=1\n");
        floodWithNewFiles();
        assertThat(overflowsWithin(slowReload))
                .as("the flood overflows a key left alone that long")
                .isTrue();
        watch(file, slowReload);

        writeAndAwaitReload("generation=2\n", content -> Files.writeString(file, content));
        // Written during that slow reload, and so (most likely) lost in an overflow.
        writeAndAwaitReload("generation=3\n", renameOver(file));
        Thread.sleep(1200);
        assertThat(reloads).as("overflows alone").hasSize(2);
    }

    private boolean overflowsWithin(Duration wait) throws Exception {
        try (WatchService probe = FileSystems.getDefault().newWatchService()) {
            dir.register(probe, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_DELETE);
            Thread.sleep(wait.toMillis());
            WatchKey key = probe.poll();
            return key != null && key.pollEvents().stream().anyMatch(e -> e.kind() == StandardWatchEventKinds.OVERFLOW);
        }
    }

    /** A link to a file in another directory, edited in place: no event of the watched directory says so. */
    @Test
    void aLinkedFileEditedElsewhereIsReloadedWithoutAnyEvent() throws Exception {
        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
        Path target = Files.writeString(elsewhere.resolve("proxy.properties"), "generation=1\n");
        Path watched = Files.createDirectories(dir.resolve("etc"));
        Path file = Files.createSymbolicLink(watched.resolve("proxy.properties"), target);
        watch(file);

        writeAndAwaitReload("generation=2\n", content -> Files.writeString(target, content));
        Thread.sleep(800);
        assertThat(reloads).hasSize(1);
    }

    /** A Kubernetes ConfigMap volume: file -> ..data/file, ..data -> ..TIMESTAMP/, ..data swapped by a rename. */
    @Test
    void aConfigMapDataSwapIsReloaded() throws Exception {
        Path volume = Files.createDirectories(dir.resolve("volume"));
        Path first = Files.createDirectories(volume.resolve("..2026_01_01_00_00_00.1"));
        Files.writeString(first.resolve("proxy.properties"), "generation=1\n");
        Files.createSymbolicLink(volume.resolve("..data"), first.getFileName());
        Path file = Files.createSymbolicLink(volume.resolve("proxy.properties"), Path.of("..data/proxy.properties"));
        watch(file);

        for (int generation = 2; generation <= 3; generation++) {
            int g = generation;
            writeAndAwaitReload("generation=" + g + "\n", content -> {
                Path next = Files.createDirectories(volume.resolve("..2026_01_01_00_00_00." + g));
                Files.writeString(next.resolve("proxy.properties"), content);
                Path link = Files.createSymbolicLink(volume.resolve("..data_tmp"), next.getFileName());
                Files.move(link, volume.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);
            });
        }
    }

    private interface FloodStep {
        void run(long i) throws IOException;
    }

    private interface Write {
        void run(String content) throws Exception;
    }
}
