package dev.proxyfilter.balance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.proxyfilter.config.BackendConfig;
import dev.proxyfilter.config.HashKey;
import dev.proxyfilter.config.PoolConfig;
import dev.proxyfilter.config.StickyConfig;
import dev.proxyfilter.config.StrategyName;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackendPoolTest {

    private static PoolConfig config(StrategyName strategy, int... weights) {
        return new PoolConfig("web", strategy, backendConfigs(weights));
    }

    private static List<BackendConfig> backendConfigs(int... weights) {
        List<BackendConfig> backends = new java.util.ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            String name = String.valueOf((char) ('a' + i));
            backends.add(new BackendConfig(name, URI.create("http://" + name + ".internal:808" + i), weights[i]));
        }
        return backends;
    }

    private static String picks(BackendPool pool, int n) {
        StringBuilder names = new StringBuilder();
        for (int i = 0; i < n; i++) {
            names.append(pool.select(null).name());
        }
        return names.toString();
    }

    @Test
    void buildsOneBackendPerConfigInOrder() {
        BackendPool pool = new BackendPool(config(StrategyName.ROUND_ROBIN, 2, 0, 1));

        assertThat(pool.name()).isEqualTo("web");
        assertThat(pool.backends()).extracting(Backend::name).containsExactly("a", "b", "c");
        assertThat(pool.backends()).extracting(Backend::pool).containsOnly("web");
        assertThat(pool.backends()).extracting(Backend::weight).containsExactly(2, 0, 1);
        assertThat(pool.backends()).extracting(Backend::port).containsExactly(8080, 8081, 8082);
        assertThat(pool.backends()).allMatch(Backend::available);
        assertThat(pool).hasToString("BackendPool[web, round-robin, 3 backends]");
        assertThatThrownBy(() -> pool.backends().clear()).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void selectsWithTheConfiguredStrategy() {
        assertThat(picks(new BackendPool(config(StrategyName.WEIGHTED_ROUND_ROBIN, 5, 1, 1)), 14))
                .isEqualTo("aabacaa".repeat(2));
        assertThat(picks(new BackendPool(config(StrategyName.ROUND_ROBIN, 5, 1, 1)), 6))
                .isEqualTo("abcabc");
        assertThat(picks(new BackendPool(config(StrategyName.RANDOM, 0, 1, 0)), 20))
                .isEqualTo("b".repeat(20));
    }

    @Test
    void retryAvoidsTheBackendAlreadyTried() {
        BackendPool pool = new BackendPool(config(StrategyName.WEIGHTED_ROUND_ROBIN, 5, 1));
        Backend a = pool.backends().get(0);
        Backend b = pool.backends().get(1);

        assertThat(pool.select(a)).isSameAs(b);

        b.available(false);
        assertThat(pool.select(a)).isSameAs(a);

        a.available(false);
        assertThat(pool.select(a)).isNull();
        assertThat(pool.select(null)).isNull();
    }

    @Test
    void runtimeChangesTakeEffectOnTheNextPick() {
        BackendPool pool = new BackendPool(config(StrategyName.WEIGHTED_ROUND_ROBIN, 1, 1));

        pool.backends().get(0).weight(0);
        assertThat(picks(pool, 3)).isEqualTo("bbb");

        pool.backends().get(0).weight(2);
        assertThat(picks(pool, 6)).isEqualTo("abaaba");
    }

    // Session affinity

    private static BackendPool sticky(StrategyName strategy, HashKey key, int... weights) {
        return new BackendPool(
                new PoolConfig("web", strategy, backendConfigs(weights), key, new StickyConfig("route")));
    }

    private static RequestView withRoute(String value) {
        return TestRequest.withCookie("10.0.0.1", "route", value);
    }

    @Test
    void stickyIdsAreOpaqueStableAndDistinct() {
        String a = BackendPool.stickyId("web", "a");

        assertThat(a)
                .matches("[0-9a-f]{16}")
                .isEqualTo(BackendPool.stickyId("web", "a"))
                .doesNotContain("web")
                .isNotEqualTo("a");
        assertThat(BackendPool.stickyId("web", "b")).isNotEqualTo(a);
        assertThat(BackendPool.stickyId("api", "a"))
                .as("same backend name, other pool")
                .isNotEqualTo(a);
        // Pinned: the id is what clients hold, so a change would break every session on upgrade.
        assertThat(a).isEqualTo(PINNED_STICKY_ID_WEB_A);
    }

    @Test
    void aCookieNamingAnEligibleBackendWinsOverTheStrategy() {
        BackendPool pool = sticky(StrategyName.ROUND_ROBIN, null, 1, 1, 1);
        Backend c = pool.backends().get(2);
        RequestView request = withRoute(BackendPool.stickyId("web", "c"));

        for (int i = 0; i < 10; i++) {
            assertThat(pool.select(request, null)).isSameAs(c);
        }
        assertThat(pool.stickyCookie(request, c))
                .as("the cookie is already right")
                .isNull();
        assertThat(pool).hasToString("BackendPool[web, round-robin, 3 backends, sticky cookie:route]");
    }

    @Test
    void withoutAUsableCookieTheStrategyPicksAndTheResponseSetsTheCookie() {
        BackendPool pool = sticky(StrategyName.ROUND_ROBIN, null, 1, 1);
        Backend a = pool.backends().get(0);
        Backend b = pool.backends().get(1);
        String setCookieA = "route=" + BackendPool.stickyId("web", "a") + "; Path=/; HttpOnly";
        String setCookieB = "route=" + BackendPool.stickyId("web", "b") + "; Path=/; HttpOnly";

        // No cookie: round-robin.
        assertThat(pool.select(RequestView.NONE, null)).isSameAs(a);
        assertThat(pool.stickyCookie(RequestView.NONE, a)).isEqualTo(setCookieA);
        // An id of no backend of this pool: the strategy, and a cookie that corrects it.
        RequestView stranger = withRoute(BackendPool.stickyId("api", "a"));
        assertThat(pool.select(stranger, null)).isSameAs(b);
        assertThat(pool.stickyCookie(stranger, b)).isEqualTo(setCookieB);

        // The backend named is unavailable, has weight 0, or was just tried: the strategy picks another.
        RequestView onA = withRoute(BackendPool.stickyId("web", "a"));
        a.available(false);
        assertThat(pool.select(onA, null)).isSameAs(b);
        assertThat(pool.stickyCookie(onA, b)).isEqualTo(setCookieB);
        a.available(true);
        a.weight(0);
        assertThat(pool.select(onA, null)).isSameAs(b);
        a.weight(1);
        assertThat(pool.select(onA, a)).isSameAs(b);
        assertThat(pool.select(onA, null)).isSameAs(a);
    }

    @Test
    void aPoolWithoutAffinitySetsNoCookieAndIgnoresIt() {
        BackendPool pool = new BackendPool(config(StrategyName.ROUND_ROBIN, 1, 1));
        RequestView onB = withRoute(BackendPool.stickyId("web", "b"));

        assertThat(pool.sticky()).isNull();
        assertThat(pool.select(onB, null)).isSameAs(pool.backends().get(0));
        assertThat(pool.stickyCookie(onB, pool.backends().get(0))).isNull();
    }

    @Test
    void affinityWorksOnTopOfAnyStrategy() {
        for (StrategyName strategy : StrategyName.values()) {
            HashKey key = strategy == StrategyName.CONSISTENT_HASH ? HashKey.header("X-User") : null;
            BackendPool pool = sticky(strategy, key, 1, 1, 1, 1);
            Backend d = pool.backends().get(3);
            RequestView onD = withRoute(BackendPool.stickyId("web", "d"));

            for (int i = 0; i < 20; i++) {
                assertThat(pool.select(onD, null)).as("%s", strategy).isSameAs(d);
            }
        }
    }

    @Test
    void consistentHashPoolsPassTheRequestToTheRing() {
        BackendPool pool = new BackendPool(new PoolConfig(
                "web", StrategyName.CONSISTENT_HASH, backendConfigs(1, 1, 1, 1, 1), HashKey.header("X-User"), null));

        java.util.Set<Backend> reached = new java.util.HashSet<>();
        for (int i = 0; i < 100; i++) {
            RequestView user = TestRequest.withHeader("10.0.0.1", "X-User", "user-" + i);
            Backend first = pool.select(user, null);
            assertThat(pool.select(user, null)).isSameAs(first);
            reached.add(first);
        }
        assertThat(reached).hasSize(5);
    }

    /** Fails on any read: a pool that needs nothing from the request must not ask, cookies least of all. */
    private static final RequestView UNTOUCHABLE = new RequestView() {
        @Override
        public String clientIp() {
            throw new AssertionError("clientIp read");
        }

        @Override
        public String header(String name) {
            throw new AssertionError("header " + name + " read");
        }

        @Override
        public String cookie(String name) {
            throw new AssertionError("cookie " + name + " parsed");
        }

        @Override
        public String path() {
            throw new AssertionError("path read");
        }
    };

    @Test
    void onlyConsistentHashAndAffinityReadTheRequest() {
        for (StrategyName strategy : StrategyName.values()) {
            if (strategy == StrategyName.CONSISTENT_HASH) {
                continue;
            }
            BackendPool pool = new BackendPool(config(strategy, 1, 2));
            Backend picked = pool.select(UNTOUCHABLE, null);

            assertThat(pool.select(UNTOUCHABLE, picked)).as("%s", strategy).isNotNull();
            assertThat(pool.stickyCookie(UNTOUCHABLE, picked)).isNull();
        }
    }

    private static final String PINNED_STICKY_ID_WEB_A = "cffdfb21982ec9a5";
}
