package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Proxy;
import org.eclipse.jetty.http.HttpFields;
import org.junit.jupiter.api.Test;

/** Which requests ask for a WebSocket tunnel ({@link Tunnel#requested}), and the headers it puts back. */
class TunnelTest {
    private static ClientExchange request(String method, String protocol, boolean body, String... headers) {
        HttpFields.Mutable fields = HttpFields.build();
        for (int i = 0; i < headers.length; i += 2) {
            fields.add(headers[i], headers[i + 1]);
        }
        return (ClientExchange) Proxy.newProxyInstance(
                ClientExchange.class.getClassLoader(),
                new Class<?>[] {ClientExchange.class},
                (proxy, m, args) -> switch (m.getName()) {
                    case "method" -> method;
                    case "protocol" -> protocol;
                    case "hasRequestBody" -> body;
                    case "requestHeaders" -> fields;
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }

    @Test
    void aWebSocketHandshakeAsksForATunnel() {
        assertThat(Tunnel.requested(request("GET", "HTTP/1.1", false, "Upgrade", "websocket", "Connection", "Upgrade")))
                .isTrue();
        assertThat(Tunnel.requested(
                        request("GET", "HTTP/1.1", false, "Upgrade", "WebSocket", "Connection", "keep-alive, Upgrade")))
                .isTrue();
    }

    @Test
    void anythingElseIsAPlainRequest() {
        assertThat(Tunnel.requested(
                        request("POST", "HTTP/1.1", false, "Upgrade", "websocket", "Connection", "Upgrade")))
                .isFalse();
        assertThat(Tunnel.requested(request("GET", "HTTP/1.0", false, "Upgrade", "websocket", "Connection", "Upgrade")))
                .isFalse();
        assertThat(Tunnel.requested(request("GET", "HTTP/2.0", false, "Upgrade", "websocket", "Connection", "Upgrade")))
                .isFalse();
        assertThat(Tunnel.requested(request("GET", "HTTP/1.1", true, "Upgrade", "websocket", "Connection", "Upgrade")))
                .as("with a body")
                .isFalse();
        assertThat(Tunnel.requested(request("GET", "HTTP/1.1", false, "Upgrade", "h2c", "Connection", "Upgrade")))
                .isFalse();
        assertThat(Tunnel.requested(
                        request("GET", "HTTP/1.1", false, "Upgrade", "websocket, h2c", "Connection", "Upgrade")))
                .as("two tokens")
                .isFalse();
        assertThat(Tunnel.requested(request("GET", "HTTP/1.1", false, "Upgrade", "websocket")))
                .as("no Connection: upgrade")
                .isFalse();
        assertThat(Tunnel.requested(request("GET", "HTTP/1.1", false, "Connection", "Upgrade")))
                .isFalse();
    }

    @Test
    void theHopByHopHeadersGoBackBothWays() {
        HttpFields.Mutable toBackend = HttpFields.build();
        Tunnel.clientToServer(
                request("GET", "HTTP/1.1", false, "Upgrade", " websocket ", "Connection", "Upgrade"), toBackend);
        assertThat(toBackend.get("Upgrade")).isEqualTo("websocket");
        assertThat(toBackend.get("Connection")).isEqualTo("Upgrade");

        HttpFields.Mutable toClient = HttpFields.build();
        Tunnel.serverToClient(HttpFields.build().add("Upgrade", "websocket"), toClient);
        assertThat(toClient.get("Upgrade")).isEqualTo("websocket");
        assertThat(toClient.get("Connection")).isEqualTo("Upgrade");
    }
}
