package dev.proxyfilter.standalone;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped {@code config/keepalived.conf.sample}: keepalived accepts it, and its check script tells a
 * ready proxy from a draining or a stopped one. Nobody can run VRRP here (it needs two hosts and a
 * network that carries its multicast), so the fail-over itself is not tested; each part is skipped on a
 * machine without {@code keepalived} or {@code curl}, which CI does not install for it.
 */
@Timeout(60)
class KeepalivedSampleIntegrationTest {
    /** Relative to the jetty-distribution module, where Maven runs the tests. */
    private static final Path SAMPLE = Path.of("..", "config", "keepalived.conf.sample");

    private static final Pattern SCRIPT = Pattern.compile("(?m)^\\s*script \"([^\"]+)\"");

    @TempDir
    Path dir;

    private RunningProxy proxy;

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.stop();
        }
    }

    @Test
    void keepalivedAcceptsTheSample() throws Exception {
        String keepalived = which("keepalived");
        Assumptions.assumeTrue(keepalived != null, "keepalived is not installed (apt-get install keepalived)");

        Result check = run(keepalived, "-t", "-f", SAMPLE.toString());
        if (check.status() == 143 && olderThan228(keepalived)) {
            // keepalived before 2.2.8 ends its config test with SIGTERM when scripts run as a user other than
            // root (acassen/keepalived#2587, fixed by aae8e91): check the same file with script_user root.
            String sample = Files.readString(SAMPLE);
            assertThat(sample).contains("script_user nobody");
            Path asRoot = Files.writeString(
                    dir.resolve("keepalived.conf"), sample.replace("script_user nobody", "script_user root"));
            check = run(keepalived, "-t", "-f", asRoot.toString());
        }
        assertThat(check.status()).as(check.output()).isZero();
        assertThat(check.output()).isEmpty();
    }

    @Test
    void theCheckScriptPassesOnlyWhileTheProxyIsReady() throws Exception {
        Assumptions.assumeTrue(which("curl") != null, "curl is not installed");
        Matcher script = SCRIPT.matcher(Files.readString(SAMPLE));
        assertThat(script.find()).as("a vrrp_script with a script line").isTrue();
        assertThat(script.group(1)).contains("http://127.0.0.1:8081/readyz");

        NamedBackend backend = NamedBackend.start("a");
        try {
            Path config = Files.writeString(dir.resolve("proxy.properties"), """
                    server.host=127.0.0.1
                    server.port=0
                    admin.port=0
                    pool.web.backend.a.url=%s
                    route.main.path=/
                    route.main.pool=web
                    """.formatted(backend.uri()));
            proxy = ProxyMain.start("--config", config.toString());
            String command = script.group(1).replace(":8081/", ":" + proxy.adminPort() + "/");
            // The admin servlet's first request initialises it; a warm proxy answers well within --max-time.
            run("sh", "-c", command.replace("--max-time 2", "--max-time 20"));

            assertThat(run("sh", "-c", command).status()).as("ready").isZero();

            proxy.engine().startDraining(); // as on SIGTERM: /readyz answers 503
            Result draining = run("sh", "-c", command);
            assertThat(draining.status()).as("draining").isEqualTo(22); // curl -f: HTTP status >= 400
            assertThat(draining.output()).contains("503");

            proxy.stop();
            assertThat(run("sh", "-c", command).status()).as("stopped").isEqualTo(7); // curl: cannot connect
        } finally {
            backend.close();
        }
    }

    private record Result(int status, String output) {}

    private static Result run(String... command) throws IOException, InterruptedException {
        Process process =
                new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new Result(
                process.exitValue(), new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    private static boolean olderThan228(String keepalived) throws IOException, InterruptedException {
        Matcher version = Pattern.compile("Keepalived v(\\d+)\\.(\\d+)\\.(\\d+)")
                .matcher(run(keepalived, "--version").output());
        if (!version.find()) {
            return false;
        }
        int[] v = {
            Integer.parseInt(version.group(1)), Integer.parseInt(version.group(2)), Integer.parseInt(version.group(3))
        };
        return v[0] < 2 || (v[0] == 2 && (v[1] < 2 || (v[1] == 2 && v[2] < 8)));
    }

    /** The program's path on the PATH or in /usr/sbin (keepalived's), or null. */
    private static String which(String program) {
        for (String directory : (System.getenv().getOrDefault("PATH", "") + ":/usr/sbin").split(":")) {
            if (!directory.isEmpty() && Files.isExecutable(Path.of(directory, program))) {
                return Path.of(directory, program).toString();
            }
        }
        return null;
    }
}
