package dev.proxyfilter.cache;

/**
 * What a {@link ResponseStore} holds under one key: a stored response, or, under the primary key of a
 * resource whose responses vary, the index that says which request headers select among them.
 */
public sealed interface StoreEntry permits StoredResponse, VaryIndex {

    /** The bytes this entry adds to its tier beyond its key, roughly; the body length for a response. */
    long weightBytes();
}
