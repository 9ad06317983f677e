package dev.proxyfilter.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code security.*} keys and the security keys of routes, through the one loader. */
class SecurityConfigLoaderTest {
    private static final String SOURCE = "test.properties";

    private static ProxyConfig load(Map<String, String> extra) {
        Map<String, String> entries = new HashMap<>(Map.of(
                "pool.web.backend.a.url", "http://127.0.0.1:9001",
                "route.main.path", "/",
                "route.main.pool", "web",
                "route.api.path", "/api",
                "route.api.pool", "web"));
        entries.putAll(extra);
        return ConfigLoader.load(List.of(new ConfigSource(SOURCE, entries)));
    }

    @Test
    void nothingSetIsNone() {
        assertThat(load(Map.of()).security()).isEqualTo(SecurityConfig.NONE);
    }

    @Test
    void globalKeysRoundTrip() {
        SecurityConfig security = load(Map.ofEntries(
                        Map.entry("security.trusted-proxies", "10.0.0.0/8, fd00::/8 ,192.0.2.1"),
                        Map.entry("security.client-ip-header", "Forwarded"),
                        Map.entry("security.allow", "0.0.0.0/0,::/0"),
                        Map.entry("security.deny", "198.51.100.0/24"),
                        Map.entry("security.rate-limit", "100/s"),
                        Map.entry("security.rate-limit-burst", "200"),
                        Map.entry("security.rate-limit-key", "header:X-Api-Key"),
                        Map.entry("security.rate-limit-max-keys", "5000"),
                        Map.entry("security.max-concurrent-per-client", "8"),
                        Map.entry("security.strip-response-headers", "X-AspNet-Version, X-Runtime"),
                        Map.entry("security.response-headers.X-Frame-Options", "DENY"),
                        Map.entry("security.response-headers.Content-Security-Policy", "default-src 'self'"),
                        Map.entry("security.hsts", "max-age=31536000; includeSubDomains")))
                .security();
        assertThat(security.trustedProxies())
                .containsExactly(Cidr.parse("10.0.0.0/8"), Cidr.parse("fd00::/8"), Cidr.parse("192.0.2.1/32"));
        assertThat(security.clientIpHeader()).isEqualTo(SecurityConfig.ClientIpHeader.FORWARDED);
        assertThat(security.allow()).hasSize(2);
        assertThat(security.deny()).containsExactly(Cidr.parse("198.51.100.0/24"));
        assertThat(security.rateLimit())
                .isEqualTo(new RateLimitConfig(100, Duration.ofSeconds(1), 200, HashKey.header("X-Api-Key")));
        assertThat(security.rateLimitMaxKeys()).isEqualTo(5000);
        assertThat(security.maxConcurrentPerClient()).isEqualTo(8);
        assertThat(security.stripResponseHeaders()).containsExactly("x-aspnet-version", "x-runtime");
        assertThat(security.responseHeaders())
                .containsOnly(
                        Map.entry("X-Frame-Options", "DENY"),
                        Map.entry("Content-Security-Policy", "default-src 'self'"));
        assertThat(security.hsts()).isEqualTo("max-age=31536000; includeSubDomains");
        assertThat(security.routes()).isEmpty();
    }

    @Test
    void ratesAndTheirDefaults() {
        assertThat(load(Map.of("security.rate-limit", "5/10s")).security().rateLimit())
                .isEqualTo(new RateLimitConfig(5, Duration.ofSeconds(10), 5, HashKey.clientIp()));
        assertThat(load(Map.of("security.rate-limit", "60/m"))
                        .security()
                        .rateLimit()
                        .period())
                .isEqualTo(Duration.ofMinutes(1));
        assertThat(load(Map.of("security.rate-limit", "1/h"))
                        .security()
                        .rateLimit()
                        .fullRefill())
                .isEqualTo(Duration.ofHours(1));
        assertThat(load(Map.of("security.rate-limit", "3/500ms"))
                        .security()
                        .rateLimit()
                        .period())
                .isEqualTo(Duration.ofMillis(500));
    }

