/**
 * The engine as a Jetty 12 core handler, with no servlet layer: the standalone distribution's proxy listener.
 *
 * <p>Starting points: {@link dev.proxyfilter.jetty.ProxyHandler} (what the servlet adapters check before
 * forwarding, then {@link dev.proxyfilter.forward.ProxyEngine#forward}) and {@code HandlerExchange} (one
 * exchange over core {@code Request}/{@code Response}: demand-driven reads, callback writes).
 *
 * <p>This package imports Jetty core only (no {@code jakarta.servlet}, no {@code ee10}), checked by
 * {@code PackageBoundaryTest}.
 */
package dev.proxyfilter.jetty;
