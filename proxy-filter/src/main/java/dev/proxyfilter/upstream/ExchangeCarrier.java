package dev.proxyfilter.upstream;

import org.eclipse.jetty.io.Content;

/**
 * What carries a started {@link UpstreamExchange} (an HTTP/1.1 connection, an HTTP/2 stream): the exchange
 * reads its response body and fails through it while attached to it.
 */
interface ExchangeCarrier {
    /** The next chunk of the response body for {@code reader}, or null when none is there yet. */
    Content.Chunk read(UpstreamExchange reader);

    /** Runs {@code callback} once {@link #read} may return something for {@code reader}. */
    void demand(UpstreamExchange reader, Runnable callback);

    /** Ends {@code failed} with {@code cause}, stopping what carries it. */
    void failExchange(UpstreamExchange failed, Throwable cause);
}
