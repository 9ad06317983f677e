package dev.proxyfilter.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.IMap;
import dev.proxyfilter.cluster.hazelcast.HazelcastBuckets;
import dev.proxyfilter.cluster.hazelcast.HazelcastCluster;
import dev.proxyfilter.config.CacheConfig;
import dev.proxyfilter.config.ClusterConfig;
import dev.proxyfilter.config.HashKey;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.config.RateLimitConfig;
import dev.proxyfilter.config.SecurityConfig;
import dev.proxyfilter.security.RateLimiter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.eclipse.jetty.client.ContentResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Rate limits across a cluster ({@code cluster.rate-limits=cluster}, the default once clustered): three engines
 * in one JVM, each with its own embedded Hazelcast member, real sockets. A limit of 10/s with a burst of 10 admits
 * about {@code 10 + 10 * seconds} requests in all, however they are spread over the instances, not three times
 * that; and a cluster that stops answering costs a request at most the timeout, never a hang.
 */
@Timeout(90)
class ClusterRateLimitIntegrationTest {
    private static final RateLimitConfig TEN_PER_SECOND =
            new RateLimitConfig(10, Duration.ofSeconds(1), 10, HashKey.clientIp());

    private ProxyCluster cluster;

    @AfterEach
    void close() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Every node limits every client IP to 10/s, burst 10, with {@code rateLimits} and {@code timeout}. */
    private static UnaryOperator<ProxyConfig> limited(ClusterConfig.RateLimitScope rateLimits, Duration timeout) {
        SecurityConfig security = new SecurityConfig(
                List.of(),
                SecurityConfig.ClientIpHeader.X_FORWARDED_FOR,
                List.of(),
                List.of(),
                TEN_PER_SECOND,
                SecurityConfig.DEFAULT_RATE_LIMIT_MAX_KEYS,
                0,
                List.of(),
                Map.of(),
                null,
                Map.of());
        return config ->
                config.withSecurity(security).withCluster(config.cluster().withRateLimits(rateLimits, timeout));
    }

    private static CacheConfig noCache() {
        return CacheConfig.disabled();
    }

    @Test
    void tenPerSecondHoldsAcrossThreeInstances() throws Exception {
        cluster = ProxyCluster.start(
                3,
                noCache(),
                (builder, origin) -> builder,
                // A timeout no scheduling hiccup of a busy 2-core machine reaches: this test is about the count.
                limited(ClusterConfig.RateLimitScope.CLUSTER, Duration.ofSeconds(2)));

        Tally tally = hammer(Duration.ofSeconds(2), 100);
        for (int node = 0; node < 3; node++) {
            RateLimiter limiter = cluster.proxy(node)
                    .engine()
                    .serving()
                    .security()
                    .rateLimiters()
                    .get("global");
            assertThat(limiter.sharedFailures())
                    .as("instance %d decided alone", node)
                    .isZero();
        }

        // One bucket for all: the burst plus the refill over the time the requests took, not three of each.
        double expected = 10 + 10 * tally.seconds;
        assertThat(tally.sent).as("requests sent").isGreaterThan(150);
        assertThat(tally.accepted)
                .as(
                        "accepted of %d in %.2f s over 3 instances (one bucket: about %.0f)",
                        tally.sent, tally.seconds, expected)
                // Slack for a busy machine: requests that reach the member late see more refill, and a node that
                // knows the bucket empty may start asking a few milliseconds after the next token is due.
                .isBetween((int) (0.8 * expected) - 2, (int) Math.ceil(expected) + 8)
                .isLessThan((int) (3 * expected) / 2);
        assertThat(tally.refused).isEqualTo(tally.sent - tally.accepted);
        assertThat(tally.acceptedPerNode).as("every instance admitted some").doesNotContain(0);
        assertThat(tally.refusal.getHeaders().get("RateLimit-Policy")).isEqualTo("\"global\";q=10;w=1");
        assertThat(tally.refusal.getHeaders().get("Retry-After")).isEqualTo("1");
    }

