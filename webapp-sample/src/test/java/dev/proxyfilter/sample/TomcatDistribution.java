package dev.proxyfilter.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Tomcat's own distribution, unpacked by the build into {@code target/containers/} ({@code CATALINA_HOME},
 * never written to), with one instance folder per test ({@code CATALINA_BASE}, as {@code RUNNING.txt}
 * describes under "Multiple Tomcat Instances"). The instance's {@code conf/} is the distribution's, with
 * {@code server.xml} changed as an operator would: the HTTP connector on 127.0.0.1 and the port of the
 * {@code http.port} system property, no shutdown port.
 */
final class TomcatDistribution {
    private final Path home;
    private final Path base;
    private final int port;

    private TomcatDistribution(Path home, Path base, int port) {
        this.home = home;
        this.base = base;
        this.port = port;
    }

    /** A new instance in {@code base}, with {@code webapps/} empty. */
    static TomcatDistribution newInstance(Path base) throws IOException {
        Path home = Path.of(System.getProperty("sample.tomcat.home", "target/containers/apache-tomcat"))
                .toAbsolutePath();
        assertThat(home.resolve("bin/catalina.sh"))
                .as("the Tomcat distribution, unpacked by `mvn verify` (pre-integration-test)")
                .isExecutable();
        for (String directory : List.of("conf", "lib", "logs", "temp", "webapps", "work")) {
            Files.createDirectories(base.resolve(directory));
        }
        try (Stream<Path> conf = Files.list(home.resolve("conf"))) {
            for (Path file : conf.filter(Files::isRegularFile).toList()) {
                Files.copy(file, base.resolve("conf").resolve(file.getFileName()));
            }
        }
        Path serverXml = base.resolve("conf/server.xml");
        String xml = Files.readString(serverXml);
        xml = replaceOnce(
                xml, "<Server port=\"8005\" shutdown=\"SHUTDOWN\">", "<Server port=\"-1\" shutdown=\"SHUTDOWN\">");
        xml = replaceOnce(
                xml,
                "<Connector port=\"8080\" protocol=\"HTTP/1.1\"",
                "<Connector port=\"${http.port}\" address=\"127.0.0.1\" protocol=\"HTTP/1.1\"");
        Files.writeString(serverXml, xml);
        return new TomcatDistribution(home, base, ContainerProcess.freePort());
    }

    /** {@code CATALINA_BASE}. */
    Path base() {
        return base;
    }

    /** {@code http://127.0.0.1:PORT}. */
    URI uri() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /** Adds {@code element} to {@code conf/server.xml} as the last child of the {@code <Host>}. */
    void addToHost(String element) throws IOException {
        Path serverXml = base.resolve("conf/server.xml");
        Files.writeString(
                serverXml, replaceOnce(Files.readString(serverXml), "</Host>", "  " + element + "\n      </Host>"));
    }

    /**
     * {@code CATALINA_HOME/bin/catalina.sh run} with {@code CATALINA_BASE} and {@code CATALINA_OPTS} set;
     * returns once {@code readyPath} answers 200. {@code catalina.sh run} execs the JVM, so the process
     * is Tomcat itself and SIGTERM runs its shutdown hook.
     */
    ContainerProcess start(List<String> jvmOptions, String readyPath, Duration timeout) throws Exception {
        List<String> options = new ArrayList<>(jvmOptions);
        options.add("-Dhttp.port=" + port);
        ContainerProcess tomcat = ContainerProcess.start(
                "tomcat",
                List.of(home.resolve("bin/catalina.sh").toString(), "run"),
                base,
                Map.of(
                        "CATALINA_HOME", home.toString(),
                        "CATALINA_BASE", base.toString(),
                        "CATALINA_OPTS", String.join(" ", options)),
                // The console repeats catalina.*.log; localhost.*.log has what a webapp's start threw.
                base.resolve("logs"),
                "localhost.*.log");
        try {
            tomcat.awaitOk(URI.create(uri() + readyPath), timeout);
        } catch (Throwable e) {
            AssertionError withLogs = new AssertionError(e.getMessage() + "\n" + tomcat.logs(), e);
            tomcat.close();
            throw withLogs;
        }
        return tomcat;
    }

    /** Checks what Tomcat logs after SIGTERM: an orderly stop, no error, no leak found in a webapp. */
    static void assertStoppedCleanly(String console) {
        assertThat(console)
                .contains("Stopping ProtocolHandler [\"http-nio-127.0.0.1-")
                .contains("Destroying ProtocolHandler [\"http-nio-127.0.0.1-")
                // Tomcat's leak detection, run as each webapp stops: a thread or ThreadLocal left behind.
                .doesNotContain("failed to stop it")
                .doesNotContain("memory leak")
                .doesNotContain("SEVERE");
    }

    private static String replaceOnce(String text, String target, String replacement) {
        assertThat(text).as("the distribution's server.xml holds %s", target).containsOnlyOnce(target);
        return text.replace(target, replacement);
    }
}
