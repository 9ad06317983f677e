package dev.proxyfilter.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.proxyfilter.config.CacheConfig;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The {@link CacheConfig} record: defaults, and the validation of its compact constructor with messages of
 * the {@code key: value (expected: constraint)} shape naming the proposed {@code cache.*} keys.
 */
class CacheConfigTest {

    @Test
    void defaultsAndDisabled() {
        CacheConfig defaults = CacheConfig.builder().build();
        assertThat(defaults.enabled()).isTrue();
        assertThat(defaults.heapEntries()).isEqualTo(1000);
        assertThat(defaults.offHeapMb()).isZero();
        assertThat(defaults.hasDiskTier()).isFalse();
        assertThat(defaults.maxEntryBytes()).isEqualTo(1 << 20);
        assertThat(defaults.coalesceTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(defaults.maxHeuristicFreshness()).isEqualTo(Duration.ofHours(24));
        assertThat(CacheConfig.disabled().enabled()).isFalse();
        assertThat(defaults.toBuilder().build()).isEqualTo(defaults);
    }

    @Test
    void persistenceOnlyMeansSomethingWithADiskTier() {
        assertThat(CacheConfig.builder().persistent(true).build().persistent()).isFalse();
        assertThat(CacheConfig.builder()
                        .disk(10, Path.of("cache"))
                        .persistent(true)
                        .build()
                        .persistent())
                .isTrue();
    }

    private static void rejects(CacheConfig.Builder builder, String message) {
        assertThatThrownBy(builder::build)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(message);
    }

    @Test
    void badValuesNameTheirKey() {
        rejects(CacheConfig.builder().heapEntries(0), "cache.heap-entries: 0 (expected: integer >= 1)");
        rejects(CacheConfig.builder().offHeapMb(-1), "cache.off-heap-mb: -1 (expected: integer >= 0)");
        rejects(CacheConfig.builder().disk(-1, null), "cache.disk-mb: -1 (expected: integer >= 0)");
        rejects(
                CacheConfig.builder().disk(10, null),
                "cache.disk-path: missing (expected: a folder when cache.disk-mb > 0)");
        rejects(
                CacheConfig.builder().disk(0, Path.of("d")),
                "cache.disk-mb: 0 (expected: > 0 when cache.disk-path is set)");
        rejects(
                CacheConfig.builder().offHeapMb(64).disk(64, Path.of("d")),
                "cache.disk-mb: 64 (expected: more than cache.off-heap-mb = 64)");
        rejects(CacheConfig.builder().maxEntryBytes(0), "cache.max-entry-bytes: 0 (expected: integer 1..2147483583)");
        rejects(
                CacheConfig.builder().offHeapMb(1).maxEntryBytes(2 << 20),
                "cache.max-entry-bytes: 2097152 (expected: at most cache.off-heap-mb = 1 MiB)");
        rejects(
                CacheConfig.builder().offHeapMb(1).ehcacheXml(Path.of("ehcache.xml")),
                "cache.ehcache-xml: ehcache.xml (expected: not together with cache.off-heap-mb or cache.disk-mb: the XML"
                        + " sizes the tiers)");
        rejects(
                CacheConfig.builder().coalesceTimeout(Duration.ofSeconds(-1)),
                "cache.coalesce-timeout: PT-1S (expected: duration >= 0)");
        rejects(
                CacheConfig.builder().maxHeuristicFreshness(Duration.ofSeconds(-1)),
                "cache.heuristic-max: PT-1S (expected: duration >= 0)");
    }
}
