package dev.proxyfilter.balance;

import java.util.ArrayList;
import java.util.List;

/** A {@link HealthListener} that keeps every event as a line, e.g. {@code b: UP -> DOWN after ...}. */
final class RecordingListener implements HealthListener {
    private final List<String> events = new ArrayList<>();

    @Override
    public synchronized void backendChanged(Backend backend, BackendState from, BackendState to, String reason) {
        events.add(backend.name() + ": " + from + " -> " + to + " " + reason);
    }

    @Override
    public synchronized void poolModeChanged(String pool, PoolMode from, PoolMode to, String reason) {
        events.add("pool " + pool + ": " + from + " -> " + to + " (" + reason + ")");
    }

    /** The events so far, and forgets them. */
    synchronized List<String> take() {
        List<String> taken = List.copyOf(events);
        events.clear();
        return taken;
    }
}
