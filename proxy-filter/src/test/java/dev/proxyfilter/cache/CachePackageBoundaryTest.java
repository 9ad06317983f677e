package dev.proxyfilter.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Guards the handbook's layering for the cache (no RFC here, only package rules): {@code cache} imports
 * the JDK, {@code jetty-http}'s header types, {@code config} and {@code time}; {@code cache.ehcache} alone imports
 * {@code org.ehcache}.
 */
class CachePackageBoundaryTest {
    private static final Path SOURCES = Path.of("src/main/java/dev/proxyfilter");

    private static List<String> imports(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(p -> p.toString().endsWith(".java"))
                    .flatMap(p -> lines(p).stream()
                            .filter(l -> l.startsWith("import "))
                            .map(l -> p.getFileName() + ": " + l))
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
    void theCachePackageNeedsOnlyTheJdkJettyHttpConfigAndTime() throws IOException {
        assertThat(imports(SOURCES.resolve("cache")))
                .allSatisfy(line -> assertThat(line)
                        .matches(".*: import (static )?(java\\.|dev\\.proxyfilter\\.cache\\."
                                + "|dev\\.proxyfilter\\.config\\.|dev\\.proxyfilter\\.time\\."
                                + "|org\\.eclipse\\.jetty\\.http\\.).*"));
    }

    @Test
    void onlyTheEhcachePackageImportsEhcache() throws IOException {
        try (Stream<Path> files = Files.walk(SOURCES)) {
            List<String> offenders = files.filter(p -> p.toString().endsWith(".java"))
                    .filter(p -> !SOURCES.relativize(p).startsWith(Path.of("cache", "ehcache")))
                    .flatMap(p -> lines(p).stream()
                            .filter(l -> l.startsWith("import org.ehcache"))
                            .map(l -> p + ": " + l))
                    .toList();
            assertThat(offenders).isEmpty();
        }
        assertThat(imports(SOURCES.resolve("cache/ehcache")))
                .allSatisfy(line -> assertThat(line)
                        .matches(".*: import (static )?(java\\.|dev\\.proxyfilter\\.cache\\."
                                + "|dev\\.proxyfilter\\.config\\.|org\\.ehcache\\.).*"));
    }
}
