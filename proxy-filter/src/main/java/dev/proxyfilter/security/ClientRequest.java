package dev.proxyfilter.security;

import java.util.List;

/**
 * What the security step reads of a client request. The engine implements it over the request as it
 * arrived, without copying; nothing here depends on a servlet or a server.
 */
public interface ClientRequest {

    /** The peer's IP address as the container reports it (IPv6 possibly in brackets). */
    String peerAddress();

    /** {@code http} or {@code https}, as the client connected to this proxy. */
    String scheme();

    /** The value of the first header field called {@code name} (any case), or {@code null}. */
    String header(String name);

    /** Every value of the header fields called {@code name} (any case), in order; each may be a comma list. */
    List<String> headerValues(String name);
}
