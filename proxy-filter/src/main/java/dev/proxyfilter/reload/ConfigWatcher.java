package dev.proxyfilter.reload;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches one configuration file and runs a reload when it changes, on one daemon thread that
 * {@link #close()} stops (a webapp undeploy must not leave it behind).
 *
 * <p>It watches the file's directory, not the file: editors and deploy tools replace a file by renaming
 * another over it, which a watch on the file itself would lose (a Kubernetes ConfigMap volume renames its
 * {@code ..data} link, which counts as a change of the file too). Any create, modify or delete event naming
 * the file starts a quiet period ({@code reload.debounce}, by default {@link #DEFAULT_DEBOUNCE}); the
 * reload runs once no event came for that long, so that an editor's several writes make one reload, and
 * a half-written file is not read while the writes go on. A reload that finds the file invalid or missing
 * is rejected by the engine and the old configuration keeps serving.
 */
public final class ConfigWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigWatcher.class);

    /** The quiet period after the last change before reloading. */
    public static final Duration DEFAULT_DEBOUNCE = Duration.ofMillis(300);

    private static final Path KUBERNETES_DATA = Path.of("..data");

    private final Path file;
    private final WatchService watchService;
    private final Thread thread;
    private final Duration debounce;
    private final Runnable reload;
    private volatile boolean running = true;

    private ConfigWatcher(Path file, WatchService watchService, Duration debounce, Runnable reload) {
        this.file = file;
        this.watchService = watchService;
        this.debounce = debounce;
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
        try {
            while (running) {
                WatchKey key = watchService.take();
                boolean changed = relevant(key, name);
                // Debounce: wait until the directory has been quiet for a while.
                while (changed && running) {
                    WatchKey more = watchService.poll(debounce.toMillis(), TimeUnit.MILLISECONDS);
                    if (more == null) {
                        break;
                    }
                    relevant(more, name);
                }
                if (changed && running) {
                    try {
                        reload.run();
                    } catch (RuntimeException e) {
                        LOG.error("configuration reload after a change of {} failed", file, e);
                    }
                }
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // close() stops us.
        }
    }

    /** Whether the key's events name the file; resets the key either way. */
    private static boolean relevant(WatchKey key, Path name) {
        boolean changed = false;
        for (WatchEvent<?> event : key.pollEvents()) {
            // An overflow lost events: the file may be among them.
            // A Kubernetes ConfigMap volume swaps its "..data" link instead of touching the file's own link.
            changed |= event.kind() == StandardWatchEventKinds.OVERFLOW
                    || name.equals(event.context())
                    || KUBERNETES_DATA.equals(event.context());
        }
        key.reset();
        return changed;
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
