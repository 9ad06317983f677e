package dev.proxyfilter.bench;

import dev.proxyfilter.cache.CacheKeys;
import dev.proxyfilter.cache.VaryIndex;
import dev.proxyfilter.http.Header;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpFields;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Cache key building, once (primary) or three times (a {@code Vary} lookup) per cacheable request:
 * {@code CacheKeys.primary(method, scheme, host, path, query)}, and for a resource that says
 * {@code Vary: Accept-Encoding, Accept-Language} the selection of the request's header values plus the
 * variant key.
 *
 * <p>Workload: 4,096 request URIs, Zipf-distributed (s = 1) over 10,000 distinct resources so that some
 * repeat as real traffic does, in mixed-case hosts with and without a default port, paths one to four
 * segments deep, half with a query string; request headers with the two {@code Vary} fields written in
 * varying whitespace and case. The thread cycles through them.
 *
 * <p>Run, from the repository root:
 * <pre>
 * ./mvnw -B -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar CacheKeyBenchmark -f 1 -wi 2 -i 3 -w 1s -r 1s
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class CacheKeyBenchmark {
    private static final int REQUESTS = 4096;
    private static final String[] HOSTS = {
        "www.example.com", "WWW.Example.com:80", "api.example.com", "Shop.Example.COM"
    };
    private static final String[] ENCODINGS = {"gzip, br", "gzip,br", "br", "GZIP, deflate"};
    private static final String[] LANGUAGES = {"en", "en-GB,en;q=0.8", "de", "fr, en ;q=0.5"};
    private static final List<String> VARY = List.of("accept-encoding", "accept-language");

    private final String[] hosts = new String[REQUESTS];
    private final String[] paths = new String[REQUESTS];
    private final String[] queries = new String[REQUESTS];
    private final HttpFields[] headers = new HttpFields[REQUESTS];
    private final VaryIndex index = new VaryIndex(VARY, 42L);
    private int next;

    @Setup
    public void setUp() {
        int[] ranks = new Zipf(10_000, 1.0, 42).draw(REQUESTS);
        for (int i = 0; i < REQUESTS; i++) {
            int r = ranks[i];
            hosts[i] = HOSTS[r % HOSTS.length];
            StringBuilder path = new StringBuilder();
            for (int depth = 0; depth <= r % 4; depth++) {
                path.append("/seg").append((r >> depth) % 97);
            }
            paths[i] = path.append("/item").append(r).append(".html").toString();
            queries[i] = r % 2 == 0 ? null : "page=" + (r % 13) + "&sort=desc";
            headers[i] = HttpFields.build()
                    .add("Accept-Encoding", ENCODINGS[r % ENCODINGS.length])
                    .add("accept-language", LANGUAGES[(r / 3) % LANGUAGES.length])
                    .add("User-Agent", "bench/1.0")
                    .asImmutable();
        }
    }

    @Benchmark
    public String primary() {
        int i = next++ & (REQUESTS - 1);
        return CacheKeys.primary("GET", "http", hosts[i], paths[i], queries[i]);
    }

    @Benchmark
    public String variant() {
        int i = next++ & (REQUESTS - 1);
        String primary = CacheKeys.primary("GET", "http", hosts[i], paths[i], queries[i]);
        List<Header> selection = CacheKeys.varySelection(VARY, headers[i]);
        return CacheKeys.variant(primary, index, selection);
    }
}
