package dev.proxyfilter.cache;

/**
 * What one storage tier of a {@link ResponseStore} holds.
 *
 * @param entries   mappings in the tier
 * @param bytes     bytes occupied, -1 where the tier counts entries only (Ehcache's heap tier sized by entries)
 * @param evictions entries the tier evicted to make room
 */
public record TierUsage(long entries, long bytes, long evictions) {}
