package dev.proxyfilter.standalone;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * The {@code --pid-file} of the standalone proxy: the pid of the process that serves, one line. It is
 * written whole (a temporary file renamed over it), so a reader never sees half a pid, and a process
 * removes it on exit only while it still names that process, so that the old process of a takeover
 * never removes the new one's.
 */
final class PidFile {
    /** What a proxy's command line contains; a pid that runs anything else is stale. */
    static final String MAIN_CLASS = ProxyMain.class.getName();

    private final Path file;

    PidFile(Path file) {
        this.file = file;
    }

    Path path() {
        return file;
    }

    /**
     * The proxy whose pid the file holds, if that process is alive and is a proxy-filter: a pid left by
     * a proxy that died may name an unrelated process by now, which must never be signalled.
     */
    Optional<ProcessHandle> runningProxy() {
        Optional<Long> pid = read();
        if (pid.isEmpty() || pid.get() == ProcessHandle.current().pid()) {
            return Optional.empty();
        }
        return ProcessHandle.of(pid.get())
                .filter(ProcessHandle::isAlive)
                .filter(process -> process.info()
                        .commandLine()
                        .map(line -> line.contains(MAIN_CLASS))
                        .orElse(false));
    }

    /** The pid in the file; empty when there is no file or it does not hold a number. */
    Optional<Long> read() {
        try {
            String text = Files.readString(file, StandardCharsets.US_ASCII).trim();
            return Optional.of(Long.parseLong(text));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** Writes this process's pid, atomically. */
    void writeCurrent() {
        long pid = ProcessHandle.current().pid();
        try {
            Path parent = file.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Path staged = Files.createTempFile(parent, "." + file.getFileName(), ".tmp");
            try {
                Files.writeString(staged, pid + "\n", StandardCharsets.US_ASCII);
                Files.move(staged, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(staged);
            }
        } catch (IOException e) {
            throw StartupException.failure(
                    "--pid-file: " + file + " (expected: a writable file; " + ProxyMain.rootMessage(e) + ")", e);
        }
    }

    /** Removes the file if it still holds this process's pid. */
    void removeIfCurrent() {
        if (read().filter(pid -> pid == ProcessHandle.current().pid()).isPresent()) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // Exiting anyway; a stale pid file is recognised as such by the next start.
            }
        }
    }
}
