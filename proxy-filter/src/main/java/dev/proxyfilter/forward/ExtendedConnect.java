package dev.proxyfilter.forward;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;

/**
 * RFC 8441, WebSocket over HTTP/2: an extended {@code CONNECT} whose {@code :protocol} is {@code websocket}
 * becomes an HTTP/1.1 upgrade to the backend, and the tunnel that follows is {@link Tunnel}'s, like any other.
 *
 * <h2>When</h2>
 * Only where the client's connection speaks HTTP/2 and the adapter hands the stream over ({@link
 * ClientExchange#connectProtocol}): the standalone listener (the Jetty core handler), whose HTTP/2 factories
 * advertise {@code SETTINGS_ENABLE_CONNECT_PROTOCOL}. A {@code CONNECT} without {@code :protocol} is refused
 * with 405 as before, one with another protocol with 501 ({@link StrictChecks#refuseTunnel}); a route with
 * {@code route.NAME.websocket=false} answers an extended {@code CONNECT} 501 too, after the security step.
 * Why 501 and not Envoy's 403 ({@code upgrade_failed}): RFC 9220 §3 asks for 501 when the {@code :protocol} is
 * not supported, and 403 is what this proxy's access rules answer, which an operator must be able to tell apart.
 * nginx has no extended {@code CONNECT} to compare with; for an HTTP/1.1 upgrade on such a route it sends the
 * request on without {@code Upgrade}, which has no HTTP/2 counterpart (a 2xx to a {@code CONNECT} opens a
 * tunnel).
 *
 * <h2>The handshake, twice</h2>
 * The client's stream carries no key ({@code Sec-WebSocket-Key} and {@code -Accept} do not exist in RFC 8441),
 * so the proxy makes its own handshake with the backend ({@link #clientToServer}): {@code GET} with {@code
 * Upgrade: websocket}, {@code Connection: Upgrade}, {@code Sec-WebSocket-Version: 13} and a fresh random key;
 * the client's {@code Sec-WebSocket-Protocol} and {@code -Extensions} go on as they are (they are end-to-end,
 * and the frames are not touched, so the backend's choice must be the client's to check). A 101 whose {@code
 * Sec-WebSocket-Accept} is not the key's (RFC 6455 §4.2.2) or whose {@code Upgrade} is not {@code websocket}
 * fails the stream with 502 and no tunnel ({@link #handshakeProblem}); otherwise the client gets 200 with the
 * backend's headers minus the HTTP/1.1 handshake's ({@link #serverToClient}). Any other answer goes to the
 * client as it is, except a 2xx, which would tell it that a tunnel opened: 502.
 */
final class ExtendedConnect {
    /** RFC 6455 §1.3: what the accept value hashes after the key. */
    private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    private ExtendedConnect() {}

    /** Whether an extended {@code CONNECT}'s {@code :protocol} asks for WebSocket; false for {@code null}. */
    static boolean websocket(String protocol) {
        return "websocket".equalsIgnoreCase(protocol);
    }

    /**
     * Makes the forwarded request the backend's HTTP/1.1 handshake and returns its fresh key, which {@link
     * #handshakeProblem} checks the answer against. Each try gets its own key.
     */
    static String clientToServer(HttpFields.Mutable out) {
        byte[] nonce = new byte[16];
        ThreadLocalRandom.current().nextBytes(nonce);
        String key = Base64.getEncoder().encodeToString(nonce);
        out.put(HttpHeader.UPGRADE, "websocket");
        out.put(HttpHeader.CONNECTION, HttpHeaderValue.UPGRADE.asString());
        out.put(HttpHeader.SEC_WEBSOCKET_VERSION, "13");
        out.put(HttpHeader.SEC_WEBSOCKET_KEY, key);
        return key;
    }

    /** {@code Sec-WebSocket-Accept} for {@code key}: base64 of the SHA-1 of the key and the GUID. */
    static String accept(String key) {
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            byte[] digest = sha1.digest((key + GUID).getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-1", e);
        }
    }

    /** What is wrong with the backend's 101 to the handshake with {@code key}, or {@code null} when nothing is. */
    static String handshakeProblem(String key, HttpFields backend) {
        String upgrade = backend.get(HttpHeader.UPGRADE);
        if (upgrade == null || !upgrade.strip().equalsIgnoreCase("websocket")) {
            return "the backend's 101 does not upgrade to websocket";
        }
        String accept = backend.get(HttpHeader.SEC_WEBSOCKET_ACCEPT);
        if (accept == null || !accept.strip().equals(accept(key))) {
            return "the backend's 101 has a wrong Sec-WebSocket-Accept";
        }
        return null;
    }

    /** The backend's headers as the client's 200 carries them: without the HTTP/1.1 handshake's own. */
    static void serverToClient(HttpFields.Mutable out) {
        out.remove(HttpHeader.SEC_WEBSOCKET_ACCEPT);
    }
}
