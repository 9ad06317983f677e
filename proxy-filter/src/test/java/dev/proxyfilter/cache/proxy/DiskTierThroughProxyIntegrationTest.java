package dev.proxyfilter.cache.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.cache.proxy.CacheProxy.Reply;
import dev.proxyfilter.config.CacheConfig;
import dev.proxyfilter.testing.RawHttp;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The persistent disk tier of the Ehcache store: a stored response survives closing the engine and starting
 * a new one on the same folder, with its age carried on (RFC 9111 §4.2.3 resident time).
 */
@Timeout(60)
class DiskTierThroughProxyIntegrationTest {
    @TempDir
    Path folder;

    private static RawHttp.Response get(CacheProxy cache) throws Exception {
        return RawHttp.exchange(
                cache.proxy().uri(), "GET /d HTTP/1.1\r\nHost: cache.test\r\nConnection: close\r\n\r\n");
    }

    @Test
    void aStoredResponseSurvivesARestartOnTheSameFolder() throws Exception {
        CacheConfig config = CacheConfig.builder()
                .heapEntries(100)
                .disk(16, folder.resolve("cache"))
                .persistent(true)
                .maxEntryBytes(10_000)
                .coalesceTimeout(Duration.ofSeconds(30))
                .build();
        try (CacheProxy cache = CacheProxy.start(config)) {
            cache.script("/d", r -> Reply.ok("disk " + r.n()).cc("max-age=600"));
            get(cache); // the new proxy listens on another port: one Host for both, as behind a fixed name

            cache.restartProxy();
            cache.advanceSeconds(100);
            RawHttp.Response afterRestart = get(cache);

            assertThat(afterRestart.bodyText()).isEqualTo("disk 1");
            assertThat(afterRestart.header("Cache-Status")).contains("hit");
            assertThat(afterRestart.header("Age")).isEqualTo("100");
            assertThat(cache.count("/d")).isEqualTo(1);
        }
    }
}
