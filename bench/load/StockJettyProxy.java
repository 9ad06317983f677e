import jakarta.servlet.http.HttpServletRequest;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.ee10.proxy.AsyncProxyServlet;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * The reference of issue 8: Jetty 12's stock {@code AsyncProxyServlet} on a stock Jetty server, with
 * nothing tuned, spreading requests round-robin over the origins. It is what "proxy with plain Jetty"
 * costs, against which our proxy must do at least 2.0x on 100-byte responses.
 *
 * <p>bench/load/run.sh compiles it against the distribution's lib/ (which ships jetty-ee10-proxy) and runs
 * it with the distribution's default JVM options:
 * <pre>
 * javac -d OUT -cp 'jetty-distribution/target/proxy-filter/lib/*' bench/load/StockJettyProxy.java
 * java -cp 'OUT:jetty-distribution/target/proxy-filter/lib/*' StockJettyProxy 127.0.0.1 PORT http://127.0.0.1:P1 http://127.0.0.1:P2
 * </pre>
 */
public final class StockJettyProxy {
    private StockJettyProxy() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: StockJettyProxy HOST PORT ORIGIN_URL...");
            System.exit(2);
        }
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost(args[0]);
        connector.setPort(Integer.parseInt(args[1]));
        server.addConnector(connector);

        ServletContextHandler context = new ServletContextHandler("/");
        ServletHolder holder = new ServletHolder("proxy", new RoundRobin(Arrays.copyOfRange(args, 2, args.length)));
        holder.setAsyncSupported(true);
        context.addServlet(holder, "/*");
        server.setHandler(context);
        server.setStopAtShutdown(true);
        server.start();
        System.err.println("stock AsyncProxyServlet listening on http://" + args[0] + ":" + connector.getLocalPort());
        server.join();
    }

    /** AsyncProxyServlet as shipped; only the target is chosen, in turn among the origins. */
    public static final class RoundRobin extends AsyncProxyServlet {
        private final String[] origins;
        private final AtomicInteger next = new AtomicInteger();

        RoundRobin(String[] origins) {
            this.origins = origins;
        }

        @Override
        protected String rewriteTarget(HttpServletRequest request) {
            String origin = origins[Math.floorMod(next.getAndIncrement(), origins.length)];
            String query = request.getQueryString();
            return origin + request.getRequestURI() + (query == null ? "" : "?" + query);
        }
    }
}
