package dev.proxyfilter.cache;

import static dev.proxyfilter.cache.Http.stored;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.http.Header;
import java.util.List;
import org.junit.jupiter.api.Test;

/** This instance's tier in front of the cluster's: which answers, where writes and removals go. */
class TieredResponseStoreTest {
    private final ResponseStore local = ResponseStore.inMemory(10, 100);
    private final ResponseStore shared = ResponseStore.inMemory(10, 100);
    private final TieredResponseStore store = new TieredResponseStore(local, shared);

    @Test
    void aLookupAsksTheLocalTierThenTheSharedOneAndSaysWhichAnswered() {
        StoredResponse mine = stored("ETag", "\"mine\"");
        StoredResponse theirs = stored("ETag", "\"theirs\"");
        store.put("http://example.com/mine", mine);
        shared.put("http://example.com/theirs", theirs); // another instance's write

        assertThat(store.find("http://example.com/mine")).isEqualTo(new ResponseStore.Found(mine, "local"));
        assertThat(store.find("http://example.com/theirs")).isEqualTo(new ResponseStore.Found(theirs, "shared"));
        assertThat(store.find("http://example.com/none")).isNull();
        assertThat(store.stats().hits()).isEqualTo(2);
        assertThat(store.stats().misses()).isEqualTo(1);
        assertThat(local.get("http://example.com/theirs"))
                .as("not copied into the local tier")
                .isNull();
    }

    @Test
    void writesAndRemovalsReachBothTiers() {
        StoredResponse response = stored();
        store.put("http://example.com/a", response);

        assertThat(shared.get("http://example.com/a")).isEqualTo(response);
        store.remove("http://example.com/a");
        assertThat(local.get("http://example.com/a")).isNull();
        assertThat(shared.get("http://example.com/a")).isNull();
    }

    @Test
    void aResponseOverTheLimitStaysOutOfBothTiersAndRemovesWhatItOutdates() {
        store.put("http://example.com/a", stored());
        StoredResponse big = new StoredResponse(200, List.of(), new byte[101], 0, 0, List.of());

        assertThat(store.put("http://example.com/a", big)).isFalse();
        assertThat(local.get("http://example.com/a")).isNull();
        assertThat(shared.get("http://example.com/a")).isNull();
    }

    @Test
    void aPurgeByPrefixCountsWhatTheSharedTierHeld() {
        store.put("http://example.com/p/1", stored());
        shared.put("http://example.com/p/2", stored());
        store.put("http://example.com/q", stored());

        assertThat(store.removeByPrefix("http://example.com/p/")).isEqualTo(2);
        assertThat(store.get("http://example.com/p/1")).isNull();
        assertThat(store.get("http://example.com/q")).isNotNull();
    }

    @Test
    void theLatestEntryIsTheSharedTiers() {
        shared.put("http://example.com/a", stored("ETag", "\"new\""));
        local.put("http://example.com/a", stored("ETag", "\"old\""));

        assertThat(((StoredResponse) store.getLatest("http://example.com/a")).headers())
                .contains(new Header("ETag", "\"new\""));
    }
}
