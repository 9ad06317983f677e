package dev.proxyfilter.jetty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.ServerConfig;
import org.eclipse.jetty.server.HttpConfiguration;
import org.junit.jupiter.api.Test;

/** The listener configuration the Jetty-hosted proxy applies. */
class JettyConnectorsTest {
    /**
     * Jetty's per-connection header field cache (1,024 by default) pre-allocates about 50 KB of trie for
     * every connection: at 2,000 busy connections that filled the standalone proxy's 256 MiB heap, where
     * nginx needs a few MB. Measured at the same CPU per request without it (bench/profile.md, session 5).
     */
    @Test
    void noHeaderFieldCachePerConnection() {
        HttpConfiguration http = JettyConnectors.httpConfiguration(new ServerConfig("127.0.0.1", 0));

        assertThat(http.getHeaderCacheSize()).isZero();
        assertThat(new HttpConfiguration().getHeaderCacheSize())
                .as("Jetty's default, which this overrides")
                .isPositive();
    }
}
