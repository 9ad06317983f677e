package dev.proxyfilter.balance;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The ring's hashes. Their values decide which backend a key lands on, so they are pinned: a change
 * would move every session on upgrade.
 */
class HashingTest {

    @Test
    void valuesArePinned() {
        assertThat(Hashing.hash("")).isEqualTo(PINNED_EMPTY);
        assertThat(Hashing.hash("user-1")).isEqualTo(PINNED_USER_1);
        assertThat(Hashing.sequence(Hashing.hash("a"), 0)).isEqualTo(PINNED_A_0);
    }

    @Test
    void everyCharacterAndTheLengthCount() {
        Set<Long> hashes = new HashSet<>();
        String[] inputs = {
            "",
            "a",
            "b",
            "ab",
            "ba",
            "abc",
            "abcd",
            "abcde",
            "abcd\0",
            "\0",
            "\0\0",
            "é",
            "user-1",
            "user-2",
            "user-10",
            "10.0.0.1",
            "10.0.0.10"
        };
        for (String input : inputs) {
            hashes.add(Hashing.hash(input));
        }

        assertThat(hashes).hasSize(inputs.length);
    }

    @Test
    void nearbyKeysSpreadOverTheWholeRange() {
        // Sequential keys should fill the 16 top-bit buckets about evenly.
        int[] buckets = new int[16];
        for (int i = 0; i < 16_000; i++) {
            buckets[(int) (Hashing.hash("user-" + i) >>> 60)]++;
        }

        assertThat(java.util.Arrays.stream(buckets).boxed().toList())
                .allSatisfy(count -> assertThat(count).isBetween(850, 1_150));
    }

    private static final long PINNED_EMPTY = 0xdc7ef3b1567ca2afL;
    private static final long PINNED_USER_1 = 0xa6a1b2f66e8b4f39L;
    private static final long PINNED_A_0 = 0x31daee433468af2bL;
}
