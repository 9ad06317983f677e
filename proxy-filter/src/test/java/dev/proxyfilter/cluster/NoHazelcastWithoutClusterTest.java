package dev.proxyfilter.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Without a {@code cluster.*} key, no Hazelcast class loads: the proxy's classes run in a class loader of their
 * own, which records every {@code com.hazelcast} class they ask for (and has none to give). A single proxy with
 * its cache on serves a miss and a hit without asking for one. Asked for a cluster, the engine names the
 * missing optional dependency instead of failing with a {@link NoClassDefFoundError}.
 *
 * <p>Other tests of this JVM load Hazelcast, so the JVM's own view proves nothing; a fresh loader does. The
 * layering rule in {@code ArchitectureTest} says the same statically: nothing outside the Hazelcast packages
 * refers to them, so the only way in is by name.
 */
@Timeout(60)
class NoHazelcastWithoutClusterTest {

    @Test
    void aSingleProxyWithItsCacheOnLoadsNoHazelcastClass() throws Exception {
        try (Isolated loader = new Isolated()) {
            String statuses = (String) loader.loadClass(SingleNodeScenario.class.getName())
                    .getMethod("missThenHit")
                    .invoke(null);

            assertThat(statuses).contains("fwd=uri-miss", "stored", "| proxy-filter; hit");
            assertThat(loader.hazelcastRequests).isEmpty();
        }
    }

    @Test
    void aClusterWithoutHazelcastOnTheClassPathNamesTheMissingDependency() throws Exception {
        try (Isolated loader = new Isolated()) {
            String message = (String) loader.loadClass(SingleNodeScenario.class.getName())
                    .getMethod("clusterWithoutHazelcast")
                    .invoke(null);

            assertThat(message)
                    .isEqualTo("cluster.enabled: true (expected: com.hazelcast:hazelcast 5.x on the class path too,"
                            + " an optional dependency of proxy-filter)");
            assertThat(loader.hazelcastRequests).isNotEmpty(); // it tried, by name
        }
    }

    /**
     * Loads {@code dev.proxyfilter} classes itself from the build's class folders (child first), refuses every
     * {@code com.hazelcast} class and records the request, and leaves everything else to the test's loader.
     */
    private static final class Isolated extends URLClassLoader {
        final List<String> hazelcastRequests = new CopyOnWriteArrayList<>();

        Isolated() throws Exception {
            super(
                    new URL[] {
                        Path.of("target", "classes").toUri().toURL(),
                        Path.of("target", "test-classes").toUri().toURL()
                    },
                    NoHazelcastWithoutClusterTest.class.getClassLoader());
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (name.startsWith("com.hazelcast.")) {
                hazelcastRequests.add(name);
                throw new ClassNotFoundException(name + " (hidden by the test)");
            }
            if (!name.startsWith("dev.proxyfilter.")) {
                return super.loadClass(name, resolve);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> loaded = findLoadedClass(name);
                if (loaded == null) {
                    loaded = findClass(name);
                }
                if (resolve) {
                    resolveClass(loaded);
                }
                return loaded;
            }
        }
    }
}
