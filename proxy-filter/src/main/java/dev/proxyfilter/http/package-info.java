/**
 * The few HTTP value types shared by the engine's layers, with no dependency of their own.
 *
 * <h2>Starting points</h2>
 * {@link dev.proxyfilter.http.Header}.
 */
package dev.proxyfilter.http;
