package dev.proxyfilter.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Jetty's own distribution, {@code jetty-home}, unpacked by the build into {@code target/containers/}
 * ({@code $JETTY_HOME}, never written to), with one {@code $JETTY_BASE} per test, set up with
 * {@code start.jar --add-modules} as the Jetty documentation does it.
 */
final class JettyHomeDistribution {
    private final Path home;
    private final Path base;
    private final int port;

    private JettyHomeDistribution(Path home, Path base, int port) {
        this.home = home;
        this.base = base;
        this.port = port;
    }

    /**
     * A new {@code $JETTY_BASE} in {@code base} with {@code modules} enabled:
     * {@code java -jar $JETTY_HOME/start.jar --add-modules=...}, run in the base.
     */
    static JettyHomeDistribution newBase(Path base, String modules) throws Exception {
        Path home = Path.of(System.getProperty("sample.jetty.home", "target/containers/jetty-home"))
                .toAbsolutePath();
        assertThat(home.resolve("start.jar"))
                .as("jetty-home, unpacked by `mvn verify` (pre-integration-test)")
                .isRegularFile();
        Files.createDirectories(base);
        Path output = base.resolve("add-modules.log");
        Process process = new ProcessBuilder(
                        java(), "-jar", home.resolve("start.jar").toString(), "--add-modules=" + modules)
                .directory(base.toFile())
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
        boolean exited = process.waitFor(60, TimeUnit.SECONDS);
        if (!exited) {
            process.destroyForcibly();
        }
        String log = Files.readString(output, StandardCharsets.UTF_8);
        assertThat(exited && process.exitValue() == 0)
                .as("start.jar --add-modules=%s:%n%s", modules, log)
                .isTrue();
        return new JettyHomeDistribution(home, base, ContainerProcess.freePort());
    }

    /** {@code $JETTY_BASE}. */
    Path base() {
        return base;
    }

    /** {@code http://127.0.0.1:PORT}. */
    URI uri() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /**
     * {@code java OPTIONS -jar $JETTY_HOME/start.jar jetty.http.host=127.0.0.1 jetty.http.port=PORT} in the
     * base; returns once every one of {@code readyPaths} answers 200. Without {@code --exec} start.jar runs
     * Jetty in its own JVM, so the process is Jetty itself and SIGTERM runs its shutdown hook.
     */
    ContainerProcess start(List<String> jvmOptions, Duration timeout, String... readyPaths) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(java());
        command.addAll(jvmOptions);
        // Jetty unpacks a WAR file into java.io.tmpdir (no work/ folder in the base): keep it in the base.
        command.add("-Djava.io.tmpdir=" + Files.createDirectories(base.resolve("temp")));
        command.addAll(List.of(
                "-jar", home.resolve("start.jar").toString(), "jetty.http.host=127.0.0.1", "jetty.http.port=" + port));
        ContainerProcess jetty = ContainerProcess.start("jetty", command, base, Map.of(), null, null);
        try {
            for (String path : readyPaths) {
                jetty.awaitOk(URI.create(uri() + path), timeout);
            }
        } catch (Throwable e) {
            AssertionError withLogs = new AssertionError(e.getMessage() + "\n" + jetty.logs(), e);
            jetty.close();
            throw withLogs;
        }
        return jetty;
    }

    private static String java() {
        return ContainerProcess.javaHome().resolve("bin/java").toString();
    }
}
