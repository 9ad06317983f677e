package dev.proxyfilter.security;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ConcurrencyLimiterTest {
    @Test
    void slotsPerClientComeBackAndLeaveNoEntryBehind() {
        ConcurrencyLimiter limiter = new ConcurrencyLimiter(2);
        assertThat(limiter.tryAcquire("a")).isTrue();
        assertThat(limiter.tryAcquire("a")).isTrue();
        assertThat(limiter.tryAcquire("a")).isFalse();
        assertThat(limiter.tryAcquire("b"))
                .as("another client has its own slots")
                .isTrue();
        assertThat(limiter.inFlight("a")).isEqualTo(2);
        limiter.release("a");
        assertThat(limiter.tryAcquire("a")).isTrue();
        limiter.release("a");
        limiter.release("a");
        limiter.release("b");
        assertThat(limiter.clients()).as("no request in flight, no entry").isZero();
        limiter.release("never-seen");
        assertThat(limiter.clients()).isZero();
    }
}
