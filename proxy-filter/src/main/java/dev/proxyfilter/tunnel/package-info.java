/**
 * The two ends of a byte tunnel, whatever carries them: after a WebSocket upgrade the client's connection
 * and the backend's connection are each a {@link dev.proxyfilter.tunnel.TunnelEnd}, and {@code
 * forward.Tunnel} copies between them. No protocol is parsed here, only bytes.
 *
 * <h2>Starting points</h2>
 * {@link dev.proxyfilter.tunnel.TunnelEnd} (what an end offers: a {@code Content.Source} of what the peer sends
 * and a {@code Content.Sink} towards it) and {@link dev.proxyfilter.tunnel.EndPointTunnelEnd} (an end on a Jetty
 * {@code EndPoint}, installed as its {@code Connection} the way Jetty's {@code ConnectHandler} installs its
 * tunnel: the backend's side always, the client's side in Jetty). The servlet adapter has its own end on the
 * streams of a {@code WebConnection}.
 */
package dev.proxyfilter.tunnel;
