package dev.proxyfilter.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The generated reference: the committed {@code docs/configuration.md} and {@code --list-keys}. */
class ConfigReferenceTest {
    /** Relative to the proxy-filter module, where Maven runs the tests. */
    private static final Path DOCS = Path.of("..", ConfigReference.DOCS_FILE);

    @Test
    void theCommittedReferenceIsWhatTheRegistryGenerates() throws IOException {
        String committed = Files.exists(DOCS) ? Files.readString(DOCS, StandardCharsets.UTF_8) : "";

        assertThat(committed.replace("\r\n", "\n"))
                .as(
                        "%s is stale; regenerate it from the repository root: %s",
                        ConfigReference.DOCS_FILE, ConfigReference.REGENERATE)
                .isEqualTo(ConfigReference.markdown());
    }

    @Test
    void theReferenceHasARowPerKey() {
        String markdown = ConfigReference.markdown();

        for (ConfigKey key : ConfigKey.values()) {
            assertThat(markdown).contains("| `" + key.template() + "` | ");
        }
    }

    @Test
    void keyListHasAHeaderAndALinePerKeyWithDefaultAndDoc() {
        List<String> lines = ConfigReference.keyList().lines().toList();

        assertThat(lines).hasSize(ConfigKey.values().length + 1);
        assertThat(lines.get(0)).startsWith("KEY").contains("DEFAULT", "APPLIED", "DESCRIPTION");
        assertThat(lines)
                .anySatisfy(line ->
                        assertThat(line).matches("server\\.port +8080 +restart +standalone: the port to listen on.*"))
                .anySatisfy(line -> assertThat(line).matches("route\\.NAME\\.timeout +proxy\\.timeout +reload +.*"));
    }

    @Test
    void tableCellsEscapeWhatMarkdownWouldRead() {
        assertThat(ConfigReference.escape("true|false, <x>, a_b *c*"))
                .isEqualTo("true\\|false, \\<x\\>, a\\_b \\*c\\*");
    }
}
