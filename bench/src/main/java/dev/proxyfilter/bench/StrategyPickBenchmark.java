package dev.proxyfilter.bench;

import dev.proxyfilter.balance.Backend;
import dev.proxyfilter.balance.BackendPool;
import dev.proxyfilter.balance.RequestView;
import dev.proxyfilter.config.BackendConfig;
import dev.proxyfilter.config.HashKey;
import dev.proxyfilter.config.PoolConfig;
import dev.proxyfilter.config.StrategyName;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;

/**
 * Backend picks under contention, one {@code @Param} per strategy.
 *
 * <p>Workload: one pool of five backends with weights 5, 1, 1, 2, 3, shared by two threads
 * ({@code @Threads(2)}, the size of CI's machine) that pick as fast as they can. Each thread cycles
 * through 1,024 requests with distinct {@code X-User} headers, the key of {@code consistent-hash}; the
 * other strategies do not read them. Response-time starts with a latency reported for every backend.
 * <ul>
 *   <li>{@link #pick} is {@code BackendPool.select} alone: the strategy's cost and its shared state
 *       (the WRR lock, the round-robin counter, the ring).</li>
 *   <li>{@link #pickAndFinish} adds what the engine does per request around the pick: count the request
 *       in and out ({@code onRequestStart}/{@code onRequestEnd}) and report its latency
 *       ({@code onResponse}), so that least-request reads counters the other thread writes.</li>
 * </ul>
 *
 * <p>Run, from the repository root:
 * <pre>
 * ./mvnw -B -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar StrategyPickBenchmark -f 1 -wi 2 -i 3 -w 1s -r 1s
 * </pre>
 * Add {@code -p strategy=least-request} to run one strategy, {@code -prof gc} to see allocation per pick
 * (it should be 0 B/op).
 */
@State(Scope.Benchmark)
@Threads(2)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class StrategyPickBenchmark {
    private static final int[] WEIGHTS = {5, 1, 1, 2, 3};

    @Param({"weighted-round-robin", "round-robin", "random", "least-request", "response-time", "consistent-hash"})
    public String strategy;

    private BackendPool pool;

    @Setup
    public void setUp() {
        StrategyName configured = StrategyName.fromConfigName(strategy).orElseThrow();
        List<BackendConfig> backends = new ArrayList<>();
        for (int i = 0; i < WEIGHTS.length; i++) {
            backends.add(new BackendConfig("b" + i, URI.create("http://10.0.0." + (i + 1) + ":8080"), WEIGHTS[i]));
        }
        HashKey key = configured == StrategyName.CONSISTENT_HASH ? HashKey.header("X-User") : null;
        pool = new BackendPool(new PoolConfig("bench", configured, backends, key, null));
        for (Backend backend : pool.backends()) {
            backend.onResponse(TimeUnit.MILLISECONDS.toNanos(2 + backend.weight()));
        }
    }

    /** Each thread's requests, cycled through. */
    @State(Scope.Thread)
    public static class Requests {
        private final RequestView[] views = new RequestView[1024];
        private int next;

        @Setup
        public void setUp() {
            for (int i = 0; i < views.length; i++) {
                views[i] = new UserRequest("user-" + i);
            }
        }

        RequestView next() {
            RequestView view = views[next];
            next = (next + 1) & (views.length - 1);
            return view;
        }
    }

    @Benchmark
    public Backend pick(Requests requests) {
        return pool.select(requests.next(), null);
    }

    @Benchmark
    public Backend pickAndFinish(Requests requests) {
        Backend backend = pool.select(requests.next(), null);
        backend.onRequestStart();
        backend.onResponse(1_000_000);
        backend.onRequestEnd();
        return backend;
    }

    /** A request from one user, as the engine's view answers: fields read, nothing allocated. */
    private static final class UserRequest implements RequestView {
        private final String user;

        UserRequest(String user) {
            this.user = user;
        }

        @Override
        public String clientIp() {
            return "192.0.2.7";
        }

        @Override
        public String header(String name) {
            return "X-User".equalsIgnoreCase(name) ? user : null;
        }

        @Override
        public String cookie(String name) {
            return null;
        }

        @Override
        public String path() {
            return "/";
        }
    }
}
