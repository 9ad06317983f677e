package dev.proxyfilter.security;

import java.util.ArrayList;
import java.util.List;

/** A client request for unit tests: a peer and header lines. */
final class TestRequest implements ClientRequest {
    private final String peer;
    private final String scheme;
    private final List<String[]> headers = new ArrayList<>();

    private TestRequest(String peer, String scheme) {
        this.peer = peer;
        this.scheme = scheme;
    }

    static TestRequest from(String peer) {
        return new TestRequest(peer, "http");
    }

    TestRequest header(String name, String value) {
        headers.add(new String[] {name, value});
        return this;
    }

    @Override
    public String peerAddress() {
        return peer;
    }

    @Override
    public String scheme() {
        return scheme;
    }

    @Override
    public String header(String name) {
        for (String[] header : headers) {
            if (header[0].equalsIgnoreCase(name)) {
                return header[1];
            }
        }
        return null;
    }

    @Override
    public List<String> headerValues(String name) {
        List<String> values = new ArrayList<>();
        for (String[] header : headers) {
            if (header[0].equalsIgnoreCase(name)) {
                values.add(header[1]);
            }
        }
        return values;
    }
}
