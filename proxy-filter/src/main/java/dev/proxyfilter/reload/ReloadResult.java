package dev.proxyfilter.reload;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What one configuration reload did ({@link ProxyEngine#reload(dev.proxyfilter.config.ProxyConfig)}).
 *
 * @param outcome         applied, unchanged or rejected
 * @param generation      the configuration generation serving after the reload: the new one when applied,
 *                        the old one otherwise (1 is the configuration the engine started with)
 * @param message         why it was rejected, in the usual {@code key: value (expected: ...) [source]} form,
 *                        or a summary of what was applied
 * @param restartRequired settings that differ from the running ones but only take effect after a restart,
 *                        such as {@code server.*}; they were left as they are, the rest was applied
 * @param trigger         what asked for the reload: {@code file}, {@code signal}, {@code admin}, {@code api}, or
 *                        {@code cluster} (an admin reload sent to another node of the cluster)
 * @param at              when it finished
 */
public record ReloadResult(
        Outcome outcome, long generation, String message, List<String> restartRequired, String trigger, Instant at) {
    /** How a reload ended. */
    public enum Outcome {
        /** The new configuration serves new requests. */
        APPLIED,
        /** The configuration read equals the running one: nothing to do. */
        UNCHANGED,
        /** The configuration was invalid, or could not be read or started; the old one keeps serving. */
        REJECTED
    }

    public ReloadResult {
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(message, "message");
        restartRequired = List.copyOf(restartRequired);
        Objects.requireNonNull(trigger, "trigger");
        Objects.requireNonNull(at, "at");
    }

    /** Whether the proxy now runs what was read (applied or unchanged), restart-only settings aside. */
    public boolean ok() {
        return outcome != Outcome.REJECTED;
    }

    /** As plain maps for JSON. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("outcome", outcome.name().toLowerCase(java.util.Locale.ROOT));
        m.put("ok", ok());
        m.put("generation", generation);
        m.put("message", message);
        m.put("restart_required", restartRequired);
        m.put("trigger", trigger);
        m.put("at", at.toString());
        return m;
    }
}
