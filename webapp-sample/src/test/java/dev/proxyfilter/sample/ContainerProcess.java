package dev.proxyfilter.sample;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A servlet container started from its own distribution as a separate process (Tomcat's
 * {@code bin/catalina.sh run}, Jetty's {@code start.jar}), after Jetty's {@code JettyHomeTester}: its console
 * goes to a file, and {@link #logs()} gathers that file and the container's own log files for failure
 * messages. {@link #stop} sends SIGTERM, as a service manager does; {@link #close} kills what is left.
 */
final class ContainerProcess implements AutoCloseable {
    /** Environment variables that would change how the scripts start the JVM: the test's own settings decide. */
    private static final List<String> INHERITED_SETTINGS =
            List.of("CATALINA_", "JAVA_OPTS", "JAVA_OPTIONS", "JETTY_", "JRE_HOME", "JDK_JAVA_OPTIONS", "CLASSPATH");
    /** How much of each log the failure messages quote: the end, where a failure is. */
    private static final int LOG_TAIL_CHARS = 12_000;

    private final String name;
    private final Process process;
    private final Path console;
    private final Path logDirectory;
    private final PathMatcher logFiles;

    private ContainerProcess(String name, Process process, Path console, Path logDirectory, PathMatcher logFiles) {
        this.name = name;
        this.process = process;
        this.console = console;
        this.logDirectory = logDirectory;
        this.logFiles = logFiles;
    }

    /**
     * Starts {@code command} in {@code directory} with the test JVM's Java as {@code JAVA_HOME}.
     *
     * @param environment  variables to set, after the inherited {@link #INHERITED_SETTINGS} are removed
     * @param logDirectory a folder of log files that {@link #logs()} quotes besides the console, or null
     * @param logGlob      which of its files: those the console does not repeat
     */
    static ContainerProcess start(
            String name,
            List<String> command,
            Path directory,
            Map<String, String> environment,
            Path logDirectory,
            String logGlob)
            throws IOException {
        Path console = directory.resolve(name + "-console.log");
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(directory.toFile())
                .redirectErrorStream(true)
                .redirectOutput(console.toFile());
        builder.environment()
                .keySet()
                .removeIf(key -> INHERITED_SETTINGS.stream()
                        .anyMatch(prefix -> key.equals(prefix) || (prefix.endsWith("_") && key.startsWith(prefix))));
        builder.environment().put("JAVA_HOME", javaHome().toString());
        builder.environment().putAll(environment);
        PathMatcher logFiles = FileSystems.getDefault().getPathMatcher("glob:" + (logGlob == null ? "" : logGlob));
        return new ContainerProcess(name, builder.start(), console, logDirectory, logFiles);
    }

    /** The test JVM's own Java installation, for the containers to run on. */
    static Path javaHome() {
        return Path.of(System.getProperty("java.home"));
    }

    /** A port free on 127.0.0.1 a moment ago, for a container that takes its port from its configuration. */
    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /**
     * Waits until {@code uri} answers 200: the container is listening and the webapp started. Fails with the
     * logs if the process exits or {@code timeout} passes first.
     */
    void awaitOk(URI uri, Duration timeout) throws Exception {
        HttpClient client = HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(2))
                .version(HttpClient.Version.HTTP_1_1)
                .build();
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError(
                        name + " exited with status " + process.exitValue() + " before " + uri + " answered");
            }
            try {
                HttpResponse<String> response = client.send(
                        HttpRequest.newBuilder(uri)
                                .timeout(Duration.ofSeconds(5))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    return;
                }
                last = "status " + response.statusCode();
            } catch (ConnectException e) {
                last = "connection refused";
            } catch (java.net.http.HttpTimeoutException e) {
                // Listening but still deploying (a loaded machine: seen at load average 14): ask again.
                last = "no answer within 5 s";
            }
            Thread.sleep(100);
        }
        throw new AssertionError(name + ": " + uri + " did not answer 200 within " + timeout + " (" + last + ")");
    }

    /**
     * Stops the container as a service manager does: SIGTERM, then up to {@code timeout} for its shutdown
     * hooks to undeploy the webapps. Returns whether it exited in time; {@link #close} kills it otherwise.
     */
    boolean stop(Duration timeout) throws InterruptedException {
        process.destroy();
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The console and the container's log files so far, each cut to its end. */
    String logs() {
        List<Path> files = new ArrayList<>();
        files.add(console);
        if (logDirectory != null) {
            try (Stream<Path> logs = Files.list(logDirectory)) {
                logs.filter(file -> logFiles.matches(file.getFileName()))
                        .sorted()
                        .forEach(files::add);
            } catch (IOException e) {
                // not created yet: nothing to quote
            }
        }
        StringBuilder text = new StringBuilder();
        for (Path file : files) {
            String content = read(file);
            text.append("\n----- ").append(name).append(": ").append(file).append(" -----\n");
            text.append(
                    content.length() > LOG_TAIL_CHARS
                            ? "[...]" + content.substring(content.length() - LOG_TAIL_CHARS)
                            : content);
        }
        return text.toString();
    }

    /** The console output so far. */
    String console() {
        return read(console);
    }

    private static String read(Path file) {
        try {
            // Lenient: a log cut in the middle of a character must not hide the rest.
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE)
                    .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file)))
                    .toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Kills the process if it is still running: after a failed test, or a {@link #stop} that timed out. */
    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
