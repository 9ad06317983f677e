package dev.proxyfilter.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.config.Cidr;
import java.util.List;
import org.junit.jupiter.api.Test;

class AccessRulesTest {
    private static List<Cidr> cidrs(String... blocks) {
        return java.util.Arrays.stream(blocks).map(Cidr::parse).toList();
    }

    private static byte[] ip(String text) {
        return Cidr.parseAddress(text);
    }

    @Test
    void noRulesLetEveryoneIn() {
        AccessRules rules = new AccessRules(List.of(), List.of(), List.of(), List.of());
        assertThat(rules.isEmpty()).isTrue();
        assertThat(rules.permits(ip("203.0.113.1"))).isTrue();
        assertThat(rules.permits(null)).isTrue();
    }

    @Test
    void denyWinsOverAllow() {
        AccessRules rules = new AccessRules(cidrs("10.0.0.0/8"), cidrs("10.6.6.0/24"), List.of(), List.of());
        assertThat(rules.permits(ip("10.1.2.3"))).isTrue();
        assertThat(rules.permits(ip("10.6.6.6"))).isFalse();
        assertThat(rules.permits(ip("192.0.2.1")))
                .as("an allow list lets only its own in")
                .isFalse();
    }

    @Test
    void aRouteNarrowsTheGlobalRulesButNeverWidensThem() {
        AccessRules rules = new AccessRules(
                cidrs("10.0.0.0/8"), cidrs("10.9.0.0/16"), cidrs("10.1.0.0/16", "10.9.9.9"), cidrs("10.1.1.1"));
        assertThat(rules.permits(ip("10.1.2.3"))).isTrue();
        assertThat(rules.permits(ip("10.2.0.1")))
                .as("outside the route's allow list")
                .isFalse();
        assertThat(rules.permits(ip("10.1.1.1"))).as("in the route's deny list").isFalse();
        assertThat(rules.permits(ip("10.9.9.9")))
                .as("the route allows it, the global deny still wins")
                .isFalse();
        AccessRules routeOnly = new AccessRules(List.of(), List.of(), cidrs("2001:db8::/32"), List.of());
        assertThat(routeOnly.permits(ip("2001:db8::1"))).isTrue();
        assertThat(routeOnly.permits(ip("2001:db9::1"))).isFalse();
        assertThat(routeOnly.permits(ip("10.0.0.1"))).isFalse();
    }

    @Test
    void anUnknownAddressPassesOnlyWhereNoAllowListApplies() {
        assertThat(new AccessRules(List.of(), cidrs("0.0.0.0/0", "::/0"), List.of(), List.of()).permits(null))
                .isTrue();
        assertThat(new AccessRules(cidrs("0.0.0.0/0"), List.of(), List.of(), List.of()).permits(null))
                .isFalse();
    }
}
