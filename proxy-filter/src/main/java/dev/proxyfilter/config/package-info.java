/**
 * Starting points: {@link dev.proxyfilter.config.ConfigKey} (every key, declared once: default, values,
 * documentation, parser), {@link dev.proxyfilter.config.ConfigLoader} (the one loader for every source),
 * {@link dev.proxyfilter.config.ProxyConfig} (the validated result)
 * and {@link dev.proxyfilter.config.ConfigException} (what a bad value produces:
 * {@code key: value (expected: constraint) [source]}).
 *
 * <p>Sources ({@link dev.proxyfilter.config.ConfigSource}) are raw {@code key=value} maps from a
 * properties file, a classpath resource, {@code web.xml} init-params or {@code proxyfilter.*} system
 * properties. The loader merges them, later sources winning per key, and validates everything before
 * any record is built, so a record constructor never sees a bad value. This package imports only the
 * JDK.
 */
package dev.proxyfilter.config;
