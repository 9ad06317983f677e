/**
 * The proxy as a standalone program: Jetty with the proxy servlet at "/", plus optional demo backends.
 *
 * <p>Starting points:
 * <ul>
 *   <li>{@link dev.proxyfilter.standalone.ProxyMain}: the command line, start-up and exit statuses;
 *       {@code bin/proxy-filter} runs it.</li>
 *   <li>{@link dev.proxyfilter.standalone.RunningProxy}: the started servers, their ports and the
 *       ordered, graceful stop.</li>
 *   <li>{@link dev.proxyfilter.standalone.DemoBackends}: the {@code demo.backend.NAME.port} servers that
 *       answer with their name.</li>
 *   <li>{@code Takeover} and {@code HandOverConnector}: {@code --takeover} with {@code server.reuse-port},
 *       the new process's side and how the old one's listeners hand over without resetting a connection.</li>
 * </ul>
 *
 * <p>This is an adapter like the servlet ones: it builds Jetty servers around
 * the core {@link dev.proxyfilter.jetty.ProxyHandler} and holds no proxy logic of its own.
 */
package dev.proxyfilter.standalone;
