package dev.proxyfilter.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.balance.FailureKind;
import java.io.EOFException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.UnresolvedAddressException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** How the engine classifies a failed attempt for outlier ejection. */
class PassiveHealthTest {

    @Test
    void failuresBeforeTheBackendWasReachedAreConnectFailures() {
        assertThat(PassiveHealth.kindOf(new ConnectException("Connection refused")))
                .isEqualTo(FailureKind.CONNECT);
        assertThat(PassiveHealth.kindOf(new NoRouteToHostException())).isEqualTo(FailureKind.CONNECT);
        assertThat(PassiveHealth.kindOf(new UnresolvedAddressException())).isEqualTo(FailureKind.CONNECT);
        assertThat(PassiveHealth.kindOf(new SocketTimeoutException("Connect Timeout")))
                .isEqualTo(FailureKind.CONNECT);
    }

    @Test
    void timeoutsAndResetsAreTheirOwnKinds() {
        assertThat(PassiveHealth.kindOf(new TimeoutException("Total timeout 1000 ms elapsed")))
                .isEqualTo(FailureKind.TIMEOUT);
        assertThat(PassiveHealth.kindOf(new SocketTimeoutException("Read timed out")))
                .isEqualTo(FailureKind.TIMEOUT);
        assertThat(PassiveHealth.kindOf(new EOFException())).isEqualTo(FailureKind.RESET);
        assertThat(PassiveHealth.kindOf(new ClosedChannelException())).isEqualTo(FailureKind.RESET);
    }
}
