package dev.proxyfilter.security;

import static org.assertj.core.api.Assertions.assertThat;

import at.favre.lib.crypto.bcrypt.BCrypt;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import dev.proxyfilter.config.AuthConfig;
import dev.proxyfilter.config.Cidr;
import dev.proxyfilter.config.HashKey;
import dev.proxyfilter.config.RateLimitConfig;
import dev.proxyfilter.config.RouteSecurityConfig;
import dev.proxyfilter.config.SecurityConfig;
import dev.proxyfilter.http.Header;
import dev.proxyfilter.testing.FakeClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The steps of one route's guard together, built by {@link Security} from a configuration. */
class RouteGuardTest {
    private final FakeClock clock = new FakeClock();

    private static SecurityConfig config(
            List<Cidr> trusted,
            List<Cidr> allow,
            List<Cidr> deny,
            RateLimitConfig limit,
            int maxConcurrent,
            Map<String, RouteSecurityConfig> routes) {
        return new SecurityConfig(
                trusted,
                SecurityConfig.ClientIpHeader.X_FORWARDED_FOR,
                allow,
                deny,
                limit,
                1000,
                maxConcurrent,
                List.of(),
                Map.of(),
                null,
                routes);
    }

    private RouteGuard guard(SecurityConfig config, String route) {
        return Security.start(config, List.of("a", "b"), clock).guard(route);
    }

    @Test
    void nothingConfiguredMeansNoGuardAtAll() {
        RouteGuard guard = guard(SecurityConfig.NONE, "a");
        assertThat(guard).isSameAs(RouteGuard.NONE);
        assertThat(guard.admit(null)).as("reads nothing").isSameAs(Admission.NONE);
        assertThat(Admission.NONE.peerTrusted()).isFalse();
        assertThat(Admission.NONE.removesRequestHeaders()).isFalse();
    }

    @Test
    void aSpoofedChainFromAnUntrustedPeerChangesNothing() {
        SecurityConfig config = config(
                List.of(Cidr.parse("10.0.0.0/8")), List.of(), List.of(Cidr.parse("127.0.0.0/8")), null, 0, Map.of());
        Admission spoofed =
                guard(config, "a").admit(TestRequest.from("127.0.0.1").header("X-Forwarded-For", "1.2.3.4"));
        assertThat(spoofed.status()).isEqualTo(403);
        assertThat(spoofed.message()).isEqualTo("Forbidden");

        Admission viaProxy =
                guard(config, "a").admit(TestRequest.from("10.1.1.1").header("X-Forwarded-For", "1.2.3.4"));
        assertThat(viaProxy.admitted()).isTrue();
        assertThat(viaProxy.clientIp()).isEqualTo("1.2.3.4");
        assertThat(viaProxy.peerTrusted()).isTrue();
    }

