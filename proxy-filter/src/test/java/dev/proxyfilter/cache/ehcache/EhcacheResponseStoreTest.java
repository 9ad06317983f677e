package dev.proxyfilter.cache.ehcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.proxyfilter.cache.ResponseStore;
import dev.proxyfilter.cache.StoreEntry;
import dev.proxyfilter.cache.StoredResponse;
import dev.proxyfilter.cache.VaryIndex;
import dev.proxyfilter.config.CacheConfig;
import dev.proxyfilter.config.ConfigException;
import dev.proxyfilter.http.Header;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Ehcache-backed store: heap and off-heap tiers, the per-entry size limit, purge by prefix, the disk
 * tier across a close and reopen, and the {@code ehcache.xml} alternative. (The HTTP semantics on top are
 * RFC 9111's and tested against the in-memory store; this class tests storage only.)
 */
class EhcacheResponseStoreTest {
    private static final long T0 = 1_735_689_600_000L;

    @TempDir
    Path temp;

    private static StoredResponse response(String body) {
        return new StoredResponse(
                200,
                List.of(
                        new Header("Content-Type", "text/plain"),
                        new Header("ETag", "\"" + body + "\""),
                        new Header("X-Unicode", "caf\u00e9")),
                body.getBytes(StandardCharsets.UTF_8),
                T0,
                T0 + 5,
                List.of(new Header("accept-encoding", "gzip"), new Header("accept-language", null)));
    }

    private static String body(StoreEntry entry) {
        return StandardCharsets.UTF_8.decode(((StoredResponse) entry).body()).toString();
    }

    @Test
    void heapOnlyPutAndGet() {
        try (ResponseStore store =
                EhcacheResponseStore.open(CacheConfig.builder().heapEntries(10).build())) {
            assertThat(store.get("http://a/x")).isNull();
            assertThat(store.put("http://a/x", response("x"))).isTrue();
            assertThat(body(store.get("http://a/x"))).isEqualTo("x");
            store.remove("http://a/x");
            assertThat(store.get("http://a/x")).isNull();
            assertThat(store.stats().puts()).isEqualTo(1);
            assertThat(store.stats().hits()).isEqualTo(1);
            assertThat(store.stats().misses()).isEqualTo(2);
        }
    }

    @Test
    void entriesBeyondTheHeapLiveOffHeapInTheirByteForm() {
        try (ResponseStore store = EhcacheResponseStore.open(CacheConfig.builder()
                .heapEntries(2)
                .offHeapMb(2)
                .maxEntryBytes(64 * 1024)
                .build())) {
            for (int i = 0; i < 50; i++) {
                store.put("http://a/" + i, response("body-" + i));
            }
            store.put("http://a/index", new VaryIndex(List.of("accept-encoding"), 42L));
            for (int i = 0; i < 50; i++) {
                StoredResponse got = (StoredResponse) store.get("http://a/" + i);
                assertThat(got).as("entry %d", i).isNotNull();
                assertThat(body(got)).isEqualTo("body-" + i);
                assertThat(got.headers())
                        .containsExactlyElementsOf(response("body-" + i).headers());
                assertThat(got.varySelection())
                        .containsExactly(new Header("accept-encoding", "gzip"), new Header("accept-language", null));
                assertThat(got.requestTimeMillis()).isEqualTo(T0);
                assertThat(got.responseTimeMillis()).isEqualTo(T0 + 5);
            }
            assertThat(store.get("http://a/index")).isEqualTo(new VaryIndex(List.of("accept-encoding"), 42L));
            // Per-tier usage for the metrics: all 51 entries are off-heap (the authority), some bytes held there.
            assertThat(store.tiers()).containsKeys("OnHeap", "OffHeap");
            assertThat(store.tiers().get("OffHeap").entries()).isEqualTo(51);
            assertThat(store.tiers().get("OffHeap").bytes()).isPositive();
        }
    }

    @Test
    void aBodyAboveTheLimitIsRefusedAndRemovesTheOldEntry() {
        try (ResponseStore store = EhcacheResponseStore.open(
                CacheConfig.builder().heapEntries(10).maxEntryBytes(8).build())) {
            assertThat(store.put("k", response("12345678"))).isTrue();
            assertThat(store.put("k", response("123456789"))).isFalse();
            assertThat(store.get("k")).isNull();
            assertThat(store.stats().rejected()).isEqualTo(1);
            assertThat(store.maxEntryBytes()).isEqualTo(8);
        }
    }

    @Test
    void purgeByPrefixReachesVariantsAndSparesOtherKeys() {
        try (ResponseStore store = EhcacheResponseStore.open(CacheConfig.builder()
                .heapEntries(2)
                .offHeapMb(1)
                .maxEntryBytes(1024)
                .build())) {
            store.put("http://a/api/1", response("1"));
            store.put("http://a/api/2", response("2"));
            store.put("http://a/api/2\nff\naccept-encoding:gzip", response("2gz"));
            store.put("http://a/apix", response("x"));
            store.put("http://b/api/1", response("b"));

            assertThat(store.removeByPrefix("http://a/api/")).isEqualTo(3);
            assertThat(store.get("http://a/api/1")).isNull();
            assertThat(store.get("http://a/api/2\nff\naccept-encoding:gzip")).isNull();
            assertThat(store.get("http://a/apix")).isNotNull();
            assertThat(store.get("http://b/api/1")).isNotNull();
            assertThat(store.stats().removals()).isEqualTo(3);
        }
    }

    @Test
    void aPersistentDiskTierSurvivesACloseAndReopen() {
        CacheConfig config = CacheConfig.builder()
                .heapEntries(5)
                .offHeapMb(1)
                .disk(4, temp.resolve("disk"))
                .persistent(true)
                .maxEntryBytes(64 * 1024)
                .build();
        try (ResponseStore store = EhcacheResponseStore.open(config)) {
            for (int i = 0; i < 20; i++) {
                store.put("http://a/" + i, response("persisted-" + i));
            }
        }
        try (ResponseStore reopened = EhcacheResponseStore.open(config)) {
            for (int i = 0; i < 20; i++) {
                assertThat(reopened.get("http://a/" + i)).as("entry %d", i).isNotNull();
                assertThat(body(reopened.get("http://a/" + i))).isEqualTo("persisted-" + i);
            }
        }
    }

    @Test
    void aTransientDiskTierStartsEmpty() {
        CacheConfig config = CacheConfig.builder()
                .heapEntries(5)
                .disk(4, temp.resolve("scratch"))
                .persistent(false)
                .build();
        try (ResponseStore store = EhcacheResponseStore.open(config)) {
            store.put("http://a/1", response("1"));
            assertThat(store.get("http://a/1")).isNotNull();
        }
        try (ResponseStore reopened = EhcacheResponseStore.open(config)) {
            assertThat(reopened.get("http://a/1")).isNull();
        }
    }

    @Test
    void anEhcacheXmlTemplateSizesTheTiers() throws Exception {
        Path xml = temp.resolve("ehcache.xml");
        Files.writeString(xml, """
                <config xmlns="http://www.ehcache.org/v3">
                  <persistence directory="%s"/>
                  <cache-template name="proxy-filter">
                    <resources>
                      <heap unit="entries">3</heap>
                      <offheap unit="MB">1</offheap>
                      <disk unit="MB" persistent="true">4</disk>
                    </resources>
                  </cache-template>
                </config>
                """.formatted(temp.resolve("xml-disk")));
        CacheConfig config =
                CacheConfig.builder().ehcacheXml(xml).maxEntryBytes(1024).build();
        try (ResponseStore store = EhcacheResponseStore.open(config)) {
            for (int i = 0; i < 10; i++) {
                store.put("http://a/" + i, response("xml-" + i));
            }
        }
        try (ResponseStore reopened = EhcacheResponseStore.open(config)) {
            assertThat(body(reopened.get("http://a/9"))).isEqualTo("xml-9");
        }
    }

    @Test
    void anEhcacheXmlWithoutTheTemplateIsRefusedWithTheKeyAndFile() throws Exception {
        Path xml = temp.resolve("other.xml");
        Files.writeString(xml, """
                <config xmlns="http://www.ehcache.org/v3">
                  <cache-template name="something-else"><heap unit="entries">3</heap></cache-template>
                </config>
                """);
        assertThatThrownBy(() -> EhcacheResponseStore.fromXml(xml, 1024))
                .isInstanceOf(ConfigException.class)
                .hasMessage("cache.ehcache-xml: " + xml + " (expected: an Ehcache XML file with"
                        + " <cache-template name=\"proxy-filter\"> and no cache of that alias) [" + xml + "]");
    }

    @Test
    void anUnreadableEhcacheXmlIsRefused() throws Exception {
        Path xml = temp.resolve("broken.xml");
        Files.writeString(xml, "<config");
        assertThatThrownBy(() -> EhcacheResponseStore.fromXml(xml, 1024))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("cache.ehcache-xml: " + xml + " (expected: an Ehcache XML file");
    }

    @Test
    void theSerializerRoundTripsAndComparesByBytes() {
        StoreEntrySerializer serializer = new StoreEntrySerializer(getClass().getClassLoader());
        StoredResponse response = response("abc");
        StoredResponse read = (StoredResponse) serializer.read(serializer.serialize(response));
        assertThat(read.headers()).isEqualTo(response.headers());
        assertThat(serializer.equals(response, serializer.serialize(response))).isTrue();
        assertThat(serializer.equals(response("abd"), serializer.serialize(response)))
                .isFalse();
        byte[] corrupt = Arrays.copyOf(serializer.serialize(response).array(), 5);
        assertThatThrownBy(() -> serializer.read(java.nio.ByteBuffer.wrap(corrupt)))
                .isInstanceOf(org.ehcache.spi.serialization.SerializerException.class);
    }
}
