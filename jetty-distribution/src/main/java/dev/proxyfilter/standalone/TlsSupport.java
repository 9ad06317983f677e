package dev.proxyfilter.standalone;

import dev.proxyfilter.config.ServerTlsConfig;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import org.eclipse.jetty.http2.HTTP2Cipher;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * The TLS the standalone proxy terminates: TLS 1.3 and 1.2 only, forward-secret AEAD cipher suites only
 * (Jetty already excludes RSA key exchange, SHA-1, MD5, NULL and anonymous suites; CBC is excluded here),
 * ordered so that HTTP/2's own blacklist (RFC 9113 appendix A) never picks a suite it forbids.
 */
final class TlsSupport {
    /** Protocols offered; TLS 1.1 and older are not. */
    static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
    /**
     * Added to Jetty's default exclusions: CBC (padding oracles, Lucky13), and finite-field DHE, whose
     * groups are slow and often weak; every client with AEAD suites also has ECDHE.
     */
    static final String[] EXCLUDED_CIPHER_SUITES = {"^.*_CBC_.*$", "^TLS_DHE_.*$"};

    private TlsSupport() {}

    /**
     * A server context for the configured PKCS12 key store, opened now so that a wrong password or a
     * broken file is reported at start-up with the key to fix.
     *
     * @throws StartupException naming {@code server.tls.keystore} when the store cannot be opened
     */
    static SslContextFactory.Server serverContext(ServerTlsConfig tls) {
        char[] password = tls.keystorePassword().toCharArray();
        try (InputStream in = Files.newInputStream(Path.of(tls.keystore()))) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(in, password);
            if (!store.aliases().hasMoreElements()) {
                throw new IllegalArgumentException("the key store is empty");
            }
        } catch (Exception e) {
            throw StartupException.failure(
                    "server.tls.keystore: " + tls.keystore() + " (expected: a PKCS12 key store "
                            + "that opens with server.tls.keystore-password; " + ProxyMain.rootMessage(e) + ")",
                    e);
        }
        SslContextFactory.Server server = new SslContextFactory.Server();
        server.setKeyStorePath(tls.keystore());
        server.setKeyStoreType("PKCS12");
        server.setKeyStorePassword(tls.keystorePassword());
        server.setKeyManagerPassword(tls.keystorePassword());
        server.setIncludeProtocols(PROTOCOLS);
        server.addExcludeCipherSuites(EXCLUDED_CIPHER_SUITES);
        server.setCipherComparator(HTTP2Cipher.COMPARATOR);
        server.setUseCipherSuitesOrder(true);
        return server;
    }
}
