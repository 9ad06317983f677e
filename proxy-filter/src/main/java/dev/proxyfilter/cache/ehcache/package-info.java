/**
 * Starting points: {@link dev.proxyfilter.cache.ehcache.EhcacheResponseStore}, the
 * {@link dev.proxyfilter.cache.ResponseStore} on Ehcache 3 tiers (heap, off-heap, disk, optionally
 * persistent across restarts), built from a {@link dev.proxyfilter.config.CacheConfig} or an Ehcache XML
 * file; and {@link dev.proxyfilter.cache.ehcache.StoreEntrySerializer}, which writes entries in the compact
 * form of {@link dev.proxyfilter.cache.ResponseCodec}.
 *
 * <p>The only package that imports {@code org.ehcache}.
 */
package dev.proxyfilter.cache.ehcache;
