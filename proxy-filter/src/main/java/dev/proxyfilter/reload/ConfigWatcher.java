package dev.proxyfilter.reload;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches one configuration file and runs a reload when it changes, on one daemon thread that
 * {@link #close()} stops (a webapp undeploy must not leave it behind).
 *
 * <p>What counts as a change is the file's fingerprint: the path its symlinks lead to, its file key (device
 * and inode), size, modification time and a checksum of its content. A Kubernetes ConfigMap volume swaps its
 * {@code ..data} link and leaves the file's own link alone; resolving the links at each look sees that. A
 * change starts a quiet period ({@code reload.debounce}, by default {@link #DEFAULT_DEBOUNCE}) and the reload
 * runs once the fingerprint stayed the same for that long, so that an editor's several writes make one reload
 * and a half-written file is not read while the writes go on. A reload that finds the file invalid or missing
 * is rejected by the engine and the old configuration keeps serving.
 *
 * <p>Events of the file's directory only say when to look, because other files share the directory: an access
 * log redirected next to the configuration raises a thousand events a second under load, and a quiet period
 * that any of them restarted never came (issue 14). So:
 *
 * <ul>
 *   <li>only a change of the fingerprint restarts the quiet period; events of other files are drained and
 *       dropped;
 *   <li>an event naming the file or {@code ..data}, or an {@code OVERFLOW} (the JDK dropped events, the file's
 *       may be among them), makes the thread look at once;
 *   <li>it also looks every 500 ms whatever the events say, which catches what no event of this directory
 *       reports: a link to a file elsewhere edited in place, a watch key made invalid;
 *   <li>after each wake-up that drained events it pauses 20 ms, so that a flood coalesces in the watch key (the
 *       JDK counts repeats of an event rather than queueing them) instead of waking this thread, and contending
 *       for the key's lock with the JDK's poller thread, once per event.
 * </ul>
 */
public final class ConfigWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigWatcher.class);

    /** The quiet period after the last change before reloading. */
    public static final Duration DEFAULT_DEBOUNCE = Duration.ofMillis(300);

    /** How often the file is looked at when no event names it. */
    private static final long CHECK_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    /** The least time between two wake-ups that drained events: at most 50 a second under any flood. */
    private static final long FLOOD_PAUSE_MILLIS = 20;

    private static final Path KUBERNETES_DATA = Path.of("..data");

    private final Path file;
    private final WatchService watchService;
    private final Thread thread;
    private final long debounceNanos;
    private final Runnable reload;
    private volatile boolean running = true;

    /** The fingerprint seen last, by {@link #start} and then by the watcher's thread only. */
    private Fingerprint seen;

    private ConfigWatcher(Path file, WatchService watchService, Duration debounce, Runnable reload) {
        this.file = file;
        this.watchService = watchService;
        this.debounceNanos = debounce.toNanos();
        this.reload = reload;
        this.thread = new Thread(this::run, "proxy-config-watcher");
        thread.setDaemon(true);
    }

    /**
     * Starts watching {@code file}; {@code reload} runs on the watcher's thread after each change.
     *
     * @throws IllegalStateException if the file's directory cannot be watched
     */
    public static ConfigWatcher start(Path file, Duration debounce, Runnable reload) {
        Path absolute = file.toAbsolutePath().normalize();
        Path directory = Objects.requireNonNull(absolute.getParent(), "directory of " + file);
        WatchService service = null;
        try {
            service = FileSystems.getDefault().newWatchService();
            directory.register(
                    service,
                    StandardWatchEventKinds.ENTRY_CREATE,
                    StandardWatchEventKinds.ENTRY_MODIFY,
                    StandardWatchEventKinds.ENTRY_DELETE);
        } catch (IOException | RuntimeException e) {
            if (service != null) {
                try {
                    service.close(); // its poller thread would outlive a failed start
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw new IllegalStateException(
                    "cannot watch " + directory + " for changes of " + absolute.getFileName(), e);
        }
        ConfigWatcher watcher = new ConfigWatcher(absolute, service, debounce, reload);
        // Taken before the thread starts: a change made right after start() returns is a change.
        watcher.seen = Fingerprint.of(absolute);
        watcher.thread.start();
        LOG.info("watching {} for configuration changes", absolute);
        return watcher;
    }

    /** The file watched. */
    public Path file() {
        return file;
    }

    private void run() {
        Path name = file.getFileName();
        boolean pending = false; // a change seen, not reloaded yet
        long quietSince = 0; // when the fingerprint last changed
        long lastLook = System.nanoTime();
        try {
            while (running) {
                long now = System.nanoTime();
                long next = lastLook + CHECK_INTERVAL_NANOS;
                if (pending) {
                    next = Math.min(next, quietSince + debounceNanos);
                }
                WatchKey key = watchService.poll(Math.max(0, next - now), TimeUnit.NANOSECONDS);
                boolean drained = key != null;
                boolean named = false;
                while (key != null) {
                    named |= namesTheFile(key, name);
                    key = watchService.poll();
                }
                now = System.nanoTime();
                if (named || now - next >= 0) {
                    lastLook = now;
                    Fingerprint current = Fingerprint.of(file);
                    if (!current.equals(seen)) {
                        LOG.debug("{} changed: {}", file, current);
                        seen = current;
                        quietSince = now;
                        pending = true;
                    } else if (pending && now - quietSince >= debounceNanos) {
                        LOG.debug(
                                "{} unchanged for {} ms: reloading",
                                file,
                                TimeUnit.NANOSECONDS.toMillis(now - quietSince));
                        pending = false;
                        runReload();
                    }
                }
                if (drained && running) {
                    Thread.sleep(FLOOD_PAUSE_MILLIS);
                }
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // close() stops us.
        }
    }

    private void runReload() {
        try {
            reload.run();
        } catch (RuntimeException e) {
            LOG.error("configuration reload after a change of {} failed", file, e);
        }
    }

    /** Whether the key's events name the file, or may have; resets the key either way. */
    private static boolean namesTheFile(WatchKey key, Path name) {
        boolean named = false;
        for (WatchEvent<?> event : key.pollEvents()) {
            // An overflow lost events: the file may be among them.
            // A Kubernetes ConfigMap volume swaps its "..data" link instead of touching the file's own link.
            named |= event.kind() == StandardWatchEventKinds.OVERFLOW
                    || name.equals(event.context())
                    || KUBERNETES_DATA.equals(event.context());
        }
        key.reset();
        return named;
    }

    /**
     * What the file is now: where its links lead, which file that is, and what it holds. The checksum makes
     * two writes of the same size within one tick of the file system's clock differ too. {@link #MISSING} when
     * it cannot be read.
     */
    record Fingerprint(Path target, Object fileKey, long size, FileTime modified, long checksum) {
        static final Fingerprint MISSING = new Fingerprint(null, null, -1, null, 0);

        static Fingerprint of(Path file) {
            try {
                Path target = file.toRealPath();
                BasicFileAttributes attributes = Files.readAttributes(target, BasicFileAttributes.class);
                CRC32C crc = new CRC32C();
                crc.update(Files.readAllBytes(target)); // a configuration file: a few KiB
                return new Fingerprint(
                        target, attributes.fileKey(), attributes.size(), attributes.lastModifiedTime(), crc.getValue());
            } catch (IOException | RuntimeException e) {
                return MISSING;
            }
        }
    }

    /** Stops watching and waits briefly for the thread to end. */
    @Override
    public void close() {
        running = false;
        try {
            watchService.close();
        } catch (IOException e) {
            LOG.debug("closing the watch service of {} failed", file, e);
        }
        thread.interrupt();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "ConfigWatcher[" + file + "]";
    }
}
