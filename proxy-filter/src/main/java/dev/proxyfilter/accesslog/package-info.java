/**
 * The access log: one line per request, in nginx's {@code combined} format or as JSON.
 *
 * <h2>Starting points</h2>
 * {@link dev.proxyfilter.accesslog.AccessLog}.
 */
package dev.proxyfilter.accesslog;
