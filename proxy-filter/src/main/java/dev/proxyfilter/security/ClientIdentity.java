package dev.proxyfilter.security;

import dev.proxyfilter.config.Cidr;
import dev.proxyfilter.config.SecurityConfig.ClientIpHeader;
import java.util.List;

/**
 * Who the client is: the peer, unless the peer is a trusted proxy, in which case the chain it passes on
 * ({@code X-Forwarded-For}, or RFC 7239 {@code Forwarded}, whichever {@code security.client-ip-header}
 * names) is walked from the right, skipping trusted addresses; the first untrusted one is the client.
 *
 * <p>Only trusted hops append to the right of the chain, so everything right of the first untrusted
 * address was written by a proxy we trust, and everything left of it may be the client's own invention.
 * A client therefore can never choose its IP from an untrusted address: the header is not read at all.
 * An entry that is not an IP address ({@code unknown}, {@code _hidden}, garbage) ends the walk at the
 * nearest trusted hop, which is then taken as the client. When the whole chain is trusted, the left-most
 * address is the client.
 */
public final class ClientIdentity {
    /** Slots of the memo of untrusted peers: a power of two. */
    private static final int MEMO_SLOTS = 64;

    private final List<Cidr> trusted;
    private final ClientIpHeader header;
    /**
     * The last resolution of an untrusted peer per slot (by the peer's hash), which depends on nothing but the
     * peer: a client's requests, on its keep-alive connections, then skip parsing, formatting and the trust
     * check. Lossy (a slot holds one peer) and racy by design: each element is an immutable record, so a
     * reader sees a whole one or an older one, and an old one for the same peer is still right.
     */
    private final Memo[] memos = new Memo[MEMO_SLOTS];

    private record Memo(String peer, Resolved resolved) {}

    /** Trusting {@code trusted}, which maintain {@code header}. */
    public ClientIdentity(List<Cidr> trusted, ClientIpHeader header) {
        this.trusted = List.copyOf(trusted);
        this.header = header;
    }

    /**
     * A resolved client: its canonical IP text and bytes (shared between requests: read them, never write),
     * and whether the peer was a trusted proxy.
     */
    public record Resolved(String ip, byte[] address, boolean peerTrusted) {}

    /** Resolves the client of {@code request}. */
    public Resolved resolve(ClientRequest request) {
        String peer = request.peerAddress();
        int slot = peer == null ? 0 : peer.hashCode() & (MEMO_SLOTS - 1);
        Memo memo = memos[slot];
        if (memo != null && memo.peer().equals(peer)) {
            return memo.resolved();
        }
        byte[] peerAddress = Cidr.parseAddress(peer);
        if (peerAddress == null) {
            return new Resolved(peer, null, false); // not an IP (a Unix socket, say): nothing to trust
        }
        String peerIp = Cidr.format(peerAddress);
        if (!Cidr.anyContains(trusted, peerAddress)) {
            Resolved resolved = new Resolved(peerIp, peerAddress, false);
            memos[slot] = new Memo(peer, resolved);
            return resolved;
        }
        String clientIp = peerIp;
        byte[] client = peerAddress;
        List<String> values = request.headerValues(header.headerName());
        for (int line = values.size() - 1; line >= 0; line--) {
            List<String> entries = Forwarded.splitElements(values.get(line));
            for (int i = entries.size() - 1; i >= 0; i--) {
                String node = header == ClientIpHeader.FORWARDED
                        ? Forwarded.forParameter(entries.get(i))
                        : entries.get(i).strip();
                byte[] address = node == null ? null : Cidr.parseAddress(node);
                if (address == null) {
                    return new Resolved(clientIp, client, true);
                }
                client = address;
                clientIp = Cidr.format(address);
                if (!Cidr.anyContains(trusted, address)) {
                    return new Resolved(clientIp, client, true);
                }
            }
        }
        return new Resolved(clientIp, client, true);
    }

    /** Whether any proxy is trusted at all. */
    public boolean trustsAny() {
        return !trusted.isEmpty();
    }

    /** The pieces of RFC 7239 this class needs: elements and their {@code for} parameter. */
    static final class Forwarded {
        private Forwarded() {}

        /** Splits a header value at commas outside quoted strings. */
        static List<String> splitElements(String value) {
            List<String> elements = new java.util.ArrayList<>(4);
            boolean quoted = false;
            int start = 0;
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                if (quoted && c == '\\') {
                    i++;
                } else if (c == '"') {
                    quoted = !quoted;
                } else if (c == ',' && !quoted) {
                    elements.add(value.substring(start, i));
                    start = i + 1;
                }
            }
            elements.add(value.substring(start));
            return elements;
        }

        /** The {@code for} value of one element, unquoted, or {@code null} when it has none. */
        static String forParameter(String element) {
            int start = 0;
            while (start < element.length()) {
                int end = nextSemicolon(element, start);
                String pair = element.substring(start, end).strip();
                int equals = pair.indexOf('=');
                if (equals > 0 && pair.substring(0, equals).strip().equalsIgnoreCase("for")) {
                    String value = pair.substring(equals + 1).strip();
                    if (value.length() >= 2 && value.charAt(0) == '"' && value.charAt(value.length() - 1) == '"') {
                        value = value.substring(1, value.length() - 1)
                                .replace("\\\"", "\"")
                                .replace("\\\\", "\\");
                    }
                    return value;
                }
                start = end + 1;
            }
            return null;
        }

        private static int nextSemicolon(String element, int from) {
            boolean quoted = false;
            for (int i = from; i < element.length(); i++) {
                char c = element.charAt(i);
                if (quoted && c == '\\') {
                    i++;
                } else if (c == '"') {
                    quoted = !quoted;
                } else if (c == ';' && !quoted) {
                    return i;
                }
            }
            return element.length();
        }
    }
}
