/**
 * Reloading the configuration while traffic flows: what triggers a reload and what it reports. Building and
 * swapping the generation itself is the engine's ({@code dev.proxyfilter.forward.Reloader}).
 *
 * <h2>Starting points</h2>
 * {@link dev.proxyfilter.reload.ConfigWatcher} (watches the configuration file, debounced) and {@link
 * dev.proxyfilter.reload.ReloadResult} (the outcome the admin API and the metrics report).
 */
package dev.proxyfilter.reload;
