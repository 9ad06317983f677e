package dev.proxyfilter.balance;

/**
 * Hears every change of a backend's {@link BackendState} and of a pool's {@link PoolMode}, once each. The
 * engine logs them; tests record them.
 *
 * <p>Called on the thread that caused the change (a request thread, a health check, an operator), while
 * the pool's health lock is held, so that the calls come in the order of the changes: keep it short and
 * do not call back into the pool.
 */
public interface HealthListener {
    /** Hears nothing. */
    HealthListener NONE = new HealthListener() {
        @Override
        public void backendChanged(Backend backend, BackendState from, BackendState to, String reason) {}

        @Override
        public void poolModeChanged(String pool, PoolMode from, PoolMode to, String reason) {}
    };

    /**
     * {@code backend} went from {@code from} to {@code to}, which differ.
     *
     * @param reason why, as the end of a sentence: {@code after 3 failed checks (last: connect refused)}
     */
    void backendChanged(Backend backend, BackendState from, BackendState to, String reason);

    /**
     * Pool {@code pool} now picks from other backends.
     *
     * @param reason the counts behind the change, e.g. {@code 1 of 4 primary backends healthy}
     */
    void poolModeChanged(String pool, PoolMode from, PoolMode to, String reason);
}
