/**
 * Starting points: {@link dev.proxyfilter.balance.BackendPool}, whose {@code select(exclude)} the
 * forwarding engine calls for each attempt; {@link dev.proxyfilter.balance.Backend}, a backend's address
 * and its run-time state (in-flight requests, weight, availability); and
 * {@link dev.proxyfilter.balance.Strategy}, the selection strategies behind static factories.
 *
 * <p>Depends on the JDK and {@code dev.proxyfilter.config} only.
 */
package dev.proxyfilter.balance;
