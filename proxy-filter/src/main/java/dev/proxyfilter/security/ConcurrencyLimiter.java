package dev.proxyfilter.security;

import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code security.max-concurrent-per-client}: requests in flight per client IP. A client's counter exists
 * only while it has a request in flight, so the table is as large as the number of clients with a
 * request in flight: the container's own connection and thread limits bound it, no eviction needed.
 */
public final class ConcurrencyLimiter {
    private final int max;
    private final ConcurrentHashMap<String, Integer> inFlight = new ConcurrentHashMap<>();

    public ConcurrencyLimiter(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("max: " + max + " (expected: >= 1)");
        }
        this.max = max;
    }

    int max() {
        return max;
    }

    /** Takes a slot for {@code client}; false when it already has {@code max} requests in flight. */
    public boolean tryAcquire(String client) {
        boolean[] taken = new boolean[1];
        inFlight.compute(client, (key, count) -> {
            int current = count == null ? 0 : count;
            if (current >= max) {
                return count;
            }
            taken[0] = true;
            return current + 1;
        });
        return taken[0];
    }

    /** Gives back a slot taken by {@link #tryAcquire}. */
    public void release(String client) {
        inFlight.computeIfPresent(client, (key, count) -> count <= 1 ? null : count - 1);
    }

    /** Requests in flight for {@code client}. */
    public int inFlight(String client) {
        return inFlight.getOrDefault(client, 0);
    }

    /** Clients with a request in flight. */
    public int clients() {
        return inFlight.size();
    }
}