    @Test
    void aStalledClusterCostsAtMostTheTimeoutAndTheInstancesLimitOnTheirOwn() throws Exception {
        cluster = ProxyCluster.start(
                2,
                noCache(),
                (builder, origin) -> builder,
                limited(ClusterConfig.RateLimitScope.CLUSTER, Duration.ofMillis(100)));
        assertThat(cluster.get(0, "/warm").getStatus()).isEqualTo(200); // the bucket exists

        // Hold the partition of the client's bucket (on whichever member owns it) for 4 s: every call waits.
        IMap<String, byte[]> buckets =
                ((HazelcastCluster) cluster.proxy(0).engine().cluster()).map(HazelcastBuckets.MAP);
        var stalled =
                buckets.submitToKey(HazelcastBuckets.key("global", TEN_PER_SECOND, "ip:127.0.0.1"), new Stall(4_000));
        Thread.sleep(100); // the processor has started

        int[] accepted = new int[2];
        int refused = 0;
        long slowest = 0;
        long start = System.nanoTime();
        for (int i = 0; i < 60; i++) {
            int node = i % 2;
            long sent = System.nanoTime();
            ContentResponse response = cluster.get(node, "/r" + i);
            slowest = Math.max(slowest, System.nanoTime() - sent);
            if (response.getStatus() == 200) {
                accepted[node]++;
            } else {
                assertThat(response.getStatus()).isEqualTo(429);
                refused++;
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;

        assertThat(TimeUnit.NANOSECONDS.toMillis(slowest))
                .as("no request waits for the stalled cluster much longer than its 100 ms timeout")
                .isLessThan(1_000);
        // Each instance decided with its own bucket of 10 meanwhile: more than the cluster's, never unlimited.
        int own = (int) Math.ceil(10 + 10 * seconds);
        assertThat(accepted[0]).as("accepted by instance 0 in %.2f s", seconds).isBetween(9, own + 1);
        assertThat(accepted[1]).as("accepted by instance 1 in %.2f s", seconds).isBetween(9, own + 1);
        assertThat(refused).isPositive();
        RateLimiter limiter =
                cluster.proxy(0).engine().serving().security().rateLimiters().get("global");
        // One wait per second at most: after a failure an instance decides alone for 1 s.
        assertThat(limiter.sharedFailures()).isBetween(1L, (long) Math.ceil(seconds) + 1);
        stalled.toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** Requests spread round-robin over the instances at {@code perSecond}, for {@code duration}. */
    private Tally hammer(Duration duration, int perSecond) throws Exception {
        List<CompletableFuture<ContentResponse>> responses = new ArrayList<>();
        List<Integer> nodes = new ArrayList<>();
        long intervalNanos = TimeUnit.SECONDS.toNanos(1) / perSecond;
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        long next = start;
        long last = start;
        for (int i = 0; System.nanoTime() < end; i++) {
            int node = i % cluster.size();
            nodes.add(node);
            responses.add(cluster.getAsync(node, "/limited/" + i));
            last = System.nanoTime();
            next += intervalNanos;
            long sleep = next - System.nanoTime();
            if (sleep > 0) {
                TimeUnit.NANOSECONDS.sleep(sleep);
            }
        }
        Tally tally = new Tally(cluster.size());
        for (int i = 0; i < responses.size(); i++) {
            ContentResponse response = responses.get(i).get(30, TimeUnit.SECONDS);
            tally.sent++;
            if (response.getStatus() == 200) {
                tally.accepted++;
                tally.acceptedPerNode[nodes.get(i)]++;
            } else if (response.getStatus() == 429) {
                tally.refused++;
                tally.refusal = response;
            }
        }
        tally.seconds = (last - start) / 1e9; // from the first request to the last: the bucket's refill time
        return tally;
    }

    private static final class Tally {
        int sent;
        int accepted;
        int refused;
        final int[] acceptedPerNode;
        ContentResponse refusal;
        double seconds;

        Tally(int nodes) {
            this.acceptedPerNode = new int[nodes];
        }
    }

    /** Holds its partition's thread: a member too busy (or too far) to answer in time. */
    static final class Stall implements EntryProcessor<String, byte[], Boolean> {
        private static final long serialVersionUID = 1L;
        private final long millis;

        Stall(long millis) {
            this.millis = millis;
        }

        @Override
        public Boolean process(Map.Entry<String, byte[]> entry) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Boolean.TRUE;
        }

        @Override
        public EntryProcessor<String, byte[], Boolean> getBackupProcessor() {
            return null; // reads nothing, changes nothing
        }
    }
}
