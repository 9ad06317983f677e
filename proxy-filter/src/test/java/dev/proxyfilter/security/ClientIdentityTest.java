package dev.proxyfilter.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.Cidr;
import dev.proxyfilter.config.SecurityConfig.ClientIpHeader;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClientIdentityTest {
    private static final List<Cidr> PROXIES = List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("fd00::/8"));
    private final ClientIdentity xff = new ClientIdentity(PROXIES, ClientIpHeader.X_FORWARDED_FOR);
    private final ClientIdentity forwarded = new ClientIdentity(PROXIES, ClientIpHeader.FORWARDED);

    @Test
    void anUntrustedPeerIsTheClientWhateverItSends() {
        ClientIdentity.Resolved client = xff.resolve(TestRequest.from("203.0.113.9")
                .header("X-Forwarded-For", "1.2.3.4")
                .header("Forwarded", "for=1.2.3.4"));
        assertThat(client.ip()).isEqualTo("203.0.113.9");
        assertThat(client.peerTrusted()).isFalse();

        ClientIdentity nobodyTrusted = new ClientIdentity(List.of(), ClientIpHeader.X_FORWARDED_FOR);
        assertThat(nobodyTrusted
                        .resolve(TestRequest.from("10.0.0.1").header("X-Forwarded-For", "1.2.3.4"))
                        .ip())
                .isEqualTo("10.0.0.1");
    }

    @Test
    void anUntrustedPeersResolutionIsRememberedAndATrustedOnesChainIsReadEachTime() {
        ClientIdentity.Resolved first = xff.resolve(TestRequest.from("203.0.113.9"));
        ClientIdentity.Resolved again =
                xff.resolve(TestRequest.from("203.0.113.9").header("X-Forwarded-For", "1.2.3.4"));
        assertThat(again).as("the memo's, not parsed again").isSameAs(first);
        assertThat(again.ip()).isEqualTo("203.0.113.9");

        // Peers sharing a slot replace each other and still resolve to themselves.
        for (int i = 0; i < 300; i++) {
            String peer = "198.51.100." + (i % 250);
            assertThat(xff.resolve(TestRequest.from(peer)).ip()).isEqualTo(peer);
        }
        assertThat(xff.resolve(TestRequest.from("::ffff:203.0.113.9")).ip())
                .as("another spelling is its own entry, canonicalised as before")
                .isEqualTo(Cidr.format(Cidr.parseAddress("::ffff:203.0.113.9")));

        // A trusted peer's answer depends on its header: never remembered.
        assertThat(xff.resolve(TestRequest.from("10.0.0.1").header("X-Forwarded-For", "198.51.100.7"))
                        .ip())
                .isEqualTo("198.51.100.7");
        assertThat(xff.resolve(TestRequest.from("10.0.0.1").header("X-Forwarded-For", "198.51.100.8"))
                        .ip())
                .isEqualTo("198.51.100.8");
    }

    @Test
    void aTrustedPeerChainGivesTheRightMostUntrustedAddress() {
        ClientIdentity.Resolved client =
                xff.resolve(TestRequest.from("10.0.0.1").header("X-Forwarded-For", "6.6.6.6, 198.51.100.2, 10.9.8.7"));
        assertThat(client.ip())
                .as("the client's own 6.6.6.6 is left of the first untrusted hop")
                .isEqualTo("198.51.100.2");
        assertThat(client.peerTrusted()).isTrue();
    }

    @Test
    void headerLinesAreOneChain() {
        ClientIdentity.Resolved client = xff.resolve(TestRequest.from("10.0.0.1")
                .header("X-Forwarded-For", "198.51.100.2")
                .header("X-Forwarded-For", "10.1.1.1, 10.2.2.2"));
        assertThat(client.ip()).isEqualTo("198.51.100.2");
    }

    @Test
    void aFullyTrustedChainGivesItsLeftMostAddress() {
        assertThat(xff.resolve(TestRequest.from("10.0.0.1").header("X-Forwarded-For", "10.3.3.3, 10.2.2.2"))
                        .ip())
                .isEqualTo("10.3.3.3");
        assertThat(xff.resolve(TestRequest.from("10.0.0.1")).ip())
                .as("no header: the trusted peer itself")
                .isEqualTo("10.0.0.1");
    }

    @Test
    void garbageEndsTheWalkAtTheNearestTrustedHop() {
        assertThat(xff.resolve(TestRequest.from("10.0.0.1").header("X-Forwarded-For", "1.2.3.4, unknown, 10.2.2.2"))
                        .ip())
                .isEqualTo("10.2.2.2");
        assertThat(xff.resolve(TestRequest.from("10.0.0.1").header("X-Forwarded-For", "evil.example"))
                        .ip())
                .isEqualTo("10.0.0.1");
        assertThat(xff.resolve(TestRequest.from("10.0.0.1").header("X-Forwarded-For", "1.2.3.4,,"))
                        .ip())
                .isEqualTo("10.0.0.1");
    }

    @Test
    void ipv6PeersAndEntries() {
        assertThat(xff.resolve(TestRequest.from("[fd00::1]").header("X-Forwarded-For", "2001:db8::7, fd12::3"))
                        .ip())
                .isEqualTo("2001:db8:0:0:0:0:0:7");
        assertThat(xff.resolve(TestRequest.from("0:0:0:0:0:ffff:a00:1").header("X-Forwarded-For", "192.0.2.5"))
                        .ip())
                .as("an IPv4-mapped peer is its IPv4 address")
                .isEqualTo("192.0.2.5");
        assertThat(xff.resolve(TestRequest.from("[2001:db8::9]").header("X-Forwarded-For", "1.2.3.4"))
                        .ip())
                .isEqualTo("2001:db8:0:0:0:0:0:9");
    }

    @Test
    void forwardedForParameters() {
        ClientIdentity.Resolved client = forwarded.resolve(
                TestRequest.from("10.0.0.1")
                        .header(
                                "Forwarded",
                                "for=6.6.6.6, for=\"[2001:db8:cafe::17]:4711\";proto=https;host=\"a,b\", For=10.4.4.4;by=10.0.0.1"));
        assertThat(client.ip()).isEqualTo("2001:db8:cafe:0:0:0:0:17");

        assertThat(forwarded
                        .resolve(TestRequest.from("10.0.0.1").header("Forwarded", "for=192.0.2.60:8080"))
                        .ip())
                .isEqualTo("192.0.2.60");
        assertThat(forwarded
                        .resolve(TestRequest.from("10.0.0.1").header("Forwarded", "for=_hidden, for=10.7.7.7"))
                        .ip())
                .isEqualTo("10.7.7.7");
        assertThat(forwarded
                        .resolve(TestRequest.from("10.0.0.1").header("Forwarded", "proto=http"))
                        .ip())
                .as("an element without for= ends the walk")
                .isEqualTo("10.0.0.1");
        assertThat(forwarded
                        .resolve(TestRequest.from("10.0.0.1").header("X-Forwarded-For", "192.0.2.1"))
                        .ip())
                .as("X-Forwarded-For is not read when Forwarded is the configured chain")
                .isEqualTo("10.0.0.1");
    }

    @Test
    void aPeerThatIsNoIpAddressIsKeptAsItIs() {
        ClientIdentity.Resolved client =
                xff.resolve(TestRequest.from("local-socket").header("X-Forwarded-For", "1.2.3.4"));
        assertThat(client.ip()).isEqualTo("local-socket");
        assertThat(client.address()).isNull();
        assertThat(client.peerTrusted()).isFalse();
    }
}
