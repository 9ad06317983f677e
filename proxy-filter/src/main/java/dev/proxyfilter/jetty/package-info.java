/**
 * The engine on Jetty 12 core, with no servlet layer: the standalone distribution's proxy listener.
 *
 * <h2>Starting points</h2>
 * {@link dev.proxyfilter.jetty.ProxyHandler} (a core {@code Handler} that hands each request to {@link
 * dev.proxyfilter.forward.ProxyEngine#handle}), {@code HandlerExchange} (one exchange over core {@code
 * Request}/{@code Response}: demand-driven reads, callback writes), {@link dev.proxyfilter.jetty.JettyConnectors}
 * (listener connectors: strict HTTP compliance, header deadlines, TLS) and {@link
 * dev.proxyfilter.jetty.ProxyThreadPool}.
 *
 * <p>Only this adapter tunnels WebSocket over HTTP/2 (RFC 8441): its listener advertises extended {@code
 * CONNECT} ({@code JettyConnectors.http2}) and {@code HandlerExchange} hands the stream over as the tunnel's
 * client end ({@code Request.getTunnelSupport}). The servlet adapters cannot reach a stream through the
 * servlet API, and refuse a {@code CONNECT} with 405.
 *
 * <p>This package uses Jetty core only (no {@code jakarta.servlet}, no {@code ee10}), which {@code
 * ArchitectureTest} checks.
 */
package dev.proxyfilter.jetty;