    @Test
    void routeKeysRoundTripAndInheritTheGlobalKey() {
        SecurityConfig security = load(Map.of(
                        "security.rate-limit", "10/s",
                        "security.rate-limit-key", "header:X-Api-Key",
                        "route.api.allow", "192.0.2.0/24",
                        "route.api.deny", "192.0.2.66",
                        "route.api.rate-limit", "2/s",
                        "route.api.rate-limit-burst", "4",
                        "route.main.rate-limit", "none"))
                .security();
        assertThat(security.route("api"))
                .isEqualTo(new RouteSecurityConfig(
                        List.of(Cidr.parse("192.0.2.0/24")),
                        List.of(Cidr.parse("192.0.2.66")),
                        new RateLimitConfig(2, Duration.ofSeconds(1), 4, HashKey.header("X-Api-Key")),
                        false,
                        null));
        assertThat(security.route("main").exemptFromGlobalLimit()).isTrue();
        assertThat(security.route("main").rateLimit()).isNull();
    }

    @Test
    void basicAndJwtAuth(@TempDir Path dir) throws Exception {
        Path users = Files.writeString(dir.resolve("users"), "");
        Path jwks = Files.writeString(dir.resolve("jwks.json"), "{\"keys\":[]}");
        SecurityConfig security = load(Map.of(
                        "route.main.auth", "basic",
                        "route.main.auth.users-file", users.toString(),
                        "route.main.auth.realm", "shop admin",
                        "route.api.auth", "JWT",
                        "route.api.auth.jwks-file", jwks.toString(),
                        "route.api.auth.issuer", "https://login.example/",
                        "route.api.auth.audience", "shop",
                        "route.api.auth.claims-to-headers", "sub:X-User, https://example.com/tenant:X-Tenant",
                        "route.api.auth.keep-authorization", "true"))
                .security();
        assertThat(security.route("main").auth())
                .isEqualTo(new AuthConfig(
                        AuthConfig.Kind.BASIC, "shop admin", users, null, null, null, Map.of(), false, SOURCE));
        AuthConfig jwt = security.route("api").auth();
        assertThat(jwt.kind()).isEqualTo(AuthConfig.Kind.JWT);
        assertThat(jwt.realm()).isEqualTo(AuthConfig.DEFAULT_REALM);
        assertThat(jwt.jwksFile()).isEqualTo(jwks);
        assertThat(jwt.issuer()).isEqualTo("https://login.example/");
        assertThat(jwt.audience()).isEqualTo("shop");
        assertThat(jwt.claimsToHeaders())
                .containsExactly(Map.entry("sub", "X-User"), Map.entry("https://example.com/tenant", "X-Tenant"));
        assertThat(jwt.keepAuthorization()).isTrue();
        assertThat(load(Map.of("route.main.auth", "none")).security().route("main"))
                .isEqualTo(RouteSecurityConfig.NONE);
    }

    @Test
    void authKeysOfTheOtherKindAreErrors(@TempDir Path dir) throws Exception {
        Path users = Files.writeString(dir.resolve("users"), "");
        Path jwks = Files.writeString(dir.resolve("jwks.json"), "{}");
        assertThatThrownBy(() -> load(Map.of(
                        "route.main.auth",
                        "basic",
                        "route.main.auth.users-file",
                        users.toString(),
                        "route.main.auth.jwks-file",
                        jwks.toString())))
                .isInstanceOf(ConfigException.class)
                .hasMessage("route.main.auth.jwks-file: " + jwks + " (expected: no auth.jwks-file, which only "
                        + "route.main.auth=jwt uses; route.main.auth is basic) [" + SOURCE + "]");
        assertThatThrownBy(() -> load(Map.of(
                        "route.main.auth",
                        "jwt",
                        "route.main.auth.jwks-file",
                        jwks.toString(),
                        "route.main.auth.users-file",
                        users.toString())))
                .hasMessage("route.main.auth.users-file: " + users + " (expected: no auth.users-file, which only "
                        + "route.main.auth=basic uses; route.main.auth is jwt) [" + SOURCE + "]");
        assertThatThrownBy(() -> load(Map.of("route.main.auth", "none", "route.main.auth.keep-authorization", "true")))
                .hasMessage(
                        "route.main.auth.keep-authorization: true (expected: no auth.keep-authorization, which only "
                                + "route.main.auth=basic or jwt uses; route.main.auth is none) [" + SOURCE + "]");
        assertThatThrownBy(() -> load(Map.of("route.main.auth", "basic", "route.main.auth.users-file", dir.toString())))
                .hasMessage(
                        "route.main.auth.users-file: " + dir + " (expected: path of a readable file) [" + SOURCE + "]");
    }

    @Test
    void securityKeysOfAnUndefinedRouteNameTheMissingPath() {
        assertThatThrownBy(() -> load(Map.of("route.ghost.allow", "10.0.0.0/8")))
                .hasMessage("route.ghost.path: missing (expected: path starting with /) [" + SOURCE + "]");
    }
}
