package dev.proxyfilter;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Guards the layering of the handbook: the engine has no servlet or container imports, and the
 * config and time packages need nothing but the JDK. Only {@code servlet} translates.
 */
class PackageBoundaryTest {
    private static final Path SOURCES = Path.of("src/main/java/dev/proxyfilter");

    private static List<String> importsOutside(String allowedPackage, String... forbiddenPrefixes) throws IOException {
        try (Stream<Path> files = Files.walk(SOURCES)) {
            return files.filter(p -> p.toString().endsWith(".java"))
                    .filter(p ->
                            allowedPackage == null || !SOURCES.relativize(p).startsWith(allowedPackage))
                    .flatMap(p -> lines(p).stream()
                            .filter(line -> line.startsWith("import "))
                            .filter(line -> Stream.of(forbiddenPrefixes)
                                    .anyMatch(
                                            prefix -> line.contains(" " + prefix) || line.contains("static " + prefix)))
                            .map(line -> SOURCES.relativize(p) + ": " + line))
                    .toList();
        }
    }

    private static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void onlyTheServletPackageTouchesServletsOrContainers() throws IOException {
        assertThat(importsOutside(
                        "servlet",
                        "jakarta.servlet",
                        "org.eclipse.jetty.ee10",
                        "org.apache.catalina",
                        "org.apache.coyote",
                        "org.apache.tomcat"))
                .isEmpty();
    }

    @Test
    void onlyTheAdaptersTouchJettysServer() throws IOException {
        assertThat(importsOutside("servlet", "org.eclipse.jetty.server").stream()
                        .filter(line -> !line.startsWith("jetty/"))
                        .toList())
                .isEmpty();
    }

    @Test
    void configDependsOnTheJdkOnly() throws IOException {
        try (Stream<Path> files = Files.list(SOURCES.resolve("config"))) {
            List<String> foreign = files.filter(p -> p.toString().endsWith(".java"))
                    .flatMap(p -> lines(p).stream()
                            .filter(l -> l.startsWith("import "))
                            .filter(l -> !l.startsWith("import java.")
                                    && !l.startsWith("import static java.")
                                    && !l.startsWith("import dev.proxyfilter.config."))
                            .map(l -> p.getFileName() + ": " + l))
                    .toList();
            assertThat(foreign).isEmpty();
        }
    }

    /** The engine's clock is a leaf every package may use, so it uses nothing but the JDK. */
    @Test
    void timeDependsOnTheJdkOnly() throws IOException {
        try (Stream<Path> files = Files.list(SOURCES.resolve("time"))) {
            List<String> foreign = files.filter(p -> p.toString().endsWith(".java"))
                    .flatMap(p -> lines(p).stream()
                            .filter(l -> l.startsWith("import "))
                            .filter(l -> !l.startsWith("import java.")
                                    && !l.startsWith("import static java.")
                                    && !l.startsWith("import dev.proxyfilter.time."))
                            .map(l -> p.getFileName() + ": " + l))
                    .toList();
            assertThat(foreign).isEmpty();
        }
    }

    @Test
    void securityDependsOnConfigAndItsLibrariesOnly() throws IOException {
        List<String> allowed = List.of(
                "import java.",
                "import static java.",
                "import dev.proxyfilter.config.",
                "import dev.proxyfilter.security.",
                "import dev.proxyfilter.time.",
                "import com.nimbusds.",
                "import at.favre.lib.crypto.bcrypt.",
                "import io.github.bucket4j.",
                "import com.github.benmanes.caffeine.",
                "import org.slf4j.");
        try (Stream<Path> files = Files.list(SOURCES.resolve("security"))) {
            List<String> foreign = files.filter(p -> p.toString().endsWith(".java"))
                    .flatMap(p -> lines(p).stream()
                            .filter(l -> l.startsWith("import "))
                            .filter(l -> allowed.stream().noneMatch(l::startsWith))
                            .map(l -> p.getFileName() + ": " + l))
                    .toList();
            assertThat(foreign).isEmpty();
        }
    }

    @Test
    void routeAndBalanceDependOnConfigAndTimeOnly() throws IOException {
        for (String pkg : List.of("route", "balance")) {
            try (Stream<Path> files = Files.list(SOURCES.resolve(pkg))) {
                List<String> foreign = files.filter(p -> p.toString().endsWith(".java"))
                        .flatMap(p -> lines(p).stream()
                                .filter(l -> l.startsWith("import "))
                                .filter(l -> !l.startsWith("import java.")
                                        && !l.startsWith("import static java.")
                                        && !l.startsWith("import dev.proxyfilter.config.")
                                        && !l.startsWith("import dev.proxyfilter.time.")
                                        && !l.startsWith("import dev.proxyfilter." + pkg + "."))
                                .map(l -> p.getFileName() + ": " + l))
                        .toList();
                assertThat(foreign).as(pkg).isEmpty();
            }
        }
    }
}
