package dev.proxyfilter.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CidrTest {
    private static byte[] ip(String text) {
        byte[] address = Cidr.parseAddress(text);
        assertThat(address).as(text).isNotNull();
        return address;
    }

    @Test
    void ipv4BlocksMatchTheirRangeOnly() {
        Cidr ten = Cidr.parse("10.0.0.0/8");
        assertThat(ten.contains(ip("10.0.0.0"))).isTrue();
        assertThat(ten.contains(ip("10.255.255.255"))).isTrue();
        assertThat(ten.contains(ip("11.0.0.0"))).isFalse();
        assertThat(ten.contains(ip("9.255.255.255"))).isFalse();

        Cidr odd = Cidr.parse("192.168.1.128/25");
        assertThat(odd.contains(ip("192.168.1.128"))).isTrue();
        assertThat(odd.contains(ip("192.168.1.255"))).isTrue();
        assertThat(odd.contains(ip("192.168.1.127"))).isFalse();

        Cidr pair = Cidr.parse("203.0.113.6/31");
        assertThat(pair.contains(ip("203.0.113.6"))).isTrue();
        assertThat(pair.contains(ip("203.0.113.7"))).isTrue();
        assertThat(pair.contains(ip("203.0.113.8"))).isFalse();
    }

    @Test
    void edgeMasks() {
        Cidr all = Cidr.parse("0.0.0.0/0");
        assertThat(all.contains(ip("255.255.255.255"))).isTrue();
        assertThat(all.contains(ip("0.0.0.0"))).isTrue();
        assertThat(all.contains(ip("::1")))
                .as("an IPv4 block never holds an IPv6 address")
                .isFalse();

        Cidr one = Cidr.parse("192.0.2.7");
        assertThat(one.prefixLength()).isEqualTo(32);
        assertThat(one).isEqualTo(Cidr.parse("192.0.2.7/32"));
        assertThat(one.contains(ip("192.0.2.7"))).isTrue();
        assertThat(one.contains(ip("192.0.2.6"))).isFalse();

        Cidr upperHalf = Cidr.parse("128.0.0.0/1");
        assertThat(upperHalf.contains(ip("200.1.2.3"))).isTrue();
        assertThat(upperHalf.contains(ip("127.255.255.255"))).isFalse();

        Cidr everyV6 = Cidr.parse("::/0");
        assertThat(everyV6.contains(ip("2001:db8::1"))).isTrue();
        assertThat(everyV6.contains(ip("10.0.0.1"))).isFalse();

        Cidr v6Host = Cidr.parse("2001:db8::1/128");
        assertThat(v6Host.contains(ip("2001:db8:0:0:0:0:0:1"))).isTrue();
        assertThat(v6Host.contains(ip("2001:db8::2"))).isFalse();

        Cidr v6Pair = Cidr.parse("2001:db8::/127");
        assertThat(v6Pair.contains(ip("2001:db8::1"))).isTrue();
        assertThat(v6Pair.contains(ip("2001:db8::2"))).isFalse();
    }

    @Test
    void ipv6Blocks() {
        Cidr docs = Cidr.parse("2001:db8::/32");
        assertThat(docs.isIpv6()).isTrue();
        assertThat(docs.contains(ip("2001:db8:ffff::1"))).isTrue();
        assertThat(docs.contains(ip("2001:DB8::abcd"))).isTrue();
        assertThat(docs.contains(ip("2001:db9::1"))).isFalse();
        assertThat(docs.contains(ip("[2001:db8::5]"))).isTrue();
        assertThat(docs.contains(ip("[2001:db8::5]:8443"))).isTrue();
        assertThat(docs.contains(ip("2001:db8::5%eth0"))).isTrue();

        Cidr nibble = Cidr.parse("fd00:1234:5600::/44");
        assertThat(nibble.contains(ip("fd00:1234:560f:ffff::1"))).isTrue();
        assertThat(nibble.contains(ip("fd00:1234:5610::1"))).isFalse();
    }

    @Test
    void ipv4MappedIpv6IsIpv4() {
        assertThat(Cidr.parseAddress("::ffff:10.1.2.3")).hasSize(4);
        assertThat(Cidr.parse("10.0.0.0/8").contains(ip("::ffff:10.1.2.3"))).isTrue();
        assertThat(Cidr.parse("10.0.0.0/8").contains(ip("0:0:0:0:0:ffff:a01:203")))
                .isTrue();
        assertThat(Cidr.parse("::ffff:10.0.0.0/104")).isEqualTo(Cidr.parse("10.0.0.0/8"));
        assertThat(Cidr.format(ip("::ffff:192.0.2.1"))).isEqualTo("192.0.2.1");
    }

    @Test
    void addressesAsClientsAndProxiesWriteThem() {
        assertThat(Cidr.format(ip("192.0.2.1:4711"))).isEqualTo("192.0.2.1");
        assertThat(Cidr.format(ip("[::1]"))).isEqualTo("0:0:0:0:0:0:0:1");
        assertThat(Cidr.format(ip("2001:db8::17"))).isEqualTo("2001:db8:0:0:0:0:0:17");
        assertThat(Cidr.format(ip("::"))).isEqualTo("0:0:0:0:0:0:0:0");
        assertThat(Cidr.format(ip("1:2:3:4:5:6:7::"))).isEqualTo("1:2:3:4:5:6:7:0");
        assertThat(Cidr.format(ip("::2:3:4:5:6:7:8"))).isEqualTo("0:2:3:4:5:6:7:8");
        assertThat(Cidr.format(ip("64:ff9b::192.0.2.33"))).isEqualTo("64:ff9b:0:0:0:0:c000:221");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "unknown",
                "_hidden",
                "example.com",
                "1.2.3",
                "1.2.3.4.5",
                "256.1.1.1",
                "01.2.3.4",
                "1.2.3.-4",
                "+1.2.3.4",
                "1.2.3.4:",
                "1.2.3.4:99999x",
                ":::",
                "1::2::3",
                "1:2:3:4:5:6:7:8:9",
                "12345::1",
                "g::1",
                "[1.2.3.4]",
                "[::1",
                "[::1]x",
                "::1.2.3",
                "1.2.3.4::",
                " 1.2.3.4"
            })
    void notAddresses(String text) {
        assertThat(Cidr.parseAddress(text)).as(text).isNull();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "10.0.0.0/33",
                "::/129",
                "10.1.0.0/8",
                "10.0.0.1/31",
                "2001:db8::1/32",
                "10.0.0.0/",
                "10.0.0.0/08",
                "10.0.0.0/-1",
                "10.0.0.0/a",
                "fe80::1%eth0",
                "[::1]/128",
                "1.2.3.4:80",
                "::ffff:10.0.0.0/64",
                "host/8",
                "010.0.0.0/8"
            })
    void badBlocks(String text) {
        assertThatThrownBy(() -> Cidr.parse(text)).as(text).isInstanceOf(IllegalArgumentException.class);
    }

    /** Random strings over the characters of addresses: parsing never throws anything unexpected. */
    @Test
    void parsingRandomTextFailsOnlyTheDocumentedWay() {
        java.util.Random random = new java.util.Random(0xC1D2L);
        String alphabet = "0123456789abcdefABCDEF:.[]%/ fx-";
        for (int i = 0; i < 50_000; i++) {
            StringBuilder text = new StringBuilder();
            int length = random.nextInt(24);
            for (int j = 0; j < length; j++) {
                text.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            String candidate = text.toString();
            byte[] address = Cidr.parseAddress(candidate);
            assertThat(address == null || address.length == 4 || address.length == 16)
                    .as(candidate)
                    .isTrue();
            try {
                Cidr cidr = Cidr.parse(candidate);
                assertThat(Cidr.parse(cidr.toString())).as(candidate).isEqualTo(cidr);
            } catch (IllegalArgumentException expected) {
                // the documented failure
            }
        }
    }

    @Test
    void toStringIsCanonical() {
        assertThat(Cidr.parse("10.0.0.0/8")).hasToString("10.0.0.0/8");
        assertThat(Cidr.parse("2001:db8::/32")).hasToString("2001:db8:0:0:0:0:0:0/32");
    }
}
