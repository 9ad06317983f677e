package dev.proxyfilter.balance;

/**
 * Which backends a pool picks from, decided after every change of health (see
 * {@link BackendPool} for the rules and {@link BackendPool#mode()}).
 */
public enum PoolMode {
    /** The healthy primary backends. */
    NORMAL,
    /** The healthy primaries and the healthy backups: too few primaries are healthy and a backup is. */
    BACKUP,
    /** Every primary backend in service, healthy or not: too few are healthy and no backup is (Envoy's panic). */
    PANIC
}
