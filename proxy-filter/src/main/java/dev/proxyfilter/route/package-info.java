/**
 * Starting points: {@link dev.proxyfilter.route.RouteTable}, which maps a request's host and path to a
 * route with nginx's rules (host first, then the longest whole-segment path prefix), allocation-free;
 * {@link dev.proxyfilter.route.PathNormalizer}, which puts the path into the one form routes, access rules
 * and backends all see (or refuses it) before the table is asked.
 *
 * <p>Depends on the JDK and {@code dev.proxyfilter.config} only.
 */
package dev.proxyfilter.route;
