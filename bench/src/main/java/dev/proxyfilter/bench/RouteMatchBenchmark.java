package dev.proxyfilter.bench;

import dev.proxyfilter.route.RouteTable;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Route match: {@code RouteTable.match(host, path)}, which runs once per request, for tables of several
 * sizes, with and without virtual hosts.
 *
 * <p>Workload: a table of {@code routes} routes with prefixes one to three segments deep
 * ({@code /svc12}, {@code /svc12/v1}, {@code /svc12/v1/items}) plus the catch-all {@code /}. With
 * {@code hosts=virtual} a third of the routes belong to one of eight host names and the rest match any
 * host; with {@code hosts=none} every route matches any host. The thread cycles through 1,024
 * requests drawn with a fixed seed: paths under a random route, a few segments deeper than its prefix;
 * one in eight under no route but {@code /}, one in sixteen a near miss ({@code /svc12x}, which must
 * not match {@code /svc12}); Host headers in mixed case, some with a port, some unknown. Matching is
 * read-only, so one thread measures it; add {@code -t 2} to see two cores share the table.
 *
 * <p>Run, from the repository root:
 * <pre>
 * ./mvnw -B -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar RouteMatchBenchmark -f 1 -wi 2 -i 3 -w 1s -r 1s
 * </pre>
 * Add {@code -prof gc} to see the allocation per match (it should be 0 B/op).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class RouteMatchBenchmark {
    private static final int REQUESTS = 1024;
    private static final String[] HOSTS = {
        "www.example.com", "api.example.com", "shop.example.com", "static.example.com",
        "admin.example.com", "m.example.com", "img.example.com", "docs.example.com",
    };

    @Param({"4", "32", "256"})
    public int routes;

    @Param({"none", "virtual"})
    public String hosts;

    private RouteTable<String> table;
    private final String[] requestHosts = new String[REQUESTS];
    private final String[] requestPaths = new String[REQUESTS];
    private int next;

    @Setup
    public void setUp() {
        SplittableRandom random = new SplittableRandom(42);
        boolean virtual = "virtual".equals(hosts);
        List<RouteTable.Entry<String>> entries = new ArrayList<>();
        List<String> prefixes = new ArrayList<>();
        entries.add(new RouteTable.Entry<>(null, "/", "default"));
        for (int i = 0; i < routes; i++) {
            int depth = 1 + i % 3;
            StringBuilder prefix = new StringBuilder("/svc").append(i / 3);
            if (depth >= 2) {
                prefix.append("/v").append(i % 2 + 1);
            }
            if (depth == 3) {
                prefix.append("/items");
            }
            String host = virtual && i % 3 == 0 ? HOSTS[i % HOSTS.length] : null;
            entries.add(new RouteTable.Entry<>(host, prefix.toString(), "route-" + i));
            prefixes.add(prefix.toString());
        }
        table = RouteTable.of(entries);

        for (int r = 0; r < REQUESTS; r++) {
            int kind = random.nextInt(16);
            String prefix = prefixes.get(random.nextInt(prefixes.size()));
            String path;
            if (kind < 2) {
                path = "/other/" + r + "/index.html";
            } else if (kind == 2) {
                path = prefix + "x/" + r;
            } else {
                path = prefix + "/" + r + "/detail/" + random.nextInt(1000);
            }
            String host = HOSTS[random.nextInt(HOSTS.length)];
            switch (random.nextInt(4)) {
                case 0 -> host = host.toUpperCase(java.util.Locale.ROOT);
                case 1 -> host = host + ":8080";
                case 2 -> host = "unknown" + r + ".example.org";
                default -> {}
            }
            requestHosts[r] = host;
            requestPaths[r] = path;
        }
    }

    @Benchmark
    public String match() {
        int i = next;
        next = (i + 1) & (REQUESTS - 1);
        return table.match(requestHosts[i], requestPaths[i]);
    }
}
