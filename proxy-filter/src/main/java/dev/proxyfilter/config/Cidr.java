package dev.proxyfilter.config;

import java.util.Arrays;
import java.util.Objects;

/**
 * An IPv4 or IPv6 address block, {@code 10.0.0.0/8} or {@code 2001:db8::/32}; a bare address is a block
 * of one ({@code /32} or {@code /128}). The values of {@code security.trusted-proxies},
 * {@code security.allow}, {@code security.deny} and their per-route forms.
 *
 * <p>Addresses are parsed here, never resolved: {@link java.net.InetAddress#getByName} would look a
 * name up in DNS. IPv4 octets take no leading zeros (some parsers read {@code 010} as octal, others as
 * decimal), and an IPv4-mapped IPv6 address ({@code ::ffff:192.0.2.1}) is its IPv4 address, so that an
 * IPv4 rule holds however the container spells the peer.
 */
public final class Cidr {
    private final byte[] network;
    private final int prefixLength;

    private Cidr(byte[] network, int prefixLength) {
        this.network = network;
        this.prefixLength = prefixLength;
    }

    /**
     * Parses {@code address[/prefix]}.
     *
     * @throws IllegalArgumentException if it is not an IPv4 or IPv6 literal with a prefix in range, or has
     *                                  bits set after the prefix ({@code 10.1.0.0/8} is a typo more often
     *                                  than not)
     */
    public static Cidr parse(String text) {
        Objects.requireNonNull(text, "text");
        int slash = text.indexOf('/');
        String addressText = slash < 0 ? text : text.substring(0, slash);
        byte[] address = parseLiteral(addressText, false);
        if (address == null) {
            throw new IllegalArgumentException("not an IPv4 or IPv6 address: " + addressText);
        }
        int bits = address.length * 8;
        int prefix = bits;
        if (slash >= 0) {
            String prefixText = text.substring(slash + 1);
            if (prefixText.isEmpty()
                    || prefixText.length() > 3
                    || !prefixText.chars().allMatch(c -> c >= '0' && c <= '9')
                    || (prefixText.length() > 1 && prefixText.charAt(0) == '0')) {
                throw new IllegalArgumentException("not a prefix length: " + prefixText);
            }
            prefix = Integer.parseInt(prefixText);
            if (prefix > rawBits(addressText)) {
                throw new IllegalArgumentException("prefix length " + prefix + " over " + rawBits(addressText));
            }
            if (address.length == 4 && rawBits(addressText) == 128) {
                // ::ffff:a.b.c.d/n, the IPv4-mapped form: the IPv4 block it covers, if it covers only those.
                if (prefix < 96) {
                    throw new IllegalArgumentException("IPv4-mapped block shorter than /96");
                }
                prefix -= 96;
            }
        }
        for (int bit = prefix; bit < bits; bit++) {
            if ((address[bit / 8] & (0x80 >>> (bit % 8))) != 0) {
                throw new IllegalArgumentException("bits set after the prefix /" + prefix);
            }
        }
        return new Cidr(address, prefix);
    }

    private static int rawBits(String addressText) {
        return addressText.indexOf(':') >= 0 ? 128 : 32;
    }

    /**
     * An IP address as a client or proxy writes it: IPv4, IPv6, IPv6 in brackets, with an optional port
     * after an IPv4 address or a bracketed IPv6 one, and an optional IPv6 zone. Returns 4 bytes for IPv4
     * (IPv4-mapped IPv6 included) and 16 for IPv6, or {@code null} for anything else ({@code unknown}, a
     * host name, an obfuscated identifier).
     */
    public static byte[] parseAddress(String text) {
        if (text == null || text.isEmpty() || text.length() > 64) {
            return null;
        }
        String address = text;
        if (address.charAt(0) == '[') {
            int close = address.indexOf(']');
            if (close < 0 || !(close == address.length() - 1 || isPort(address, close + 1))) {
                return null;
            }
            address = address.substring(1, close);
            return address.indexOf(':') >= 0 ? parseLiteral(address, true) : null;
        }
        int colon = address.indexOf(':');
        if (colon >= 0 && colon == address.lastIndexOf(':') && address.indexOf('.') >= 0) {
            // 192.0.2.1:4711
            if (!isPort(address, colon)) {
                return null;
            }
            address = address.substring(0, colon);
        }
        return parseLiteral(address, true);
    }

