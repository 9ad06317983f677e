package dev.proxyfilter.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * The shared response cache: its storage tiers, the per-entry size limit and the few knobs of its HTTP
 * semantics. One instance per proxy; routes opt in or out on top of it.
 *
 * <p>Storage is Ehcache 3: a heap tier counted in entries, an optional off-heap tier and an optional disk
 * tier, both in MiB. The heap tier is counted in entries, not bytes, so {@code heapEntries ×
 * maxEntryBytes} bounds the heap the cache can hold. An advanced user may hand over an Ehcache XML file
 * instead of the tier sizes ({@link #ehcacheXml()}).
 *
 * <p>The messages of the compact constructor name the configuration keys this record is loaded from
 * ({@code cache.*}, see {@link ConfigKey}), in the {@code key: value (expected: constraint)} shape;
 * {@code route.NAME.cache} on {@link RouteConfig} lets a route bypass the cache.
 *
 * @param enabled               whether responses are cached at all
 * @param heapEntries           entries held on the Java heap, at least 1
 * @param offHeapMb             size of the off-heap tier in MiB, 0 for none (needs direct memory:
 *                              {@code -XX:MaxDirectMemorySize})
 * @param diskMb                size of the disk tier in MiB, 0 for none; more than {@code offHeapMb} when
 *                              both are set (Ehcache's tiers grow downwards)
 * @param diskPath              the disk tier's folder, owned by this cache alone; required with a disk tier,
 *                              {@code null} without one
 * @param persistent            whether the disk tier survives a restart; meaningless (and ignored) without a
 *                              disk tier
 * @param maxEntryBytes         the largest response body stored; a larger response streams through and is
 *                              not stored
 * @param ehcacheXml            an Ehcache XML file whose {@code <cache-template name="proxy-filter">} sizes the
 *                              tiers instead of {@code offHeapMb}/{@code diskMb}/{@code diskPath}, or
 *                              {@code null}
 * @param coalesceTimeout       how long a request waits for an identical in-flight miss before going to the
 *                              backend itself; {@link Duration#ZERO} turns request coalescing off
 * @param maxHeuristicFreshness cap of the heuristic freshness lifetime (10% of the time since
 *                              {@code Last-Modified}, RFC 9111 §4.2.2); {@link Duration#ZERO} turns
 *                              heuristic freshness off
 * @param targetedField         this cache's own targeted cache-control field (RFC 9213), obeyed before
 *                              {@code CDN-Cache-Control}, or {@code null} for none
 * @param stripTargeted         whether the targeted fields this cache obeys are removed from responses to
 *                              clients (they are meant for this cache, but a CDN behind it may obey them too)
 * @param storeSetCookie        whether a cacheable response with {@code Set-Cookie} is stored, its cookie with
 *                              it (RFC 9111 allows it); {@code false} refuses such responses
 * @param normaliseAccept       whether {@code Accept-Language} and {@code Accept-Encoding} values that mean the
 *                              same (weights aside from their spelling, member order by weight) select the same
 *                              {@code Vary} variant
 * @param store                 {@link Store#LOCAL}: this instance's tiers only; {@link Store#SHARED}: a
 *                              second tier on the cluster ({@code cluster.*}) behind them, which every
 *                              instance reads and writes
 * @param sharedTimeout         the longest a request waits for the shared tier: past it a read is a miss and a
 *                              write is skipped
 * @param nearCacheEntries      shared entries each instance keeps on its own heap for hot reads (a Hazelcast
 *                              near cache), 0 for none
 * @param sharedMb              the shared tier's size on each embedded member in MiB (owned entries and
 *                              backups), the least recently used evicted past it
 */
public record CacheConfig(
        boolean enabled,
        long heapEntries,
        long offHeapMb,
        long diskMb,
        Path diskPath,
        boolean persistent,
        long maxEntryBytes,
        Path ehcacheXml,
        Duration coalesceTimeout,
        Duration maxHeuristicFreshness,
        String targetedField,
        boolean stripTargeted,
        boolean storeSetCookie,
        boolean normaliseAccept,
        Store store,
        Duration sharedTimeout,
        long nearCacheEntries,
        long sharedMb) {

    /** Default of {@link #heapEntries()}. */
    public static final long DEFAULT_HEAP_ENTRIES = 1_000;
    /** Default of {@link #maxEntryBytes()}: 1 MiB. */
    public static final long DEFAULT_MAX_ENTRY_BYTES = 1L << 20;
    /** Default of {@link #coalesceTimeout()}, as nginx's {@code proxy_cache_lock_timeout}. */
    public static final Duration DEFAULT_COALESCE_TIMEOUT = Duration.ofSeconds(5);
    /** Default of {@link #maxHeuristicFreshness()}. */
    public static final Duration DEFAULT_MAX_HEURISTIC_FRESHNESS = Duration.ofHours(24);
    /** Default of {@link #sharedTimeout()}, as Souin's {@code timeout.cache} example. */
    public static final Duration DEFAULT_SHARED_TIMEOUT = Duration.ofMillis(100);
    /** Default of {@link #nearCacheEntries()}. */
    public static final long DEFAULT_NEAR_CACHE_ENTRIES = 1_000;
    /** Default of {@link #sharedMb()}. */
    public static final long DEFAULT_SHARED_MB = 64;
    /** Largest {@link #maxEntryBytes()}: a body is held in one array. */
    public static final long MAX_ENTRY_BYTES_LIMIT = Integer.MAX_VALUE - 64;

    private static final long MIB = 1L << 20;

    /** Where entries live. */
    public enum Store {
        /** This instance's own tiers (heap, off-heap, disk). */
        LOCAL,
        /** This instance's tiers, then a tier shared by the cluster. */
        SHARED;

        /** The value of {@code cache.store}. */
        public String configName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public CacheConfig {
        Objects.requireNonNull(coalesceTimeout, "coalesceTimeout");
        Objects.requireNonNull(maxHeuristicFreshness, "maxHeuristicFreshness");
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(sharedTimeout, "sharedTimeout");
        if (heapEntries < 1) {
            throw invalid("cache.heap-entries", heapEntries, "integer >= 1");
        }
        if (offHeapMb < 0) {
            throw invalid("cache.off-heap-mb", offHeapMb, "integer >= 0");
        }
        if (diskMb < 0) {
            throw invalid("cache.disk-mb", diskMb, "integer >= 0");
        }
        if (diskMb > 0 && diskPath == null) {
            throw invalid("cache.disk-path", null, "a folder when cache.disk-mb > 0");
        }
        if (diskMb == 0 && diskPath != null) {
            throw invalid("cache.disk-mb", diskMb, "> 0 when cache.disk-path is set");
        }
        if (diskMb > 0 && offHeapMb > 0 && diskMb <= offHeapMb) {
            throw invalid("cache.disk-mb", diskMb, "more than cache.off-heap-mb = " + offHeapMb);
        }
        if (maxEntryBytes < 1 || maxEntryBytes > MAX_ENTRY_BYTES_LIMIT) {
            throw invalid("cache.max-entry-bytes", maxEntryBytes, "integer 1.." + MAX_ENTRY_BYTES_LIMIT);
        }
        if (offHeapMb > 0 && maxEntryBytes > offHeapMb * MIB) {
            throw invalid("cache.max-entry-bytes", maxEntryBytes, "at most cache.off-heap-mb = " + offHeapMb + " MiB");
        }
        if (diskMb > 0 && maxEntryBytes > diskMb * MIB) {
            throw invalid("cache.max-entry-bytes", maxEntryBytes, "at most cache.disk-mb = " + diskMb + " MiB");
        }
        if (ehcacheXml != null && (offHeapMb > 0 || diskMb > 0)) {
            throw invalid(
                    "cache.ehcache-xml",
                    ehcacheXml,
                    "not together with cache.off-heap-mb or cache.disk-mb: the XML sizes the tiers");
        }
        if (coalesceTimeout.isNegative()) {
            throw invalid("cache.coalesce-timeout", coalesceTimeout, "duration >= 0");
        }
        if (maxHeuristicFreshness.isNegative()) {
            throw invalid("cache.heuristic-max", maxHeuristicFreshness, "duration >= 0");
        }
        if (targetedField != null && !isToken(targetedField)) {
            throw invalid("cache.targeted-field", targetedField, "a header field name");
        }
        if (targetedField != null
                && (targetedField.equalsIgnoreCase("Cache-Control") || targetedField.equalsIgnoreCase("Expires"))) {
            throw invalid("cache.targeted-field", targetedField, "a field other than Cache-Control and Expires");
        }
        if (sharedTimeout.isNegative() || sharedTimeout.isZero()) {
            throw invalid("cache.shared-timeout", sharedTimeout, "duration > 0");
        }
        if (nearCacheEntries < 0 || nearCacheEntries > Integer.MAX_VALUE) {
            throw invalid("cache.near-cache-entries", nearCacheEntries, "integer 0.." + Integer.MAX_VALUE);
        }
        if (sharedMb < 1 || sharedMb > Integer.MAX_VALUE) {
            throw invalid("cache.shared-mb", sharedMb, "integer 1.." + Integer.MAX_VALUE);
        }
        if (store == Store.SHARED && maxEntryBytes > sharedMb * MIB) {
            throw invalid("cache.max-entry-bytes", maxEntryBytes, "at most cache.shared-mb = " + sharedMb + " MiB");
        }
        persistent = persistent && diskMb > 0;
    }

    private static boolean isToken(String name) {
        if (name.isEmpty()) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            if (!alnum && "!#$%&'*+-.^_`|~".indexOf(c) < 0) {
                return false;
            }
        }
        return true;
    }

    /** Whether a shared tier on the cluster stands behind this instance's tiers. */
    public boolean shared() {
        return enabled && store == Store.SHARED;
    }

    /** No caching; every other value at its default. */
    public static CacheConfig disabled() {
        return builder().enabled(false).build();
    }

    /** A builder with every default: enabled, 1000 heap entries, no off-heap or disk tier, 1 MiB per entry. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this record's values. */
    public Builder toBuilder() {
        return new Builder()
                .enabled(enabled)
                .heapEntries(heapEntries)
                .offHeapMb(offHeapMb)
                .disk(diskMb, diskPath)
                .persistent(persistent)
                .maxEntryBytes(maxEntryBytes)
                .ehcacheXml(ehcacheXml)
                .coalesceTimeout(coalesceTimeout)
                .maxHeuristicFreshness(maxHeuristicFreshness)
                .targetedField(targetedField)
                .stripTargeted(stripTargeted)
                .storeSetCookie(storeSetCookie)
                .normaliseAccept(normaliseAccept)
                .store(store)
                .sharedTimeout(sharedTimeout)
                .nearCacheEntries(nearCacheEntries)
                .sharedMb(sharedMb);
    }

    /** Whether a disk tier is configured (here, not through {@link #ehcacheXml()}). */
    public boolean hasDiskTier() {
        return diskMb > 0;
    }

    private static IllegalArgumentException invalid(String key, Object value, String expected) {
        return new IllegalArgumentException(
                key + ": " + (value == null ? "missing" : value) + " (expected: " + expected + ")");
    }

    /** Builds a {@link CacheConfig}; validation happens in {@link #build()}. */
    public static final class Builder {
        private boolean enabled = true;
        private long heapEntries = DEFAULT_HEAP_ENTRIES;
        private long offHeapMb;
        private long diskMb;
        private Path diskPath;
        private boolean persistent = true;
        private long maxEntryBytes = DEFAULT_MAX_ENTRY_BYTES;
        private Path ehcacheXml;
        private Duration coalesceTimeout = DEFAULT_COALESCE_TIMEOUT;
        private Duration maxHeuristicFreshness = DEFAULT_MAX_HEURISTIC_FRESHNESS;
        private String targetedField;
        private boolean stripTargeted;
        private boolean storeSetCookie = true;
        private boolean normaliseAccept;
        private Store store = Store.LOCAL;
        private Duration sharedTimeout = DEFAULT_SHARED_TIMEOUT;
        private long nearCacheEntries = DEFAULT_NEAR_CACHE_ENTRIES;
        private long sharedMb = DEFAULT_SHARED_MB;

        private Builder() {}

        public Builder enabled(boolean enabled) {
            this.enabled = enabled;
            return this;
        }

        public Builder heapEntries(long heapEntries) {
            this.heapEntries = heapEntries;
            return this;
        }

        public Builder offHeapMb(long offHeapMb) {
            this.offHeapMb = offHeapMb;
            return this;
        }

        /** A disk tier of {@code diskMb} MiB in {@code diskPath}; {@code (0, null)} for none. */
        public Builder disk(long diskMb, Path diskPath) {
            this.diskMb = diskMb;
            this.diskPath = diskPath;
            return this;
        }

        public Builder persistent(boolean persistent) {
            this.persistent = persistent;
            return this;
        }

        public Builder maxEntryBytes(long maxEntryBytes) {
            this.maxEntryBytes = maxEntryBytes;
            return this;
        }

        public Builder ehcacheXml(Path ehcacheXml) {
            this.ehcacheXml = ehcacheXml;
            return this;
        }

        public Builder coalesceTimeout(Duration coalesceTimeout) {
            this.coalesceTimeout = coalesceTimeout;
            return this;
        }

        public Builder maxHeuristicFreshness(Duration maxHeuristicFreshness) {
            this.maxHeuristicFreshness = maxHeuristicFreshness;
            return this;
        }

        /** This cache's own targeted field (RFC 9213), or {@code null} for none. */
        public Builder targetedField(String targetedField) {
            this.targetedField = targetedField;
            return this;
        }

        public Builder stripTargeted(boolean stripTargeted) {
            this.stripTargeted = stripTargeted;
            return this;
        }

        public Builder storeSetCookie(boolean storeSetCookie) {
            this.storeSetCookie = storeSetCookie;
            return this;
        }

        public Builder normaliseAccept(boolean normaliseAccept) {
            this.normaliseAccept = normaliseAccept;
            return this;
        }

        public Builder store(Store store) {
            this.store = store;
            return this;
        }

        public Builder sharedTimeout(Duration sharedTimeout) {
            this.sharedTimeout = sharedTimeout;
            return this;
        }

        public Builder nearCacheEntries(long nearCacheEntries) {
            this.nearCacheEntries = nearCacheEntries;
            return this;
        }

        public Builder sharedMb(long sharedMb) {
            this.sharedMb = sharedMb;
            return this;
        }

        /** @throws IllegalArgumentException naming the offending key, as the compact constructor does */
        public CacheConfig build() {
            return new CacheConfig(
                    enabled,
                    heapEntries,
                    offHeapMb,
                    diskMb,
                    diskPath,
                    persistent,
                    maxEntryBytes,
                    ehcacheXml,
                    coalesceTimeout,
                    maxHeuristicFreshness,
                    targetedField,
                    stripTargeted,
                    storeSetCookie,
                    normaliseAccept,
                    store,
                    sharedTimeout,
                    nearCacheEntries,
                    sharedMb);
        }
    }
}
