package dev.proxyfilter.config;

import java.time.Duration;
import java.util.Objects;

/**
 * How the configuration is reloaded ({@code reload.*}): whether the properties file it was read from is
 * watched, and how long the file must stay quiet after a change before it is read again. A reload can
 * also come from SIGHUP (standalone) and {@code POST /api/reload} (admin), whatever these say.
 *
 * @param watch    whether a change of the properties file reloads it (only a file on disk can be watched)
 * @param debounce the quiet period after the last change before reading the file, so that an editor's
 *                 several writes make one reload
 */
public record ReloadConfig(boolean watch, Duration debounce) {
    /** The default: watch, 300 ms quiet period. */
    public static final ReloadConfig DEFAULT = new ReloadConfig(true, Duration.ofMillis(300));

    public ReloadConfig {
        Objects.requireNonNull(debounce, "debounce");
        if (debounce.isNegative() || debounce.isZero()) {
            throw new IllegalArgumentException("debounce: " + debounce + " (expected: > 0)");
        }
    }
}
