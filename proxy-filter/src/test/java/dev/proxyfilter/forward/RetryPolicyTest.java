package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.RetryConfig;
import dev.proxyfilter.config.RetryConfig.RetryOn;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.EnumSet;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The retry rules without a server: what may be tried again, and what a failure becomes. */
class RetryPolicyTest {
    private static final RetryPolicy ALL =
            new RetryPolicy(new RetryConfig(2, Duration.ZERO, EnumSet.allOf(RetryOn.class)));
    private static final RetryPolicy CONNECT_ONLY =
            new RetryPolicy(new RetryConfig(2, Duration.ZERO, EnumSet.of(RetryOn.CONNECT_FAILURE)));

    @Test
    void aConnectFailureIsRetriedForAnyMethodPostIncluded() {
        assertThat(ALL.retriesFailure("POST", 1, false, false, new ConnectException("refused"), false))
                .isTrue();
        assertThat(CONNECT_ONLY.retriesFailure("PATCH", 1, false, false, new ConnectException("refused"), false))
                .isTrue();
    }

    @Test
    void aResetIsRetriedForIdempotentMethodsOnly() {
        IOException reset = new IOException("connection reset");
        assertThat(ALL.retriesFailure("GET", 1, false, false, reset, false)).isTrue();
        assertThat(ALL.retriesFailure("PUT", 1, false, false, reset, false)).isTrue();
        assertThat(ALL.retriesFailure("POST", 1, false, false, reset, false)).isFalse();
        assertThat(CONNECT_ONLY.retriesFailure("GET", 1, false, false, reset, false))
                .isFalse();
    }

    @Test
    void aTimeoutIsRetriedOnlyWhenItWasThePerTryOne() {
        TimeoutException timeout = new TimeoutException("idle");
        assertThat(ALL.retriesFailure("GET", 1, false, false, timeout, true)).isTrue();
        assertThat(ALL.retriesFailure("GET", 1, false, false, timeout, false)).isFalse();
    }

    @Test
    void nothingIsRetriedPastTheTriesOnceTheBodyStartedOrAfterTheDeadline() {
        ConnectException refused = new ConnectException("refused");
        assertThat(ALL.retriesFailure("GET", 2, false, false, refused, false)).isTrue();
        assertThat(ALL.retriesFailure("GET", 3, false, false, refused, false)).isFalse();
        assertThat(ALL.retriesFailure("GET", 1, true, false, refused, false)).isFalse();
        assertThat(ALL.retriesFailure("GET", 1, false, true, refused, false)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(ints = {502, 503, 504})
    void aGatewayStatusIsRetriedForIdempotentMethodsWhenNamed(int status) {
        assertThat(ALL.retriesStatus(status, "GET", 1, false, false)).isTrue();
        assertThat(ALL.retriesStatus(status, "POST", 1, false, false)).isFalse();
        assertThat(CONNECT_ONLY.retriesStatus(status, "GET", 1, false, false)).isFalse();
        assertThat(ALL.retriesStatus(status, "GET", 3, false, false)).isFalse();
        assertThat(ALL.retriesStatus(status, "GET", 1, true, false)).isFalse();
        assertThat(ALL.retriesStatus(status, "GET", 1, false, true)).isFalse();
    }

    @Test
    void otherStatusesAreNeverRetried() {
        assertThat(ALL.retriesStatus(500, "GET", 1, false, false)).isFalse();
        assertThat(ALL.retriesStatus(404, "GET", 1, false, false)).isFalse();
    }

    @Test
    void theSameBackendIsTriedAgainOnlyAfterAFailureThatSaysNothingOfIt() {
        assertThat(RetryPolicy.mayRetrySameBackend(new IOException("reset"))).isTrue();
        assertThat(RetryPolicy.mayRetrySameBackend(new ConnectException("refused")))
                .isFalse();
        assertThat(RetryPolicy.mayRetrySameBackend(new TimeoutException())).isFalse();
    }

    @Test
    void failuresMapToJettysProxyStatuses() {
        assertThat(RetryPolicy.statusFor(new TimeoutException())).isEqualTo(504);
        assertThat(RetryPolicy.statusFor(new SocketTimeoutException("read"))).isEqualTo(504);
        assertThat(RetryPolicy.statusFor(new RejectedExecutionException())).isEqualTo(503);
        assertThat(RetryPolicy.statusFor(new IOException("reset"))).isEqualTo(502);
        assertThat(RetryPolicy.neverReachedBackend(new SocketTimeoutException("Connect timed out")))
                .isTrue();
        assertThat(RetryPolicy.neverReachedBackend(new SocketTimeoutException("Read timed out")))
                .isFalse();
    }
}
