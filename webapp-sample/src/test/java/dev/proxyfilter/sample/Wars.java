package dev.proxyfilter.sample;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/** The built WAR and what the tests do with it. */
final class Wars {
    private Wars() {}

    /** {@code target/webapp-sample.war}, as failsafe names it; the fallback lets an IDE run a test after {@code mvn package}. */
    static Path sampleWar() {
        return Path.of(System.getProperty("sample.war", "target/webapp-sample.war"))
                .toAbsolutePath();
    }

    /** Unpacks {@code war} into {@code directory}, as {@code jar -xf} would: an exploded webapp. */
    static Path unpack(Path war, Path directory) throws IOException {
        try (ZipFile zip = new ZipFile(war.toFile())) {
            for (ZipEntry entry : Collections.list(zip.entries())) {
                Path target = directory.resolve(entry.getName()).normalize();
                if (!target.startsWith(directory)) {
                    throw new IOException("entry outside the webapp: " + entry.getName());
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(target);
                } else {
                    Files.createDirectories(target.getParent());
                    try (InputStream in = zip.getInputStream(entry)) {
                        Files.copy(in, target);
                    }
                }
            }
        }
        return directory;
    }
}
