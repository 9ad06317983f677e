package dev.proxyfilter.cache;

import java.util.List;
import java.util.Objects;

/**
 * Stored under a resource's primary key when its responses carry {@code Vary} (RFC 9111 §4.1): the
 * request header names that select a variant, and the generation that the variants' keys contain.
 *
 * <p>Removing the index makes every variant unreachable in one step, which is what invalidation
 * (§4.4) needs without a scan; a new index gets a new generation, and the old variants age out of the
 * store. See {@link CacheKeys#variant(String, VaryIndex, List)}.
 *
 * @param names      the {@code Vary} field names, lower case, sorted, without duplicates; never {@code *}
 * @param generation a random number, part of every variant key made under this index
 */
public record VaryIndex(List<String> names, long generation) implements StoreEntry {
    public VaryIndex {
        names = List.copyOf(names);
        if (names.isEmpty()) {
            throw new IllegalArgumentException("a vary index needs at least one header name");
        }
        for (String name : names) {
            Objects.requireNonNull(name, "name");
            if (name.equals("*")) {
                throw new IllegalArgumentException("Vary: * is never stored");
            }
        }
    }

    @Override
    public long weightBytes() {
        return 16L * names.size();
    }
}
