package dev.proxyfilter.forward;

import dev.proxyfilter.balance.Backend;
import dev.proxyfilter.balance.BackendPool;
import dev.proxyfilter.reload.ReloadResult;
import java.util.Locale;
import java.util.Objects;

/**
 * An operator's change to a running engine, by name: what the admin API applies on the node it is sent to and,
 * in a cluster, what that node sends to the others ({@link ClusterNode}), each of which applies the same command to
 * its own engine. One implementation of each action, for both.
 *
 * @param action  what to do
 * @param pool    the pool, for backend actions; else empty
 * @param backend the backend, for backend actions; else empty
 * @param value   the weight, the normalised cache key or prefix; else empty
 */
public record AdminCommand(Action action, String pool, String backend, String value) {

    /** The actions. */
    public enum Action {
        /** No new request to the backend, sticky ones included; those in flight finish. */
        DRAIN,
        /** Out of rotation; those in flight finish. */
        DISABLE,
        /** Back in rotation after a drain or a disable; its health still applies. */
        ENABLE,
        /** A new weight, 0 for no new traffic. */
        WEIGHT,
        /** Re-read the configuration's sources (each node its own) and apply them. */
        RELOAD,
        /** Remove the stored responses of one cache key. */
        PURGE_URL,
        /** Remove every stored response under a cache-key prefix. */
        PURGE_PREFIX
    }

    public AdminCommand {
        Objects.requireNonNull(action, "action");
        pool = pool == null ? "" : pool;
        backend = backend == null ? "" : backend;
        value = value == null ? "" : value;
    }

    /** Drains a backend. */
    public static AdminCommand drain(String pool, String backend) {
        return new AdminCommand(Action.DRAIN, pool, backend, null);
    }

    /** Disables a backend. */
    public static AdminCommand disable(String pool, String backend) {
        return new AdminCommand(Action.DISABLE, pool, backend, null);
    }

    /** Enables a backend. */
    public static AdminCommand enable(String pool, String backend) {
        return new AdminCommand(Action.ENABLE, pool, backend, null);
    }

    /** Sets a backend's weight, 0..1000000. */
    public static AdminCommand weight(String pool, String backend, int weight) {
        if (weight < 0 || weight > 1_000_000) {
            throw new IllegalArgumentException("weight: " + weight + " (expected: integer 0..1000000)");
        }
        return new AdminCommand(Action.WEIGHT, pool, backend, Integer.toString(weight));
    }

    /** Reloads the configuration from its sources. */
    public static AdminCommand reload() {
        return new AdminCommand(Action.RELOAD, null, null, null);
    }

    /** Purges the responses of one normalised cache key ({@code CacheKeys.uri}). */
    public static AdminCommand purgeUrl(String cacheKey) {
        return new AdminCommand(Action.PURGE_URL, null, null, cacheKey);
    }

    /** Purges the responses under a normalised cache-key prefix. */
    public static AdminCommand purgePrefix(String cacheKeyPrefix) {
        return new AdminCommand(Action.PURGE_PREFIX, null, null, cacheKeyPrefix);
    }

    /**
     * Applies the command to {@code engine}.
     *
     * @param trigger what asked for it, for a reload's result: {@code admin} here, {@code cluster} elsewhere
     * @return what was done, one line for logs and acknowledgements
     * @throws IllegalArgumentException naming a pool or backend this engine does not have
     * @throws IllegalStateException    when a reload is rejected: the message says why
     */
    public String applyTo(ProxyEngine engine, String trigger) {
        String target = "pool " + pool + " backend " + backend;
        return switch (action) {
            case DRAIN -> {
                backend(engine, pool, backend).drain();
                yield target + ": draining";
            }
            case DISABLE -> {
                backend(engine, pool, backend).disable();
                yield target + ": disabled";
            }
            case ENABLE -> {
                backend(engine, pool, backend).enable();
                yield target + ": enabled";
            }
            case WEIGHT -> {
                int weight = Integer.parseInt(value);
                Backend b = backend(engine, pool, backend);
                int old = b.weight();
                b.weight(weight);
                yield target + ": weight " + old + " -> " + weight;
            }
            case RELOAD -> {
                ReloadResult result = engine.reloadFromSource(trigger);
                if (!result.ok()) {
                    throw new IllegalStateException("configuration reload rejected, generation " + result.generation()
                            + " keeps serving: " + result.message());
                }
                yield "configuration reload: " + result.outcome().name().toLowerCase(Locale.ROOT) + ", generation "
                        + result.generation();
            }
            case PURGE_URL -> {
                CachingStep caching = engine.caching();
                yield caching == null
                        ? "cache off: nothing to purge"
                        : "cache purge of " + value + ": " + (caching.purgeKey(value) ? "removed" : "not stored");
            }
            case PURGE_PREFIX -> {
                CachingStep caching = engine.caching();
                yield caching == null
                        ? "cache off: nothing to purge"
                        : "cache purge of prefix " + value + ": " + caching.purge(value) + " entries removed";
            }
        };
    }

    /**
     * The backend {@code name} of pool {@code pool} in the generation serving now.
     *
     * @throws IllegalArgumentException naming what exists instead
     */
    public static Backend backend(ProxyEngine engine, String pool, String name) {
        BackendPool p = engine.pools().get(pool);
        if (p == null) {
            throw new IllegalArgumentException(
                    "pool: " + pool + " (expected: one of " + engine.pools().keySet() + ")");
        }
        for (Backend b : p.backends()) {
            if (b.name().equals(name)) {
                return b;
            }
        }
        throw new IllegalArgumentException("backend: " + name + " (expected: one of "
                + p.backends().stream().map(Backend::name).toList() + " in pool " + pool + ")");
    }

    /** One line for the cluster's topic: the action and its arguments, tab-separated. */
    String encode() {
        return action.name() + '\t' + pool + '\t' + backend + '\t' + value;
    }

    /**
     * The command {@link #encode} wrote.
     *
     * @throws IllegalArgumentException for a line that is not one (another version's action)
     */
    static AdminCommand decode(String line) {
        String[] parts = line.split("\t", 4);
        if (parts.length != 4) {
            throw new IllegalArgumentException("command: " + line + " (expected: ACTION, pool, backend, value)");
        }
        Action action;
        try {
            action = Action.valueOf(parts[0]);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "command: " + parts[0] + " (expected: one of " + java.util.Arrays.toString(Action.values()) + ")");
        }
        if (action == Action.WEIGHT) {
            return weight(parts[1], parts[2], Integer.parseInt(parts[3]));
        }
        return new AdminCommand(action, parts[1], parts[2], parts[3]);
    }
}
