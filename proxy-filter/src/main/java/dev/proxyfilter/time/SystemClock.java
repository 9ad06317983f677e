package dev.proxyfilter.time;

import java.time.Instant;

/** {@link ProxyClock#system()}: reads the JDK's clocks, and allocates nothing for {@link #millis()}. */
enum SystemClock implements ProxyClock {
    INSTANCE;

    @Override
    public long nanoTime() {
        return System.nanoTime();
    }

    @Override
    public Instant instant() {
        return Instant.now();
    }

    @Override
    public long millis() {
        return System.currentTimeMillis();
    }

    @Override
    public String toString() {
        return "ProxyClock.system()";
    }
}
