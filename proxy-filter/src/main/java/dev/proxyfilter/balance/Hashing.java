package dev.proxyfilter.balance;

/**
 * The 64-bit hashes of the hash ring, written here rather than pulled in as a dependency: the block
 * mix and the finaliser of MurmurHash3 (x64) over a string's UTF-16 code units, and SplitMix64 to
 * derive a backend's ring points from its name. Neither allocates.
 *
 * <p>The values are part of the ring's behaviour (which key lands where), so they must stay stable
 * across versions: a change would move sessions between backends on upgrade.
 */
final class Hashing {
    private static final long C1 = 0x87c37b91114253d5L;
    private static final long C2 = 0x4cf5ad432745937fL;
    private static final long SEED = 0x9368e53c2f6af274L;
    private static final long GOLDEN_GAMMA = 0x9e3779b97f4a7c15L;

    private Hashing() {}

    /** A 64-bit hash of the characters of {@code text}, four at a time. */
    static long hash(CharSequence text) {
        int n = text.length();
        long h = SEED;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            long k = text.charAt(i)
                    | (long) text.charAt(i + 1) << 16
                    | (long) text.charAt(i + 2) << 32
                    | (long) text.charAt(i + 3) << 48;
            h ^= mixBlock(k);
            h = Long.rotateLeft(h, 27) * 5 + 0x52dce729;
        }
        if (i < n) {
            long k = 0;
            for (int shift = 0; i < n; i++, shift += 16) {
                k |= (long) text.charAt(i) << shift;
            }
            h ^= mixBlock(k);
        }
        return fmix64(h ^ n);
    }

    /** The {@code index}-th value of the SplitMix64 sequence seeded with {@code seed}. */
    static long sequence(long seed, int index) {
        return fmix64Stafford(seed + (index + 1L) * GOLDEN_GAMMA);
    }

    private static long mixBlock(long k) {
        k *= C1;
        k = Long.rotateLeft(k, 31);
        return k * C2;
    }

    private static long fmix64(long h) {
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        return h ^ h >>> 33;
    }

    /** SplitMix64's finaliser (Stafford's variant 13). */
    private static long fmix64Stafford(long z) {
        z = (z ^ z >>> 30) * 0xbf58476d1ce4e5b9L;
        z = (z ^ z >>> 27) * 0x94d049bb133111ebL;
        return z ^ z >>> 31;
    }
}
