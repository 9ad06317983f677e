package dev.proxyfilter.standalone;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeAndTimeBasedRollingPolicy;
import ch.qos.logback.core.status.Status;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped {@code config/logback.xml}: everything, the access log included, goes to stderr; and the commented
 * block, once uncommented as its comment says, sends the access log alone to a rotated file under the home.
 */
class LogbackConfigTest {
    /** Relative to the jetty-distribution module, where Maven runs the tests. */
    private static final Path SHIPPED = Path.of("..", "config", "logback.xml");

    private static final String BLOCK_START = "  <!-- The access log in its own rotated file:\n";
    private static final String BLOCK_END = "  -->\n";

    @TempDir
    Path home;

    /** A context of its own (not the tests' own logging), configured from {@code xml}; no warning allowed. */
    private LoggerContext configure(String xml) throws Exception {
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new LogbackMDCAdapter()); // what Logback's own start-up sets
        context.putProperty("proxyfilter.home", home.toString());
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
        context.start();
        assertNoWarnings(context);
        return context;
    }

    private static void assertNoWarnings(LoggerContext context) {
        int highest = context.getStatusManager().getCopyOfStatusList().stream()
                .mapToInt(Status::getLevel)
                .max()
                .orElse(Status.INFO);
        assertThat(highest)
                .as("Logback's own messages: %s", context.getStatusManager().getCopyOfStatusList())
                .isLessThan(Status.WARN);
    }

    private static List<Appender<?>> appenders(Logger logger) {
        List<Appender<?>> list = new ArrayList<>();
        logger.iteratorForAppenders().forEachRemaining(list::add);
        return list;
    }

    @Test
    void byDefaultEverythingGoesToStderrWithTheAccessLogOn() throws Exception {
        LoggerContext context = configure(Files.readString(SHIPPED));
        try {
            Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
            assertThat(appenders(root))
                    .singleElement()
                    .isInstanceOfSatisfying(
                            ConsoleAppender.class,
                            console -> assertThat(console.getTarget()).isEqualTo("System.err"));
            assertThat(context.getLogger("dev.proxyfilter.access").isInfoEnabled())
                    .isTrue();
            assertThat(context.getLogger("dev.proxyfilter.access").isAdditive()).isTrue();
            assertThat(context.getLogger("dev.proxyfilter.standalone.ProxyMain").isInfoEnabled())
                    .as("start-up messages")
                    .isTrue();
            assertThat(context.getLogger("org.eclipse.jetty.server.Server").isInfoEnabled())
                    .isFalse();
            assertThat(context.getLogger("org.eclipse.jetty.server.Server").isWarnEnabled())
                    .isTrue();
        } finally {
            context.stop();
        }
    }

    @Test
    void theCommentedBlockSendsTheAccessLogAloneToARotatedFile() throws Exception {
        String shipped = Files.readString(SHIPPED);
        int start = shipped.indexOf(BLOCK_START);
        int end = shipped.indexOf(BLOCK_END, start);
        assertThat(start).as("the commented block").isPositive();
        String uncommented = shipped.substring(0, start)
                + shipped.substring(start + BLOCK_START.length(), end)
                + shipped.substring(end + BLOCK_END.length());

        LoggerContext context = configure(uncommented);
        try {
            Logger access = context.getLogger("dev.proxyfilter.access");
            assertThat(access.isAdditive()).as("not on stderr too").isFalse();
            assertThat(appenders(access)).singleElement().isInstanceOfSatisfying(RollingFileAppender.class, file -> {
                assertThat(file.getFile()).isEqualTo(home + "/logs/access.log");
                assertThat(file.getRollingPolicy()).isInstanceOf(SizeAndTimeBasedRollingPolicy.class);
                assertThat(((SizeAndTimeBasedRollingPolicy<?>) file.getRollingPolicy()).getFileNamePattern())
                        .isEqualTo(home + "/logs/access.%d{yyyy-MM-dd}.%i.log.gz");
            });

            access.info("127.0.0.1 - - [07/Dec/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 10 \"-\" \"t\"");
            context.getLogger("dev.proxyfilter.standalone.ProxyMain").info("not an access line");
            assertNoWarnings(context);
        } finally {
            context.stop();
        }
        assertThat(Files.readString(home.resolve("logs/access.log")))
                .as("the line alone, as written")
                .isEqualTo("127.0.0.1 - - [07/Dec/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 10 \"-\" \"t\"\n");
    }
}
