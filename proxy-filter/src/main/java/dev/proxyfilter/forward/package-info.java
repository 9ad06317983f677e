/**
 * The engine: one request pipeline, with no servlet code.
 *
 * <h2>Starting points</h2>
 * {@link dev.proxyfilter.forward.ProxyEngine} (the facade adapters hold; its {@code handle} method is the
 * pipeline), {@link dev.proxyfilter.forward.ClientExchange} (what an adapter translates a request into), and
 * {@link dev.proxyfilter.forward.Forwarding} (one request's life from the cache lookup on).
 *
 * <h2>The pipeline</h2>
 * Every adapter (servlet filter, Jetty proxy servlet, Tomcat valve, Jetty core handler) hands each request to
 * {@code ProxyEngine.handle(ClientExchange, Unrouted)}, which runs these steps in order; a step that answers
 * ends the request there. Each step is one class:
 * <ol>
 *   <li><b>Strict checks</b>: {@code CONNECT} refused, the path normalised ({@code StrictChecks}).
 *   <li><b>Route</b>: Host plus the longest whole-segment path prefix picks a route and its pool
 *       ({@link dev.proxyfilter.forward.Generation#route}, over {@link dev.proxyfilter.route.RouteTable}); no
 *       match is 404/403, or passed on by a filter or valve.
 *   <li><b>Request checks</b>: one framing, header count and body size within limits ({@code RequestChecks}).
 *   <li><b>Security</b>: access rules, authentication, rate limits, per-client concurrency ({@code
 *       SecurityStep} over {@link dev.proxyfilter.security.RouteGuard}).
 *   <li><b>Cache lookup</b>: a fresh or allowed stale answer, or coalescing with an identical miss ({@link
 *       dev.proxyfilter.forward.CachingStep}, {@code CachedExchange}).
 *   <li><b>Admission and queue</b>: a slot under the backend's {@code max-connections}, or the pool's bounded
 *       queue, or 503 ({@code PoolGate}).
 *   <li><b>Pick a backend</b>: the pool's strategy over its healthy backends ({@link
 *       dev.proxyfilter.balance.BackendPool}).
 *   <li><b>Forward</b>: headers cleaned both ways ({@code ForwardHeaders}), the request body streamed ({@code
 *       RequestBodySource}), the response copied with back-pressure ({@code ClientSink}), on the engine's own
 *       upstream client ({@link dev.proxyfilter.upstream.Upstream}: HTTP/1.1 or HTTP/2 as the pool says);
 *       trailers pass through ({@code ResponseCopy}), and a gRPC call's errors are gRPC statuses
 *       ({@code GrpcExchange}).
 *   <li><b>Tunnel</b>: a WebSocket upgrade the backend answered with 101 turns both connections into one byte
 *       tunnel, copied both ways with back-pressure until either side closes ({@code Tunnel}, its limits in
 *       {@code Tunnels}, its ends in {@link dev.proxyfilter.tunnel}); any other answer goes on as a response.
 *       RFC 8441's extended {@code CONNECT} over HTTP/2 is such an upgrade with the proxy's own handshake
 *       towards the backend ({@code ExtendedConnect}); only the Jetty core handler can hand a stream over.
 *   <li><b>Retry</b>: what may be tried again elsewhere, and which 502/503/504 a failure becomes ({@code
 *       RetryPolicy}).
 *   <li><b>Cache store</b>: a storable response kept as it streams past ({@code CachedExchange}).
 *   <li><b>Log</b>: route metrics and the access-log line ({@link dev.proxyfilter.accesslog.AccessLog}).
 * </ol>
 * To add a header to every forwarded request, change {@code ForwardHeaders.clientToServer} (step 8).
 *
 * <h2>Beside the pipeline</h2>
 * A configuration lives in an immutable {@link dev.proxyfilter.forward.Generation} ({@code
 * GenerationBuilder} builds it); {@code Reloader} swaps generations on a reload; {@code UpstreamClients}
 * owns the upstream threads and clients; {@code InFlight} counts exchanges and {@code Tunnels} the WebSocket
 * tunnels, for a graceful close.
 */
package dev.proxyfilter.forward;
