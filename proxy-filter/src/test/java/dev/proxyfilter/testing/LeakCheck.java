package dev.proxyfilter.testing;

import dev.proxyfilter.forward.ProxyEngine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * After every test, before its {@code @AfterEach} methods close anything: each proxy the test started and has
 * not closed holds nothing for an exchange any more (no exchange in flight, no backend request counted, nobody
 * queued, no upstream connection busy or awaited), in the manner of OkHttp's {@code
 * ensureAllConnectionsReleased}. A client may read the whole response a moment before the engine's accounting
 * of it ends, so the check waits up to {@link #SETTLE} for it.
 *
 * <p>Registered for every test by JUnit's extension auto-detection ({@code junit-platform.properties}); proxies
 * register themselves through {@link ProxyAdapter}.
 */
public final class LeakCheck implements AfterTestExecutionCallback {
    static final Duration SETTLE = Duration.ofSeconds(5);

    private static final Set<ProxyEngine> OPEN = ConcurrentHashMap.newKeySet();

    /** A proxy started for the running test. */
    static void opened(ProxyEngine engine) {
        OPEN.add(engine);
    }

    /** A proxy the test closed itself: whatever it held went with it. */
    static void closed(ProxyEngine engine) {
        OPEN.remove(engine);
    }

    @Override
    public void afterTestExecution(ExtensionContext context) {
        if (context.getExecutionException().isPresent()) {
            return; // the test failed already; its own failure says more
        }
        assertReleased(SETTLE);
    }

    /** Fails naming what each open proxy still holds after waiting up to {@code settle} for it to let go. */
    public static void assertReleased(Duration settle) {
        List<String> leaks = new ArrayList<>();
        for (ProxyEngine engine : List.copyOf(OPEN)) {
            try {
                Awaitility.await()
                        .atMost(settle)
                        .pollInterval(Duration.ofMillis(10))
                        .until(() -> engine.inUse().none());
            } catch (ConditionTimeoutException e) {
                leaks.add(engine.inUse().toString());
            }
        }
        if (!leaks.isEmpty()) {
            throw new AssertionError("a proxy still holds resources of ended exchanges " + settle.toMillis()
                    + " ms after the test: " + leaks);
        }
    }
}
