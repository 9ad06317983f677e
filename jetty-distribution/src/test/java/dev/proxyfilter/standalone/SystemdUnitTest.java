package dev.proxyfilter.standalone;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.ConfigLoader;
import dev.proxyfilter.config.ConfigSource;
import dev.proxyfilter.config.ServerConfig;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped systemd unit, {@code config/proxy-filter.service}: its directives, parsed here against what the
 * proxy and its script do (the JVM is the main process, SIGTERM drains within {@code server.shutdown-timeout},
 * SIGHUP reloads, the cache's disk tier stays writable), and, where {@code systemd-analyze} is installed,
 * systemd's own {@code verify} and offline {@code security} review of it.
 */
@Timeout(60)
class SystemdUnitTest {
    private static final Path MODULE = Path.of(System.getProperty("basedir", "."));
    private static final Path UNIT = MODULE.resolve("../config/proxy-filter.service");
    private static final Path SAMPLE_CONFIG = MODULE.resolve("../config/proxy.properties");
    private static final Path SCRIPT = MODULE.resolve("src/main/bin/proxy-filter");
    private static final String INSTALL_DIR = "/opt/proxy-filter";
    /** The lines that give the process CAP_NET_BIND_SERVICE, commented out in the shipped unit. */
    private static final List<String> PORT_80_LINES =
            List.of("#CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "#AmbientCapabilities=CAP_NET_BIND_SERVICE");

    @TempDir
    Path dir;

    @Test
    void startsTheDistributionsScriptWhichExecsTheJvm() throws IOException {
        Map<String, Map<String, List<String>>> unit = parse(Files.readString(UNIT));

        String execStart = single(unit, "Service", "ExecStart");
        assertThat(execStart).startsWith(INSTALL_DIR + "/bin/proxy-filter --config /etc/proxy-filter/");
        // The script's last command execs java: the JVM is MAINPID, and gets SIGTERM and SIGHUP itself.
        assertThat(single(unit, "Service", "Type")).isIn("exec", "simple");
        List<String> commands = Files.readAllLines(SCRIPT).stream()
                .map(String::strip)
                .filter(line -> !line.isEmpty() && !line.startsWith("#"))
                .toList();
        List<String> execs =
                commands.stream().filter(line -> line.startsWith("exec ")).toList();
        assertThat(execs).hasSize(1);
        assertThat(execs.get(0)).startsWith("exec \"$JAVA\"");
        assertThat(single(unit, "Install", "WantedBy")).isEqualTo("multi-user.target");
    }

    @Test
    void reloadsWithSighupAndStopsWithSigtermAfterTheProxysGrace() throws IOException {
        Map<String, Map<String, List<String>>> unit = parse(Files.readString(UNIT));

        assertThat(single(unit, "Service", "ExecReload")).isEqualTo("/bin/kill -HUP $MAINPID");
        assertThat(single(unit, "Service", "KillSignal")).isEqualTo("SIGTERM");
        Duration stopTimeout = timeSpan(single(unit, "Service", "TimeoutStopSec"));
        Duration shipped = ConfigLoader.load(List.of(ConfigSource.ofFile(SAMPLE_CONFIG)))
                .server()
                .shutdownTimeout();
        // The drain, then closing the pools and flushing the cache: systemd must not SIGKILL before.
        assertThat(stopTimeout)
                .isGreaterThanOrEqualTo(ServerConfig.DEFAULT_SHUTDOWN_TIMEOUT.plusSeconds(10))
                .isGreaterThanOrEqualTo(shipped.plusSeconds(10));
    }

    @Test
    void runsUnprivilegedAndHardenedWithTheCacheDirectoryWritable() throws IOException {
        Map<String, Map<String, List<String>>> unit = parse(Files.readString(UNIT));

        assertThat(single(unit, "Service", "User")).isEqualTo("proxy-filter");
        assertThat(values(unit, "Service", "DynamicUser")).isEmpty();
        assertThat(single(unit, "Service", "NoNewPrivileges")).isEqualTo("yes");
        assertThat(single(unit, "Service", "ProtectSystem")).isEqualTo("strict");
        assertThat(single(unit, "Service", "PrivateTmp")).isEqualTo("yes");
        assertThat(single(unit, "Service", "ProtectHome")).isEqualTo("yes");
        assertThat(effective(unit, "CapabilityBoundingSet")).isEmpty();
        assertThat(values(unit, "Service", "AmbientCapabilities")).isEmpty();
        // The JIT writes machine code into executable memory.
        assertThat(values(unit, "Service", "MemoryDenyWriteExecute")).doesNotContain("yes", "true");

        // The disk tier's path in the sample configuration is writable under ProtectSystem=strict.
        Matcher diskPath = Pattern.compile("(?m)^#?cache\\.disk-path=(\\S+)$").matcher(Files.readString(SAMPLE_CONFIG));
        assertThat(diskPath.find()).as("cache.disk-path in %s", SAMPLE_CONFIG).isTrue();
        assertThat(values(unit, "Service", "ReadWritePaths")).contains(diskPath.group(1));
        assertThat("/var/cache/" + single(unit, "Service", "CacheDirectory")).isEqualTo(diskPath.group(1));
    }

    @Test
    void uncommentingThePort80LinesOrADropInGivesExactlyCapNetBindService() throws IOException {
        String text = Files.readString(UNIT);
        for (String line : PORT_80_LINES) {
            assertThat(text).as("the commented port-80 line").containsOnlyOnce(line);
        }

        for (String variant : List.of(port80Variant(text), port80DropIn(text))) {
            Map<String, Map<String, List<String>>> unit = parse(variant);

            // An empty CapabilityBoundingSet= after them would clear the set again.
            assertThat(effective(unit, "CapabilityBoundingSet")).containsExactly("CAP_NET_BIND_SERVICE");
            assertThat(effective(unit, "AmbientCapabilities")).containsExactly("CAP_NET_BIND_SERVICE");
            assertThat(single(unit, "Service", "User")).isEqualTo("proxy-filter");
        }
    }

    @Test
    void systemdAnalyzeVerifiesTheUnitAndItsPort80Variants() throws Exception {
        Path systemdAnalyze = systemdAnalyze();
        String text = Files.readString(UNIT);

        for (String variant : List.of(text, port80Variant(text), port80DropIn(text))) {
            Path unit = installed(variant);
            Result verify = run(systemdAnalyze.toString(), "verify", unit.toString());
            // verify exits 0 on an unknown directive or a bad value too: only silence means clean.
            assertThat(verify.exitCode()).as(verify.output()).isZero();
            assertThat(verify.output()).as("systemd-analyze verify").isEmpty();
        }
    }

    @Test
    void systemdAnalyzeRatesTheUnitsExposureAsLow() throws Exception {
        Path systemdAnalyze = systemdAnalyze();
        Path unit = installed(Files.readString(UNIT));

        Result security = run(systemdAnalyze.toString(), "security", "--offline=true", "--no-pager", unit.toString());
        Assumptions.assumeFalse(
                security.output().contains("unrecognized option"), "systemd-analyze security has no --offline");

        Matcher exposure = Pattern.compile("Overall exposure level for proxy-filter\\.service: (\\d+\\.\\d)")
                .matcher(security.output());
        assertThat(exposure.find()).as(security.output()).isTrue();
        // 1.6 when written; 10 is a unit without any hardening, below 2 is systemd's "OK" or better.
        assertThat(Double.parseDouble(exposure.group(1))).as(security.output()).isLessThan(2.0);
    }

    /** The unit as installed here: {@value #INSTALL_DIR} replaced by a folder holding the real script. */
    private Path installed(String unitText) throws IOException {
        Path home = dir.resolve("opt-" + System.nanoTime() + "/proxy-filter");
        Files.createDirectories(home.resolve("bin"));
        Path script = Files.copy(SCRIPT, home.resolve("bin/proxy-filter"));
        assertThat(script.toFile().setExecutable(true)).isTrue();
        // The file name is the unit's name, which verify checks against its type.
        Path unit = Files.createDirectories(dir.resolve("units-" + System.nanoTime()))
                .resolve("proxy-filter.service");
        return Files.writeString(unit, unitText.replace(INSTALL_DIR, home.toString()));
    }

    private static String port80Variant(String text) {
        String variant = text;
        for (String line : PORT_80_LINES) {
            variant = variant.replace(line, line.substring(1));
        }
        return variant;
    }

    /** The unit followed by what the README's {@code systemctl edit} drop-in for port 80 adds. */
    private static String port80DropIn(String text) {
        StringBuilder dropIn = new StringBuilder(text).append("\n[Service]\n");
        PORT_80_LINES.forEach(line -> dropIn.append(line.substring(1)).append('\n'));
        return dropIn.toString();
    }

    private static Path systemdAnalyze() {
        Optional<Path> found = Stream.of(
                        System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .filter(entry -> !entry.isEmpty())
                .map(entry -> Path.of(entry, "systemd-analyze"))
                .filter(Files::isExecutable)
                .findFirst();
        Assumptions.assumeTrue(found.isPresent(), "systemd-analyze is not installed");
        return found.get();
    }

    private record Result(int exitCode, String output) {}

    private Result run(String... command) throws Exception {
        Path output = dir.resolve("systemd-analyze-" + System.nanoTime() + ".log");
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not end within 30 s");
        }
        return new Result(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
    }

    /**
     * A unit file as systemd reads it: sections of {@code Key=value} lines, {@code #} and {@code ;}
     * comments, a trailing backslash continuing a line; a key may repeat.
     */
    static Map<String, Map<String, List<String>>> parse(String text) {
        Map<String, Map<String, List<String>>> sections = new LinkedHashMap<>();
        Map<String, List<String>> current = null;
        StringBuilder pending = new StringBuilder();
        for (String raw : text.split("\n", -1)) {
            String line = raw.strip();
            if (pending.isEmpty() && (line.isEmpty() || line.startsWith("#") || line.startsWith(";"))) {
                continue;
            }
            if (line.endsWith("\\")) {
                pending.append(line, 0, line.length() - 1).append(' ');
                continue;
            }
            line = pending.append(line).toString();
            pending.setLength(0);
            if (line.startsWith("[") && line.endsWith("]")) {
                current = sections.computeIfAbsent(line.substring(1, line.length() - 1), name -> new LinkedHashMap<>());
                continue;
            }
            int equals = line.indexOf('=');
            assertThat(current).as("a directive outside any section: %s", line).isNotNull();
            assertThat(equals).as("not a Key=value line: %s", line).isPositive();
            current.computeIfAbsent(line.substring(0, equals).strip(), key -> new ArrayList<>())
                    .add(line.substring(equals + 1).strip());
        }
        return sections;
    }

    private static List<String> values(Map<String, Map<String, List<String>>> unit, String section, String key) {
        return unit.getOrDefault(section, Map.of()).getOrDefault(key, List.of());
    }

    private static String single(Map<String, Map<String, List<String>>> unit, String section, String key) {
        List<String> values = values(unit, section, key);
        assertThat(values).as("[%s] %s", section, key).hasSize(1);
        return values.get(0);
    }

    /** A capability list as systemd applies it: assignments add up, an empty one resets. */
    private static List<String> effective(Map<String, Map<String, List<String>>> unit, String key) {
        List<String> set = new ArrayList<>();
        for (String value : values(unit, "Service", key)) {
            if (value.isEmpty()) {
                set.clear();
            } else {
                set.addAll(List.of(value.split("\\s+")));
            }
        }
        return set;
    }

    /** A systemd time span such as {@code 40s}, {@code 1min 30s} or {@code 90} (seconds). */
    static Duration timeSpan(String value) {
        Matcher part = Pattern.compile("(\\d+)\\s*(ms|s|sec|seconds?|m|min|minutes?|h|hr|hours?)?\\s*")
                .matcher(value.strip());
        Duration total = Duration.ZERO;
        int end = 0;
        while (part.lookingAt()) {
            long amount = Long.parseLong(part.group(1));
            String unit = part.group(2) == null ? "s" : part.group(2);
            total = total.plus(
                    switch (unit) {
                        case "ms" -> Duration.ofMillis(amount);
                        case "m", "min", "minute", "minutes" -> Duration.ofMinutes(amount);
                        case "h", "hr", "hour", "hours" -> Duration.ofHours(amount);
                        default -> Duration.ofSeconds(amount);
                    });
            end = part.end();
            part.region(end, value.strip().length());
        }
        assertThat(end)
                .as("a systemd time span: %s", value)
                .isEqualTo(value.strip().length());
        return total;
    }
}
