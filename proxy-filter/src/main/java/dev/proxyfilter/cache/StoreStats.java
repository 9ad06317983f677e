package dev.proxyfilter.cache;

/**
 * A store's counters since it was opened.
 *
 * @param hits      {@link ResponseStore#get} calls that found an entry
 * @param misses    {@link ResponseStore#get} calls that found none
 * @param puts      entries stored
 * @param rejected  responses refused because their body was larger than the per-entry limit
 * @param removals  {@link ResponseStore#remove} calls (found or not) plus entries purged by prefix; evictions
 *                  by capacity are not counted
 */
public record StoreStats(long hits, long misses, long puts, long rejected, long removals) {}
