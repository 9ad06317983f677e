package dev.proxyfilter.accesslog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.proxyfilter.config.AccessLogTarget;
import dev.proxyfilter.config.ConfigLoader;
import dev.proxyfilter.config.ConfigSource;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.testing.Backends;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.TestBackend;
import dev.proxyfilter.testing.TestConfigs;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.logging.JettyLevel;
import org.eclipse.jetty.logging.JettyLogger;
import org.eclipse.jetty.logging.StdErrAppender;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A real request through the proxy: its access-log line reaches the SLF4J logger {@code dev.proxyfilter.access}
 * from the log's writer thread, not the request's, after the response, and carries every field.
 */
@Timeout(60)
class AccessLogIntegrationTest {
    /** jetty-slf4j-impl's line: date, level, condensed logger name, thread, message. */
    private static final Pattern JETTY_LINE = Pattern.compile("^\\S+ \\S+:INFO :dp\\.access:([^:]+): (.*)$");

    /** NCSA combined plus the proxy's fields, one group per field. */
    private static final Pattern COMBINED =
            Pattern.compile("(\\S+) - - \\[(\\d\\d/\\w{3}/\\d{4}:\\d\\d:\\d\\d:\\d\\d \\+0000)] "
                    + "\"(\\S+) (\\S+) (\\S+)\" (\\d{3}) (\\S+) \"([^\"]*)\" \"([^\"]*)\" "
                    + "rt=(\\S+) backend=(\\S+) urt=(\\S+) retries=(\\d+) cache=(\\S+)");

    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();
    private JettyLogger accessLogger;
    private StdErrAppender appender;
    private PrintStream originalStream;
    private JettyLevel originalLevel;

    @BeforeEach
    void captureTheAccessLogger() {
        // The tests' jetty-logging.properties keeps the access log quiet; this test wants it, in a buffer.
        accessLogger = (JettyLogger) LoggerFactory.getLogger("dev.proxyfilter.access");
        originalLevel = accessLogger.getLevel();
        accessLogger.setLevel(JettyLevel.INFO);
        appender = (StdErrAppender) accessLogger.getAppender();
        originalStream = appender.getStream();
        appender.setStream(new PrintStream(captured, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restore() {
        appender.setStream(originalStream);
        accessLogger.setLevel(originalLevel);
    }

    private List<String> accessLines() {
        synchronized (captured) {
            return captured.toString(StandardCharsets.UTF_8)
                    .lines()
                    .filter(l -> l.contains(":dp.access:"))
                    .toList();
        }
    }

    @Test
    void theLineOfARealRequestArrivesFromTheWriterThreadWithEveryField() throws Exception {
        try (TestBackend backend = TestBackend.start("a", new Backends.Echo("a"));
                ProxyAdapter.Running proxy = ProxyAdapter.HANDLER_IN_JETTY.start(TestConfigs.builder()
                        .pool("web", StrategyName.ROUND_ROBIN, "a", backend.url(), 1)
                        .route("web", "/web", "web")
                        .build())) {
            HttpResponse<String> response = HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .build()
                    .send(
                            HttpRequest.newBuilder(proxy.uri().resolve("/web/x?q=1"))
                                    .header("User-Agent", "access-log-test/1 \"quoted\"")
                                    .header("Referer", "http://referer.example/page")
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("a");

            await().atMost(Duration.ofSeconds(5)).until(() -> !accessLines().isEmpty());
        }

        List<String> lines = accessLines();
        assertThat(lines).hasSize(1);
        Matcher jetty = JETTY_LINE.matcher(lines.get(0));
        assertThat(jetty.matches()).as(lines.get(0)).isTrue();
        assertThat(jetty.group(1)).as("the writing thread").startsWith("proxy-access-log-");
        Matcher line = COMBINED.matcher(jetty.group(2));
        assertThat(line.matches()).as(jetty.group(2)).isTrue();
        assertThat(line.group(1)).as("client").isEqualTo("127.0.0.1");
        assertThat(line.group(3)).as("method").isEqualTo("GET");
        assertThat(line.group(4)).as("path and query").isEqualTo("/web/x?q=1");
        assertThat(line.group(5)).as("protocol").isEqualTo("HTTP/1.1");
        assertThat(line.group(6)).as("status").isEqualTo("200");
        assertThat(line.group(7)).as("bytes").isEqualTo("1");
        assertThat(line.group(8)).as("referer").isEqualTo("http://referer.example/page");
        assertThat(line.group(9)).as("user agent, quotes escaped").isEqualTo("access-log-test/1 \\x22quoted\\x22");
        assertThat(Double.parseDouble(line.group(10))).as("rt").isBetween(0.0, 5.0);
        assertThat(line.group(11)).as("backend").isEqualTo("web/a");
        assertThat(Double.parseDouble(line.group(12))).as("urt").isBetween(0.0, Double.parseDouble(line.group(10)));
        assertThat(line.group(13)).as("retries").isEqualTo("0");
        assertThat(line.group(14)).as("cache").isEqualTo("-");
    }

    @Test
    void writtenDirectlyToAFileTheLineIsBareAndTheLoggersLevelDoesNotMatter(@TempDir Path folder) throws Exception {
        accessLogger.setLevel(JettyLevel.OFF); // log.access.to bypasses the logger
        Path file = folder.resolve("access.log");
        try (TestBackend backend = TestBackend.start("a", new Backends.Echo("a"))) {
            ProxyConfig config = ConfigLoader.load(List.of(new ConfigSource(
                    "test.properties",
                    Map.of(
                            "pool.web.backend.a.url",
                            backend.url().toString(),
                            "route.web.path",
                            "/web",
                            "route.web.pool",
                            "web",
                            "log.access.to",
                            file.toString()))));
            assertThat(config.accessLogTarget()).isEqualTo(AccessLogTarget.file(file));
            try (ProxyAdapter.Running proxy = ProxyAdapter.HANDLER_IN_JETTY.start(config)) {
                HttpClient client = HttpClient.newBuilder()
                        .version(HttpClient.Version.HTTP_1_1)
                        .build();
                for (int n = 0; n < 3; n++) {
                    HttpResponse<String> response = client.send(
                            HttpRequest.newBuilder(proxy.uri().resolve("/web/f" + n))
                                    .header("User-Agent", "direct/1")
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertThat(response.statusCode()).isEqualTo(200);
                }
                await().atMost(Duration.ofSeconds(5))
                        .until(() ->
                                Files.exists(file) && Files.readAllLines(file).size() == 3);
            }
        }
        assertThat(accessLines()).as("nothing through the logger").isEmpty();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertThat(lines).hasSize(3);
        for (int n = 0; n < 3; n++) {
            Matcher line = COMBINED.matcher(lines.get(n));
            assertThat(line.matches())
                    .as("a bare combined line: %s", lines.get(n))
                    .isTrue();
            assertThat(line.group(4)).isEqualTo("/web/f" + n);
            assertThat(line.group(6)).isEqualTo("200");
            assertThat(line.group(9)).isEqualTo("direct/1");
            assertThat(line.group(11)).isEqualTo("web/a");
        }
    }
}
