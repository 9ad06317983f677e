package dev.proxyfilter.balance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.proxyfilter.config.BackendConfig;
import dev.proxyfilter.config.BalanceStrategy;
import dev.proxyfilter.config.PoolConfig;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackendPoolTest {

    private static PoolConfig config(BalanceStrategy strategy, int... weights) {
        List<BackendConfig> backends = new java.util.ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            String name = String.valueOf((char) ('a' + i));
            backends.add(new BackendConfig(name, URI.create("http://" + name + ".internal:808" + i), weights[i]));
        }
        return new PoolConfig("web", strategy, backends);
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
        BackendPool pool = new BackendPool(config(BalanceStrategy.ROUND_ROBIN, 2, 0, 1));

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
        assertThat(picks(new BackendPool(config(BalanceStrategy.WEIGHTED_ROUND_ROBIN, 5, 1, 1)), 14))
                .isEqualTo("aabacaa".repeat(2));
        assertThat(picks(new BackendPool(config(BalanceStrategy.ROUND_ROBIN, 5, 1, 1)), 6))
                .isEqualTo("abcabc");
        assertThat(picks(new BackendPool(config(BalanceStrategy.RANDOM, 0, 1, 0)), 20))
                .isEqualTo("b".repeat(20));
    }

    @Test
    void retryAvoidsTheBackendAlreadyTried() {
        BackendPool pool = new BackendPool(config(BalanceStrategy.WEIGHTED_ROUND_ROBIN, 5, 1));
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
        BackendPool pool = new BackendPool(config(BalanceStrategy.WEIGHTED_ROUND_ROBIN, 1, 1));

        pool.backends().get(0).weight(0);
        assertThat(picks(pool, 3)).isEqualTo("bbb");

        pool.backends().get(0).weight(2);
        assertThat(picks(pool, 6)).isEqualTo("abaaba");
    }
}
