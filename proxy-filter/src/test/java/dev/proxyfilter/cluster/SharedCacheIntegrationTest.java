package dev.proxyfilter.cluster;

import static dev.proxyfilter.cluster.ProxyCluster.cacheStatus;
import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.map.IMap;
import dev.proxyfilter.cache.hazelcast.HazelcastSharedCache;
import dev.proxyfilter.cluster.hazelcast.HazelcastCluster;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.http.HttpMethod;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The shared response cache through three real proxy instances in one cluster: what one stores, the others
 * hit, variants and validators included; {@code Cache-Status} says which tier answered; a body over the
 * per-entry limit stays out of the shared tier.
 */
@Timeout(60)
class SharedCacheIntegrationTest {
    private ProxyCluster cluster;

    @AfterEach
    void close() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aResponseCachedThroughOneInstanceIsAHitOnEveryOther() throws Exception {
        cluster = ProxyCluster.start(3);

        ContentResponse first = cluster.get(0, "/a");
        ContentResponse second = cluster.get(1, "/a");
        ContentResponse third = cluster.get(2, "/a");
        ContentResponse again = cluster.get(0, "/a");

        assertThat(first.getContentAsString()).isEqualTo("/a 1");
        assertThat(cacheStatus(first)).contains("fwd=uri-miss", "stored");
        assertThat(second.getContentAsString()).isEqualTo("/a 1");
        assertThat(cacheStatus(second)).startsWith("proxy-filter; hit").endsWith("detail=shared");
        assertThat(third.getContentAsString()).isEqualTo("/a 1");
        assertThat(cacheStatus(third)).contains("hit").endsWith("detail=shared");
        assertThat(cacheStatus(again)).contains("hit").endsWith("detail=local");
        assertThat(cluster.count("/a")).isEqualTo(1);
    }

    @Test
    void variantsAndValidatorsWorkAcrossInstancesAsOnOne() throws Exception {
        cluster = ProxyCluster.start(3);
        cluster.script("/v", (n, request, response) -> {
            response.setHeader("Cache-Control", "max-age=60");
            response.setHeader("Vary", "Accept-Language");
            response.getWriter().print("v " + n);
        });
        List<String> conditions = new CopyOnWriteArrayList<>();
        cluster.script("/e", (n, request, response) -> {
            String condition = request.getHeader("If-None-Match");
            conditions.add(String.valueOf(condition));
            response.setHeader("Cache-Control", "no-cache");
            response.setHeader("ETag", "\"e1\"");
            if ("\"e1\"".equals(condition)) {
                response.setStatus(304);
            } else {
                response.getWriter().print("e " + n);
            }
        });

        String en0 = language(0, "en");
        String en1 = language(1, "en");
        String fr1 = language(1, "fr");
        String fr2 = language(2, "fr");
        String en2 = language(2, "en");

        assertThat(List.of(en0, en1, fr1, fr2, en2)).containsExactly("v 1", "v 1", "v 2", "v 2", "v 1");
        assertThat(cluster.count("/v")).isEqualTo(2);

        // no-cache: stored, but validated on every use, from whichever instance uses it.
        ContentResponse stored = cluster.get(0, "/e");
        ContentResponse validated = cluster.get(1, "/e");

        assertThat(stored.getContentAsString()).isEqualTo("e 1");
        assertThat(validated.getStatus()).isEqualTo(200);
        assertThat(validated.getContentAsString()).isEqualTo("e 1");
        assertThat(cacheStatus(validated)).contains("fwd=stale", "fwd-status=304");
        assertThat(conditions).containsExactly("null", "\"e1\"");
    }

    @Test
    void aBodyOverTheEntryLimitStaysOutOfTheSharedTier() throws Exception {
        cluster = ProxyCluster.start(2);
        byte[] big = "x".repeat(20_000).getBytes(StandardCharsets.US_ASCII); // the limit is 10 000
        cluster.script("/big", (n, request, response) -> {
            response.setHeader("Cache-Control", "max-age=60");
            response.setContentLength(big.length);
            response.getOutputStream().write(big);
        });

        ContentResponse first = cluster.get(0, "/big");
        ContentResponse second = cluster.get(1, "/big");

        assertThat(first.getContent()).hasSize(big.length);
        assertThat(cacheStatus(first)).contains("detail=too-large");
        assertThat(cacheStatus(second)).contains("fwd=uri-miss");
        assertThat(cluster.count("/big")).isEqualTo(2);
        IMap<String, ?> shared = ((HazelcastCluster) cluster.proxy(1).engine().cluster()).map(HazelcastSharedCache.MAP);
        assertThat(shared.containsKey(ProxyCluster.url("/big"))).isFalse();
    }

    private String language(int node, String language) throws Exception {
        ContentResponse response = cluster.request(node, HttpMethod.GET, "/v")
                .headers(headers -> headers.put("Accept-Language", language))
                .send();
        return response.getContentAsString();
    }
}
