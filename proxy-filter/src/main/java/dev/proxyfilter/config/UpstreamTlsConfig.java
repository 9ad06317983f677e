package dev.proxyfilter.config;

/**
 * How the engine trusts {@code https://} backends ({@code proxy.tls.*}).
 *
 * @param truststore         PKCS12 trust store file, or {@code null} for the JDK's default trusted CAs
 * @param truststorePassword its password, or {@code null}
 * @param verifyHostname     check that the backend's certificate names the host of its URL (on by default)
 */
public record UpstreamTlsConfig(String truststore, String truststorePassword, boolean verifyHostname) {
    /** The JDK's trusted CAs, host names verified. */
    public static final UpstreamTlsConfig DEFAULT = new UpstreamTlsConfig(null, null, true);

    @Override
    public String toString() {
        return "UpstreamTlsConfig[truststore=" + truststore + ", truststorePassword="
                + (truststorePassword == null ? null : "***") + ", verifyHostname=" + verifyHostname + "]";
    }
}
