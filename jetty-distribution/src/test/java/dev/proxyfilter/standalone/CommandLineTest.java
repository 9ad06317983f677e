package dev.proxyfilter.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class CommandLineTest {
    private static final Path HOME = Path.of("/opt/proxy-filter");

    @Test
    void defaultConfigIsUnderTheHome() {
        CommandLine commandLine = CommandLine.parse(new String[0], HOME);

        assertThat(commandLine.config()).isEqualTo(Path.of("/opt/proxy-filter/config/proxy.properties"));
        assertThat(commandLine.help()).isFalse();
    }

    @Test
    void defaultConfigFallsBackToTheWorkingDirectory() {
        CommandLine commandLine = CommandLine.parse(new String[0], CommandLine.home(null));

        assertThat(commandLine.config())
                .isEqualTo(Path.of("config/proxy.properties").toAbsolutePath());
        assertThat(CommandLine.home(" ")).isNull();
    }

    @Test
    void configArgumentIsRelativeToTheWorkingDirectory() {
        assertThat(CommandLine.parse(new String[] {"--config", "my.properties"}, HOME)
                        .config())
                .isEqualTo(Path.of("my.properties").toAbsolutePath());
        assertThat(CommandLine.parse(new String[] {"--config=/etc/p.properties"}, HOME)
                        .config())
                .isEqualTo(Path.of("/etc/p.properties"));
    }

    @Test
    void help() {
        assertThat(CommandLine.parse(new String[] {"--help"}, HOME).help()).isTrue();
        assertThat(CommandLine.parse(new String[] {"-h"}, HOME).help()).isTrue();
    }

    @Test
    void listKeys() {
        assertThat(CommandLine.parse(new String[] {"--list-keys"}, HOME).listKeys())
                .isTrue();
        assertThat(CommandLine.parse(new String[0], HOME).listKeys()).isFalse();
        assertThat(CommandLine.USAGE).contains("--list-keys");
    }

    @Test
    void unknownArgumentIsAUsageError() {
        assertThatThrownBy(() -> CommandLine.parse(new String[] {"--port", "80"}, HOME))
                .isInstanceOf(StartupException.class)
                .hasMessage("unknown argument: --port (expected: --config FILE, --pid-file FILE, --takeover or --help)")
                .satisfies(e -> assertThat(((StartupException) e).exitStatus()).isEqualTo(2));
    }

    @Test
    void configWithoutValueIsAUsageError() {
        assertThatThrownBy(() -> CommandLine.parse(new String[] {"--config"}, HOME))
                .isInstanceOf(StartupException.class)
                .hasMessage("--config: missing (expected: a properties file path)");
        assertThatThrownBy(() -> CommandLine.parse(new String[] {"--config="}, HOME))
                .hasMessage("--config: missing (expected: a properties file path)");
    }

    @Test
    void pidFileAndTakeover() {
        CommandLine plain = CommandLine.parse(new String[0], HOME);
        assertThat(plain.pidFile()).isNull();
        assertThat(plain.takeover()).isFalse();

        CommandLine takeover = CommandLine.parse(new String[] {"--pid-file", "run/p.pid", "--takeover"}, HOME);
        assertThat(takeover.pidFile()).isEqualTo(Path.of("run/p.pid").toAbsolutePath());
        assertThat(takeover.takeover()).isTrue();
        assertThat(CommandLine.parse(new String[] {"--takeover", "--pid-file=/run/p.pid"}, HOME)
                        .pidFile())
                .isEqualTo(Path.of("/run/p.pid"));
        assertThat(CommandLine.USAGE).contains("--pid-file FILE", "--takeover");
    }

    @Test
    void takeoverWithoutPidFileIsAUsageError() {
        assertThatThrownBy(() -> CommandLine.parse(new String[] {"--takeover"}, HOME))
                .isInstanceOf(StartupException.class)
                .hasMessage("--takeover: no --pid-file (expected: --pid-file FILE, the file the running proxy wrote)")
                .satisfies(e -> assertThat(((StartupException) e).exitStatus()).isEqualTo(2));
        assertThatThrownBy(() -> CommandLine.parse(new String[] {"--pid-file"}, HOME))
                .hasMessage("--pid-file: missing (expected: a file path)");
    }
}
