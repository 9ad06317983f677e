package dev.proxyfilter.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * What the built WAR ships: the filter and the client it forwards with, but nothing the container
 * provides. A servlet API or Jetty server jar in {@code WEB-INF/lib} would clash with the container's.
 */
class WarContentsIT {

    @Test
    void webInfLibHoldsTheLibraryAndItsClientButNoContainerJars() throws IOException {
        Path war = Path.of(System.getProperty("sample.war", "target/webapp-sample.war"));
        List<String> libs;
        List<String> entries;
        try (ZipFile zip = new ZipFile(war.toFile())) {
            entries = zip.stream().map(ZipEntry::getName).toList();
            libs = entries.stream()
                    .filter(name -> name.startsWith("WEB-INF/lib/") && name.endsWith(".jar"))
                    .map(name -> name.substring("WEB-INF/lib/".length()))
                    .toList();
        }

        assertThat(entries)
                .contains(
                        "WEB-INF/web.xml",
                        "WEB-INF/proxy.properties",
                        "index.html",
                        "WEB-INF/classes/dev/proxyfilter/sample/HelloServlet.class");
        assertThat(libs)
                .anyMatch(jar -> jar.startsWith("proxy-filter-"))
                .anyMatch(jar -> jar.startsWith("jetty-client-"))
                .anyMatch(jar -> jar.startsWith("slf4j-api-"))
                .anyMatch(jar -> jar.startsWith("slf4j-jdk14-"));
        assertThat(libs)
                .noneMatch(jar -> jar.startsWith("jetty-ee10-"))
                .noneMatch(jar -> jar.startsWith("jetty-server-"))
                .noneMatch(jar -> jar.startsWith("tomcat-"))
                .noneMatch(jar -> jar.startsWith("jakarta.servlet-api-"))
                .noneMatch(jar -> jar.startsWith("jetty-slf4j-impl-"));
    }
}
