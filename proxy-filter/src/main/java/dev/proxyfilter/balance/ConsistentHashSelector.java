package dev.proxyfilter.balance;

import dev.proxyfilter.config.HashKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * A consistent-hash ring (Karger et al.; ketama, Envoy's {@code RING_HASH}): the same key reaches the
 * same backend, and when a backend leaves, only its keys move.
 *
 * <h2>The ring</h2>
 * Each backend owns {@value #POINTS_PER_WEIGHT} points per unit of weight, placed by hashing its
 * <em>name</em> (not its address, so that moving a backend to a new address keeps its keys):
 * point {@code i} of backend {@code b} is the {@code i}-th SplitMix64 value seeded with the hash of
 * {@code b}'s name ({@link Hashing}). A request's key is hashed with the same 64-bit hash and served by
 * the owner of the first point at or after it, wrapping around. A backend's points depend on its name and
 * weight only, so adding or removing one backend adds or removes just its points. When the weights would
 * make more than {@value #MAX_POINTS} points, every backend's count is scaled down in proportion (at
 * least one point each); in that case a change of weight moves more keys than the minimum.
 *
 * <h2>Eligibility</h2>
 * A backend that is unavailable, has weight 0 or is the {@code exclude} of a retry is skipped by walking
 * on to the next point of another backend, so its keys spread over the others in proportion to their
 * weight and come back when it does. Availability is read at each pick; the ring is rebuilt (once, under
 * a lock, then published) when a pick sees that a backend's {@link Backend#weight()} changed. Picks read
 * the published ring without locking or allocating.
 *
 * <h2>Keys</h2>
 * The key is read as configured ({@link HashKey}). A request without it (no such header or cookie, or an
 * empty value) is hashed by its client IP instead, so that it still sticks somewhere; a request with
 * neither, which only a caller without a request makes ({@link RequestView#NONE}), lands on a random
 * point, which is a weighted random pick.
 */
final class ConsistentHashSelector implements BackendSelector {
    static final int POINTS_PER_WEIGHT = 160;
    static final int MAX_POINTS = 1 << 17;

    private final Backend[] backends;
    private final long[] nameHashes;
    private final HashKey key;
    private final Supplier<? extends RandomGenerator> random;
    private final Object rebuildLock = new Object();
    private volatile Ring ring;

    /**
     * @param random gives the generator for requests without any key: {@code ThreadLocalRandom::current}
     *               in production, a seeded one in tests
     */
    ConsistentHashSelector(List<Backend> backends, HashKey key, Supplier<? extends RandomGenerator> random) {
        this.backends = backends.toArray(new Backend[0]);
        this.key = key;
        this.random = random;
        this.nameHashes = new long[this.backends.length];
        for (int i = 0; i < this.backends.length; i++) {
            nameHashes[i] = Hashing.hash(this.backends[i].name());
        }
        this.ring = build(currentWeights());
    }

    @Override
    public Backend select(RequestView request, Backend exclude) {
        Ring ring = currentRing();
        // Count first, so that a pool with nothing to offer is answered without walking a ring of
        // up to MAX_POINTS points, and a walk always has somewhere to arrive.
        int eligible = 0;
        boolean excludeEligible = false;
        for (Backend backend : backends) {
            if (backend.effectiveWeight() == 0) {
                continue;
            }
            if (backend == exclude) {
                excludeEligible = true;
                continue;
            }
            eligible++;
        }
        long[] points = ring.points;
        if (eligible == 0 || points.length == 0) {
            return excludeEligible ? exclude : null;
        }
        int start = ceiling(points, keyHash(request));
        // A backend owns many points, often in a row: skipping an ineligible one tests it again cheaply.
        for (int k = 0; k < points.length; k++) {
            int i = start + k < points.length ? start + k : start + k - points.length;
            Backend backend = backends[ring.owners[i]];
            if (backend.effectiveWeight() == 0) {
                continue;
            }
            if (backend == exclude) {
                continue;
            }
            return backend;
        }
        // Only when weights or availability changed during the walk.
        return excludeEligible ? exclude : null;
    }

    private long keyHash(RequestView request) {
        String value = switch (key.source()) {
            case CLIENT_IP -> request.clientIp();
            case HEADER -> request.header(key.name());
            case COOKIE -> request.cookie(key.name());
            case PATH -> request.path();
        };
        if (value == null || value.isEmpty()) {
            value = request.clientIp();
        }
        if (value == null || value.isEmpty()) {
            return random.get().nextLong();
        }
        return Hashing.hash(value);
    }

    /** Index of the first point at or after {@code hash}, wrapping to 0 past the last. */
    private static int ceiling(long[] points, long hash) {
        int i = Arrays.binarySearch(points, hash);
        if (i < 0) {
            i = -i - 1;
        }
        return i == points.length ? 0 : i;
    }

    private Ring currentRing() {
        Ring current = ring;
        if (current.matches(backends)) {
            return current;
        }
        synchronized (rebuildLock) {
            current = ring;
            if (!current.matches(backends)) {
                current = build(currentWeights());
                ring = current;
            }
            return current;
        }
    }

    private int[] currentWeights() {
        int[] weights = new int[backends.length];
        for (int i = 0; i < backends.length; i++) {
            weights[i] = backends[i].weight();
        }
        return weights;
    }

    private Ring build(int[] weights) {
        long totalWeight = 0;
        for (int w : weights) {
            totalWeight += w;
        }
        boolean scaled = totalWeight * POINTS_PER_WEIGHT > MAX_POINTS;
        List<long[]> points = new ArrayList<>();
        for (int b = 0; b < weights.length; b++) {
            if (weights[b] == 0) {
                continue;
            }
            int count = scaled
                    ? (int) Math.max(1, weights[b] * (double) MAX_POINTS / totalWeight)
                    : weights[b] * POINTS_PER_WEIGHT;
            for (int i = 0; i < count; i++) {
                points.add(new long[] {Hashing.sequence(nameHashes[b], i), b});
            }
        }
        // Ties between two backends' points (a 64-bit collision) go to the earlier backend, every time.
        points.sort(Comparator.<long[]>comparingLong(p -> p[0]).thenComparingLong(p -> p[1]));
        long[] hashes = new long[points.size()];
        int[] owners = new int[points.size()];
        for (int i = 0; i < hashes.length; i++) {
            hashes[i] = points.get(i)[0];
            owners[i] = (int) points.get(i)[1];
        }
        return new Ring(weights, hashes, owners);
    }

    /** Number of points each backend owns on the current ring, in backend order; for tests. */
    int[] pointCounts() {
        Ring current = currentRing();
        int[] counts = new int[backends.length];
        for (int owner : current.owners) {
            counts[owner]++;
        }
        return counts;
    }

    /** An immutable ring: sorted point hashes and, at the same index, the owning backend's index. */
    private static final class Ring {
        final int[] weights;
        final long[] points;
        final int[] owners;

        Ring(int[] weights, long[] points, int[] owners) {
            this.weights = weights;
            this.points = points;
            this.owners = owners;
        }

        boolean matches(Backend[] backends) {
            for (int i = 0; i < backends.length; i++) {
                if (backends[i].weight() != weights[i]) {
                    return false;
                }
            }
            return true;
        }
    }
}
