import dev.proxyfilter.config.ConfigLoader;
import dev.proxyfilter.config.ConfigSource;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.forward.ProxyEngine;
import dev.proxyfilter.servlet.ProxyFilter;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;

/**
 * Issue 8's "filter in Tomcat" target: our {@code ProxyFilter} in an embedded Tomcat 11 with stock
 * settings, reading the same configuration file as the standalone proxy (it listens on
 * {@code server.host:server.port}). Requests no route takes reach a servlet that answers 404, as a webapp
 * behind the filter would.
 *
 * <p>bench/load/run.sh compiles it against Tomcat's embed jar and the distribution's lib/, Tomcat first
 * (it brings Servlet 6.1), and runs it with the distribution's default JVM options:
 * <pre>
 * javac -d OUT -cp "$TOMCAT_JAR:jetty-distribution/target/proxy-filter/lib/*" bench/load/TomcatFilterProxy.java
 * java -cp "OUT:$TOMCAT_JAR:$TOMCAT_ANNOTATIONS_JAR:jetty-distribution/target/proxy-filter/lib/*" TomcatFilterProxy proxy.properties
 * </pre>
 */
public final class TomcatFilterProxy {
    private TomcatFilterProxy() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: TomcatFilterProxy CONFIG_FILE");
            System.exit(2);
        }
        ProxyConfig config = ConfigLoader.load(List.of(ConfigSource.ofFile(Path.of(args[0]))));
        ProxyEngine engine = ProxyEngine.start(config);

        Path base = Files.createTempDirectory("tomcat-filter-bench");
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(base.toString());
        Connector connector = new Connector();
        connector.setProperty("address", config.server().host());
        connector.setPort(config.server().port());
        tomcat.setConnector(connector);
        Context context = tomcat.addContext("", base.toString());
        Tomcat.addServlet(context, "none", new NotFound()).setAsyncSupported(true);
        context.addServletMappingDecoded("/", "none");
        FilterDef filter = new FilterDef();
        filter.setFilterName("proxy");
        filter.setFilter(new ProxyFilter(engine));
        filter.setAsyncSupported("true");
        context.addFilterDef(filter);
        FilterMap map = new FilterMap();
        map.setFilterName("proxy");
        map.addURLPattern("/*");
        context.addFilterMap(map);
        tomcat.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                tomcat.stop();
                tomcat.destroy();
            } catch (Exception e) {
                // exiting anyway
            }
            engine.close();
        }));
        System.err.println("ProxyFilter in Tomcat listening on http://" + config.server().host() + ":" + connector.getLocalPort());
        tomcat.getServer().await();
    }

    /** What the webapp behind the filter answers when no route takes a request. */
    public static final class NotFound extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest request, HttpServletResponse response) {
            response.setStatus(404);
        }
    }
}
