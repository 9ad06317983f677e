/**
 * What operators can see and change at run time, without HTTP: pools and backends with their state and
 * numbers, drain, disable, enable and weight changes, reloads and cache purges.
 *
 * <h2>Starting points</h2>
 * {@link dev.proxyfilter.admin.AdminOperations}; the admin servlet and the standalone admin listener only
 * translate HTTP to it.
 */
package dev.proxyfilter.admin;
