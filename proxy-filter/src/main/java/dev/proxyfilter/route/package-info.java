/**
 * Starting points: {@link dev.proxyfilter.route.RouteTable}, which maps a request's host and path to a
 * route with nginx's rules (host first, then the longest whole-segment path prefix), allocation-free.
 *
 * <p>Depends on the JDK and {@code dev.proxyfilter.config} only.
 */
package dev.proxyfilter.route;
