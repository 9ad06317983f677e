package dev.proxyfilter.balance;

import dev.proxyfilter.config.BackendConfig;
import dev.proxyfilter.config.HealthConfig;
import dev.proxyfilter.config.PoolConfig;
import dev.proxyfilter.config.StickyConfig;
import dev.proxyfilter.config.StrategyName;
import dev.proxyfilter.testing.FakeClock;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/** Pools for the health tests: backends a, b, c, ... on a fake clock, with a recording listener. */
final class HealthPools {
    private HealthPools() {}

    /** Primary backends of the given weights. */
    static List<BackendConfig> primaries(int... weights) {
        List<BackendConfig> backends = new ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            backends.add(backend(i, weights[i], false));
        }
        return backends;
    }

    static BackendConfig backend(int index, int weight, boolean backup) {
        String name = String.valueOf((char) ('a' + index));
        return new BackendConfig(name, URI.create("http://" + name + ".internal:8080"), weight, backup);
    }

    static BackendPool pool(
            FakeClock clock,
            RecordingListener listener,
            HealthConfig health,
            StrategyName strategy,
            List<BackendConfig> backends) {
        return pool(clock, listener, health, strategy, null, backends);
    }

    static BackendPool pool(
            FakeClock clock,
            RecordingListener listener,
            HealthConfig health,
            StrategyName strategy,
            StickyConfig sticky,
            List<BackendConfig> backends) {
        return new BackendPool(new PoolConfig("web", strategy, backends, null, sticky, health), listener, clock);
    }

    /** The names of {@code n} picks, "-" for none. */
    static String picks(BackendPool pool, int n) {
        StringBuilder names = new StringBuilder();
        for (int i = 0; i < n; i++) {
            Backend backend = pool.select(null);
            names.append(backend == null ? "-" : backend.name());
        }
        return names.toString();
    }

    /** How often each backend is picked in {@code n} picks, in pool order. */
    static int[] counts(BackendPool pool, int n) {
        int[] counts = new int[pool.backends().size()];
        for (int i = 0; i < n; i++) {
            counts[pool.backends().indexOf(pool.select(null))]++;
        }
        return counts;
    }

    /** {@code n} failed checks of {@code backend}. */
    static void failChecks(Backend backend, int n) {
        for (int i = 0; i < n; i++) {
            backend.health().onProbeResult(false, "connect refused");
        }
    }

    /** {@code n} passed checks of {@code backend}. */
    static void passChecks(Backend backend, int n) {
        for (int i = 0; i < n; i++) {
            backend.health().onProbeResult(true, "status 200");
        }
    }

    /** {@code n} failed requests to {@code backend}: 503s. */
    static void failRequests(Backend backend, int n) {
        for (int i = 0; i < n; i++) {
            backend.health().onResponseStatus(503);
        }
    }
}
