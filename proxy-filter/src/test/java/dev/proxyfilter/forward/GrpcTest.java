package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;

import org.eclipse.jetty.http.HttpFields;
import org.junit.jupiter.api.Test;

class GrpcTest {
    @Test
    void recognisesGrpcContentTypesButNotGrpcWeb() {
        assertThat(Grpc.isCall("application/grpc")).isTrue();
        assertThat(Grpc.isCall("application/grpc+proto")).isTrue();
        assertThat(Grpc.isCall("Application/GRPC; charset=x")).isTrue();
        assertThat(Grpc.isCall("application/grpc-web")).isFalse();
        assertThat(Grpc.isCall("application/grpcx")).isFalse();
        assertThat(Grpc.isCall("text/plain")).isFalse();
        assertThat(Grpc.isCall((String) null)).isFalse();
    }

    @Test
    void grpcTimeoutInEveryUnit() {
        assertThat(Grpc.timeoutMillis("1H")).isEqualTo(3_600_000);
        assertThat(Grpc.timeoutMillis("2M")).isEqualTo(120_000);
        assertThat(Grpc.timeoutMillis("3S")).isEqualTo(3_000);
        assertThat(Grpc.timeoutMillis("250m")).isEqualTo(250);
        assertThat(Grpc.timeoutMillis("1500u")).isEqualTo(2); // rounded up: never earlier than asked
        assertThat(Grpc.timeoutMillis("1n")).isEqualTo(1);
        assertThat(Grpc.timeoutMillis("99999999S")).isEqualTo(99_999_999_000L);
        assertThat(Grpc.timeoutMillis("123456789S")).isEqualTo(-1); // 9 digits
        assertThat(Grpc.timeoutMillis("10x")).isEqualTo(-1);
        assertThat(Grpc.timeoutMillis("m")).isEqualTo(-1);
        assertThat(Grpc.timeoutMillis("-5m")).isEqualTo(-1);
    }

    @Test
    void theShorterOfRouteTimeoutAndDeadlineWins() {
        HttpFields call = HttpFields.build().put("grpc-timeout", "200m");
        assertThat(Grpc.timeoutMillis(1000, call)).isEqualTo(200);
        assertThat(Grpc.timeoutMillis(100, call)).isEqualTo(100);
        assertThat(Grpc.timeoutMillis(0, call)).isEqualTo(200);
        assertThat(Grpc.timeoutMillis(0, HttpFields.EMPTY)).isEqualTo(0);
        assertThat(Grpc.timeoutMillis(500, HttpFields.EMPTY)).isEqualTo(500);
    }

    @Test
    void proxyErrorsBecomeGrpcStatuses() {
        assertThat(Grpc.status(502)).isEqualTo(14);
        assertThat(Grpc.status(503)).isEqualTo(14);
        assertThat(Grpc.status(504)).isEqualTo(4);
        assertThat(Grpc.status(401)).isEqualTo(16);
        assertThat(Grpc.status(403)).isEqualTo(7);
        assertThat(Grpc.status(404)).isEqualTo(12);
        assertThat(Grpc.status(429)).isEqualTo(14);
        assertThat(Grpc.status(418)).isEqualTo(2);
    }

    @Test
    void grpcMessageIsPercentEncoded() {
        assertThat(Grpc.encodeMessage("Bad Gateway: 100% é")).isEqualTo("Bad Gateway: 100%25 %C3%A9");
    }
}
