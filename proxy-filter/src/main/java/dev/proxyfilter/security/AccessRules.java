package dev.proxyfilter.security;

import dev.proxyfilter.config.Cidr;
import java.util.List;

/**
 * Allow and deny lists of one route: the global ones ({@code security.allow}, {@code security.deny}) and
 * the route's own. A client IP is let through only if it passes both levels, and at each level:
 * <ol>
 *   <li>an address in the deny list is refused, whatever any allow list says (deny wins);</li>
 *   <li>when the allow list is not empty, an address must be in it;</li>
 *   <li>otherwise it passes.</li>
 * </ol>
 * So a route can narrow the global rules but never widen them: a global deny cannot be undone per route.
 * A client whose address is unknown (not an IP) passes only where no allow list applies and is never
 * matched by a deny list.
 */
public final class AccessRules {
    private final List<Cidr> globalAllow;
    private final List<Cidr> globalDeny;
    private final List<Cidr> routeAllow;
    private final List<Cidr> routeDeny;

    public AccessRules(List<Cidr> globalAllow, List<Cidr> globalDeny, List<Cidr> routeAllow, List<Cidr> routeDeny) {
        this.globalAllow = List.copyOf(globalAllow);
        this.globalDeny = List.copyOf(globalDeny);
        this.routeAllow = List.copyOf(routeAllow);
        this.routeDeny = List.copyOf(routeDeny);
    }

    /** Whether there is any rule at all. */
    public boolean isEmpty() {
        return globalAllow.isEmpty() && globalDeny.isEmpty() && routeAllow.isEmpty() && routeDeny.isEmpty();
    }

    /** Whether a client at {@code address} (4 or 16 bytes, or null when unknown) may use the route. */
    public boolean permits(byte[] address) {
        return passes(globalAllow, globalDeny, address) && passes(routeAllow, routeDeny, address);
    }

    private static boolean passes(List<Cidr> allow, List<Cidr> deny, byte[] address) {
        if (Cidr.anyContains(deny, address)) {
            return false;
        }
        return allow.isEmpty() || Cidr.anyContains(allow, address);
    }
}
