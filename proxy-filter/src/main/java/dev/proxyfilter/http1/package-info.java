/**
 * HTTP/1.1 on the wire, shared by the fast path's client side ({@code dev.proxyfilter.jetty}) and the upstream
 * client ({@code dev.proxyfilter.upstream}): the strict reading of plain header lines, with each connection's
 * fields given again when a line repeats ({@link dev.proxyfilter.http1.FieldLines}).
 *
 * <p>It uses Jetty's {@code http} and {@code util} types only, which {@code ArchitectureTest} checks.
 */
package dev.proxyfilter.http1;
