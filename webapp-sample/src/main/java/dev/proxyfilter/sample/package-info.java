/**
 * The sample webapp: {@code ProxyFilter} forwards {@code /api/*} to a pool of backends and the webapp
 * serves the rest itself.
 *
 * <p>Starting points: {@code src/main/webapp/WEB-INF/web.xml} (how the filter is declared),
 * {@code WEB-INF/proxy.properties} (the pool and the route), and {@link dev.proxyfilter.sample.HelloServlet},
 * the webapp's own content.
 */
package dev.proxyfilter.sample;
