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
                .hasMessage("unknown argument: --port (expected: --config FILE or --help)")
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
}
