/**
 * The access log: one line per request, in nginx's {@code combined} format or as JSON, formatted and written
 * off the request's thread by one writer thread per engine behind a bounded queue.
 *
 * <h2>Starting points</h2>
 * {@link dev.proxyfilter.accesslog.AccessLog}.
 */
package dev.proxyfilter.accesslog;
