package dev.proxyfilter.balance;

import java.util.Map;

/** A {@link RequestView} with fixed values, for tests. */
record TestRequest(String clientIp, Map<String, String> headers, Map<String, String> cookies, String path)
        implements RequestView {

    static TestRequest fromIp(String ip) {
        return new TestRequest(ip, Map.of(), Map.of(), "/");
    }

    static TestRequest withHeader(String ip, String name, String value) {
        return new TestRequest(ip, Map.of(name, value), Map.of(), "/");
    }

    static TestRequest withCookie(String ip, String name, String value) {
        return new TestRequest(ip, Map.of(), Map.of(name, value), "/");
    }

    static TestRequest withPath(String path) {
        return new TestRequest("10.0.0.1", Map.of(), Map.of(), path);
    }

    @Override
    public String header(String name) {
        return headers.entrySet().stream()
                .filter(e -> e.getKey().equalsIgnoreCase(name))
                .map(Map.Entry::getValue)
                .findFirst()
                .orElse(null);
    }

    @Override
    public String cookie(String name) {
        return cookies.get(name);
    }
}
