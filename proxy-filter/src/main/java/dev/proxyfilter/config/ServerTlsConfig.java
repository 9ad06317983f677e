package dev.proxyfilter.config;

import java.util.Objects;

/**
 * HTTPS termination by the standalone proxy ({@code server.tls.*}): {@code server.port} speaks TLS 1.2+
 * with HTTP/2 and HTTP/1.1 over ALPN.
 *
 * @param keystore         PKCS12 file holding the private key and certificate chain
 * @param keystorePassword password of the key store and its key
 * @param redirectPort     a plain HTTP port that only redirects to HTTPS, or -1 for none (0 picks a free one)
 */
public record ServerTlsConfig(String keystore, String keystorePassword, int redirectPort) {
    public ServerTlsConfig {
        Objects.requireNonNull(keystore, "keystore");
        Objects.requireNonNull(keystorePassword, "keystorePassword");
        if (redirectPort < -1 || redirectPort > 65535) {
            throw new IllegalArgumentException("redirectPort: " + redirectPort + " (expected: -1..65535)");
        }
    }

    /** Whether a plain HTTP listener redirects to HTTPS. */
    public boolean redirects() {
        return redirectPort >= 0;
    }

    @Override
    public String toString() {
        return "ServerTlsConfig[keystore=" + keystore + ", keystorePassword=***, redirectPort=" + redirectPort + "]";
    }
}