    private static boolean isPort(String text, int colon) {
        if (colon >= text.length()
                || text.charAt(colon) != ':'
                || colon == text.length() - 1
                || text.length() - colon - 1 > 5) {
            return false;
        }
        for (int i = colon + 1; i < text.length(); i++) {
            if (text.charAt(i) < '0' || text.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    /** The canonical text of a parsed address: dotted IPv4, or IPv6 as eight groups ({@link java.net.Inet6Address} style). */
    public static String format(byte[] address) {
        StringBuilder text = new StringBuilder(address.length == 4 ? 15 : 39);
        if (address.length == 4) {
            for (int i = 0; i < 4; i++) {
                if (i > 0) {
                    text.append('.');
                }
                text.append(address[i] & 0xff);
            }
        } else {
            for (int i = 0; i < 16; i += 2) {
                if (i > 0) {
                    text.append(':');
                }
                text.append(Integer.toHexString(((address[i] & 0xff) << 8) | (address[i + 1] & 0xff)));
            }
        }
        return text.toString();
    }

    /** Whether {@code address} (4 or 16 bytes, as {@link #parseAddress} returns) lies in this block. */
    public boolean contains(byte[] address) {
        if (address == null || address.length != network.length) {
            return false;
        }
        int whole = prefixLength / 8;
        for (int i = 0; i < whole; i++) {
            if (address[i] != network[i]) {
                return false;
            }
        }
        int rest = prefixLength % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xff00 >>> rest) & 0xff;
        return (address[whole] & mask) == (network[whole] & mask);
    }

    /** Whether any block of {@code blocks} contains {@code address}. */
    public static boolean anyContains(java.util.List<Cidr> blocks, byte[] address) {
        for (int i = 0, n = blocks.size(); i < n; i++) {
            if (blocks.get(i).contains(address)) {
                return true;
            }
        }
        return false;
    }

    /** The prefix length: 0..32 for IPv4, 0..128 for IPv6. */
    public int prefixLength() {
        return prefixLength;
    }

    /** Whether this is an IPv6 block. */
    public boolean isIpv6() {
        return network.length == 16;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Cidr cidr && cidr.prefixLength == prefixLength && Arrays.equals(cidr.network, network);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(network) * 31 + prefixLength;
    }

    /** The configuration form, e.g. {@code 10.0.0.0/8} or {@code 2001:db8:0:0:0:0:0:0/32}. */
    @Override
    public String toString() {
        return format(network) + "/" + prefixLength;
    }

    /** IPv4 dotted quad or IPv6 (with {@code ::}, an embedded IPv4 tail and, if allowed, a zone). */
    private static byte[] parseLiteral(String text, boolean allowZone) {
        if (text.isEmpty()) {
            return null;
        }
        if (text.indexOf(':') < 0) {
            return parseIpv4(text, 0, text.length());
        }
        String address = text;
        int percent = address.indexOf('%');
        if (percent >= 0) {
            if (!allowZone || percent == address.length() - 1) {
                return null;
            }
            address = address.substring(0, percent);
        }
        byte[] bytes = parseIpv6(address);
        if (bytes == null) {
            return null;
        }
        // ::ffff:a.b.c.d is an IPv4 peer on a dual-stack socket.
        for (int i = 0; i < 10; i++) {
            if (bytes[i] != 0) {
                return bytes;
            }
        }
        if (bytes[10] == (byte) 0xff && bytes[11] == (byte) 0xff) {
            return Arrays.copyOfRange(bytes, 12, 16);
        }
        return bytes;
    }

    private static byte[] parseIpv4(String text, int from, int to) {
        byte[] bytes = new byte[4];
        int octet = 0;
        int start = from;
        for (int i = from; i <= to; i++) {
            if (i == to || text.charAt(i) == '.') {
                int length = i - start;
                if (octet == 4 || length == 0 || length > 3 || (length > 1 && text.charAt(start) == '0')) {
                    return null;
                }
                int value = 0;
                for (int j = start; j < i; j++) {
                    char c = text.charAt(j);
                    if (c < '0' || c > '9') {
                        return null;
                    }
                    value = value * 10 + (c - '0');
                }
                if (value > 255) {
                    return null;
                }
                bytes[octet++] = (byte) value;
                start = i + 1;
            }
        }
        return octet == 4 ? bytes : null;
    }

    private static byte[] parseIpv6(String text) {
        int doubleColon = text.indexOf("::");
        if (doubleColon >= 0 && text.indexOf("::", doubleColon + 1) >= 0) {
            return null;
        }
        int[] head = new int[8];
        int[] tail = new int[8];
        int headCount;
        int tailCount = 0;
        if (doubleColon < 0) {
            headCount = groups(text, 0, text.length(), head, true);
            if (headCount != 8) {
                return null;
            }
        } else {
            headCount = doubleColon == 0 ? 0 : groups(text, 0, doubleColon, head, false);
            int tailStart = doubleColon + 2;
            tailCount = tailStart == text.length() ? 0 : groups(text, tailStart, text.length(), tail, true);
            if (headCount < 0 || tailCount < 0 || headCount + tailCount > 7) {
                return null;
            }
        }
        byte[] bytes = new byte[16];
        for (int i = 0; i < headCount; i++) {
            bytes[2 * i] = (byte) (head[i] >>> 8);
            bytes[2 * i + 1] = (byte) head[i];
        }
        for (int i = 0; i < tailCount; i++) {
            int group = 8 - tailCount + i;
            bytes[2 * group] = (byte) (tail[i] >>> 8);
            bytes[2 * group + 1] = (byte) tail[i];
        }
        return bytes;
    }

    /**
     * Parses colon-separated hex groups into {@code into}; an IPv4 tail counts as two groups when
     * {@code ipv4Tail}. Returns the number of groups, or -1 if malformed.
     */
    private static int groups(String text, int from, int to, int[] into, boolean ipv4Tail) {
        int count = 0;
        int start = from;
        for (int i = from; i <= to; i++) {
            if (i == to || text.charAt(i) == ':') {
                int length = i - start;
                if (i == to && ipv4Tail && text.lastIndexOf('.', to - 1) >= start) {
                    byte[] v4 = parseIpv4(text, start, to);
                    if (v4 == null || count > 6) {
                        return -1;
                    }
                    into[count++] = ((v4[0] & 0xff) << 8) | (v4[1] & 0xff);
                    into[count++] = ((v4[2] & 0xff) << 8) | (v4[3] & 0xff);
                    return count;
                }
                if (length == 0 || length > 4 || count == 8) {
                    return -1;
                }
                int value = 0;
                for (int j = start; j < i; j++) {
                    int digit = Character.digit(text.charAt(j), 16);
                    if (digit < 0) {
                        return -1;
                    }
                    value = value * 16 + digit;
                }
                into[count++] = value;
                start = i + 1;
            }
        }
        return count;
    }
}