    @Test
    void tooManyRequestsCarriesRetryAfterAndRateLimitFields() {
        SecurityConfig config = config(
                List.of(), List.of(), List.of(), RateLimitConfig.perClientIp(2, Duration.ofSeconds(1)), 0, Map.of());
        RouteGuard guard = guard(config, "a");
        assertThat(guard.admit(TestRequest.from("192.0.2.1")).admitted()).isTrue();
        assertThat(guard.admit(TestRequest.from("192.0.2.1")).admitted()).isTrue();
        Admission refused = guard.admit(TestRequest.from("192.0.2.1"));
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.responseHeaders())
                .containsExactly(
                        new Header("Retry-After", "1"),
                        new Header("RateLimit-Policy", "\"global\";q=2;w=1"),
                        new Header("RateLimit", "\"global\";r=0;t=1"));
        assertThat(guard.admit(TestRequest.from("192.0.2.2")).admitted())
                .as("per client")
                .isTrue();
        clock.advance(Duration.ofMillis(500));
        assertThat(guard.admit(TestRequest.from("192.0.2.1")).admitted()).isTrue();
    }

    @Test
    void routeLimitsAddToTheGlobalOneAndMayBeExempt() {
        RateLimitConfig global = RateLimitConfig.perClientIp(3, Duration.ofMinutes(1));
        RateLimitConfig routeLimit = new RateLimitConfig(1, Duration.ofMinutes(1), 1, HashKey.clientIp());
        Security security = Security.start(
                config(
                        List.of(),
                        List.of(),
                        List.of(),
                        global,
                        0,
                        Map.of(
                                "a", new RouteSecurityConfig(List.of(), List.of(), routeLimit, false, null),
                                "b", new RouteSecurityConfig(List.of(), List.of(), null, true, null))),
                List.of("a", "b", "c"),
                clock);
        TestRequest client = TestRequest.from("192.0.2.1");
        assertThat(security.guard("a").admit(client).admitted()).isTrue();
        Admission refused = security.guard("a").admit(client);
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.responseHeaders()).contains(new Header("RateLimit-Policy", "\"route-a\";q=1;w=60"));
        assertThat(security.guard("c").admit(client).admitted())
                .as("the route's refusal gave the global token back")
                .isTrue();
        assertThat(security.guard("c").admit(client).admitted()).isTrue();
        assertThat(security.guard("c").admit(client).status())
                .as("3 global tokens spent")
                .isEqualTo(429);
        for (int i = 0; i < 10; i++) {
            assertThat(security.guard("b").admit(client).admitted())
                    .as("exempt")
                    .isTrue();
        }
    }

    @Test
    void concurrencySlotsAreHeldUntilReleasedAndGivenBackOnAuthFailure(@TempDir Path dir) throws Exception {
        Path users = dir.resolve("users");
        Files.writeString(users, "ann:" + BasicAuthenticatorTest.bcrypt(BCrypt.Version.VERSION_2Y, "pw") + "\n");
        AuthConfig basic = AuthConfig.basic("r", users, false);
        RouteGuard guard = guard(
                config(
                        List.of(),
                        List.of(),
                        List.of(),
                        null,
                        1,
                        Map.of("a", new RouteSecurityConfig(List.of(), List.of(), null, false, basic))),
                "a");
        TestRequest good =
                TestRequest.from("192.0.2.1").header("Authorization", BasicAuthenticatorTest.basic("ann", "pw"));
        TestRequest bad =
                TestRequest.from("192.0.2.1").header("Authorization", BasicAuthenticatorTest.basic("ann", "no"));

        assertThat(guard.admit(bad).status()).isEqualTo(401);
        Admission first = guard.admit(good);
        assertThat(first.admitted()).as("the 401 gave its slot back").isTrue();
        assertThat(first.holdsPermit()).isTrue();
        Admission second = guard.admit(good);
        assertThat(second.status()).isEqualTo(429);
        assertThat(second.message()).isEqualTo("Too Many Requests: too many requests in flight from this client");
        assertThat(second.responseHeaders()).containsExactly(new Header("Retry-After", "1"));
        first.release();
        first.release();
        Admission third = guard.admit(good);
        assertThat(third.admitted()).isTrue();
        assertThat(third.removesRequestHeader("authorization")).isTrue();
        assertThat(guard.admit(TestRequest.from("192.0.2.2")).status())
                .as("no credentials")
                .isEqualTo(401);
    }

    /** One clock for the whole layer: moving it refills the route's bucket and ages the token alike. */
    @Test
    void oneClockRunsTheRateLimitsAndTheTokenExpiry(@TempDir Path dir) throws Exception {
        RSAKey key = new RSAKeyGenerator(2048).keyID("k").generate();
        Path jwks = dir.resolve("jwks.json");
        Files.writeString(jwks, new JWKSet(key.toPublicJWK()).toString());
        AuthConfig jwt = AuthConfig.jwt("api", jwks, null, null, Map.of(), false);
        RateLimitConfig limit = new RateLimitConfig(1, Duration.ofMinutes(1), 1, HashKey.clientIp());
        RouteGuard guard = guard(
                config(
                        List.of(),
                        List.of(),
                        List.of(),
                        null,
                        0,
                        Map.of("a", new RouteSecurityConfig(List.of(), List.of(), limit, false, jwt))),
                "a");
        String token = JwtAuthenticatorTest.rs256(
                key,
                new JWTClaimsSet.Builder()
                        .subject("alice")
                        .expirationTime(Date.from(clock.instant().plus(Duration.ofMinutes(2))))
                        .build());
        TestRequest client = TestRequest.from("192.0.2.1").header("Authorization", "Bearer " + token);

        assertThat(guard.admit(client).admitted()).isTrue();
        assertThat(guard.admit(client).status()).isEqualTo(429);

        clock.advance(Duration.ofMinutes(1));
        assertThat(guard.admit(client).admitted()).as("a token a minute").isTrue();

        clock.advance(Duration.ofMinutes(2));
        Admission expired = guard.admit(client);
        assertThat(expired.status())
                .as("the bucket is full again, but the token expired past the skew")
                .isEqualTo(401);
    }

    @Test
    void accessIsCheckedBeforeRateLimits() {
        RouteGuard guard = guard(
                config(
                        List.of(),
                        List.of(),
                        List.of(Cidr.parse("192.0.2.66")),
                        RateLimitConfig.perClientIp(1, Duration.ofHours(1)),
                        0,
                        Map.of()),
                "a");
        for (int i = 0; i < 3; i++) {
            assertThat(guard.admit(TestRequest.from("192.0.2.66")).status()).isEqualTo(403);
        }
        assertThat(guard.admit(TestRequest.from("192.0.2.1")).admitted()).isTrue();
        assertThat(guard.admit(TestRequest.from("192.0.2.1")).status()).isEqualTo(429);
    }

    @Test
    void responseHygieneStripsIdentityAndAddsHstsForHttpsOnly() {
        ResponseHygiene hygiene = new ResponseHygiene(new SecurityConfig(
                List.of(),
                SecurityConfig.ClientIpHeader.X_FORWARDED_FOR,
                List.of(),
                List.of(),
                null,
                10,
                0,
                List.of("x-aspnet-version"),
                new java.util.LinkedHashMap<>(Map.of("X-Frame-Options", "DENY")),
                "max-age=600",
                Map.of()));
        assertThat(hygiene.strips("server")).isTrue();
        assertThat(hygiene.strips("x-powered-by")).isTrue();
        assertThat(hygiene.strips("x-aspnet-version")).isTrue();
        assertThat(hygiene.strips("x-kept")).isFalse();
        assertThat(hygiene.headers(false)).containsExactly(new Header("X-Frame-Options", "DENY"));
        assertThat(hygiene.headers(true))
                .containsExactly(
                        new Header("X-Frame-Options", "DENY"), new Header("Strict-Transport-Security", "max-age=600"));
        ResponseHygiene defaults = new ResponseHygiene(SecurityConfig.NONE);
        assertThat(defaults.stripsMore()).isFalse();
        assertThat(defaults.headers(true)).isEmpty();
    }
}
