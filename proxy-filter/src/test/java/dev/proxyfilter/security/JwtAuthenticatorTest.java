package dev.proxyfilter.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.OctetSequenceKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.proxyfilter.config.ConfigException;
import dev.proxyfilter.http.Header;
import dev.proxyfilter.testing.FakeClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JwtAuthenticatorTest {
    static RSAKey rsa;
    static RSAKey otherRsa;
    static ECKey ec;

    private final FakeClock clock = new FakeClock();

    @BeforeAll
    static void generateKeys() throws Exception {
        rsa = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
        otherRsa = new RSAKeyGenerator(2048).keyID("rsa-1").generate(); // same kid, different key
        ec = new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate();
    }

    private JwtAuthenticator authenticator(String issuer, String audience, Map<String, String> claims) {
        return new JwtAuthenticator(
                "api", new JWKSet(List.of(rsa.toPublicJWK(), ec.toPublicJWK())), issuer, audience, claims, clock);
    }

    private JWTClaimsSet.Builder claims() {
        Instant now = clock.instant();
        return new JWTClaimsSet.Builder()
                .subject("alice")
                .issuer("https://login.example/")
                .audience("shop")
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(300)));
    }

    static String rs256(RSAKey key, JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.RS256)
                        .keyID(key.getKeyID())
                        .type(JOSEObjectType.JWT)
                        .build(),
                claims);
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }

    private static String bearer(String token) {
        return "Bearer " + token;
    }

    @Test
    void acceptsAValidRs256AndEs256Token() throws Exception {
        JwtAuthenticator auth = authenticator("https://login.example/", "shop", Map.of());
        assertThat(auth.authenticate(bearer(rs256(rsa, claims().build()))).accepted())
                .isTrue();

        SignedJWT es = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("ec-1").build(), claims().build());
        es.sign(new ECDSASigner(ec));
        assertThat(auth.authenticate(bearer(es.serialize())).accepted()).isTrue();
        assertThat(auth.authenticate("bearer " + rs256(rsa, claims().build())).accepted())
                .isTrue();
    }

    @Test
    void expiredAndNotYetValidTokensAreRefusedBeyondTheSkew() throws Exception {
        JwtAuthenticator auth = authenticator(null, null, Map.of());
        Instant now = clock.instant();
        String expired = rs256(
                rsa, claims().expirationTime(Date.from(now.minusSeconds(31))).build());
        String justExpired = rs256(
                rsa, claims().expirationTime(Date.from(now.minusSeconds(10))).build());
        String future = rs256(
                rsa, claims().notBeforeTime(Date.from(now.plusSeconds(120))).build());
        String almost = rs256(
                rsa, claims().notBeforeTime(Date.from(now.plusSeconds(10))).build());
        assertRefusedAsInvalid(auth.authenticate(bearer(expired)));
        assertThat(auth.authenticate(bearer(justExpired)).accepted())
                .as("within 30 s of skew")
                .isTrue();
        assertRefusedAsInvalid(auth.authenticate(bearer(future)));
        assertThat(auth.authenticate(bearer(almost)).accepted()).isTrue();

        String valid = rs256(rsa, claims().build());
        clock.advance(Duration.ofMinutes(6));
        assertRefusedAsInvalid(auth.authenticate(bearer(valid)));
        assertRefusedAsInvalid(auth.authenticate(
                bearer(rs256(rsa, new JWTClaimsSet.Builder().subject("x").build()))));
    }

    @Test
    void aWrongSignatureIsRefused() throws Exception {
        JwtAuthenticator auth = authenticator(null, null, Map.of());
        assertRefusedAsInvalid(auth.authenticate(bearer(rs256(otherRsa, claims().build()))));

        String good = rs256(rsa, claims().build());
        String[] parts = good.split("\\.");
        String tamperedClaims =
                Base64URL.encode(claims().subject("admin").build().toString()).toString();
        assertRefusedAsInvalid(auth.authenticate(bearer(parts[0] + "." + tamperedClaims + "." + parts[2])));
        assertRefusedAsInvalid(auth.authenticate(bearer(parts[0] + "." + parts[1] + ".")));
        assertRefusedAsInvalid(auth.authenticate(bearer("not.a.jwt")));
        assertRefusedAsInvalid(auth.authenticate(bearer("x".repeat(JwtAuthenticator.MAX_TOKEN_CHARS + 1))));
    }

    @Test
    void algNoneIsRefused() throws Exception {
        JwtAuthenticator auth = authenticator(null, null, Map.of());
        String none = new PlainJWT(claims().build()).serialize();
        assertThat(none).endsWith(".");
        assertRefusedAsInvalid(auth.authenticate(bearer(none)));

        // The same with "alg":"none" spelled by hand and the signature of a real token kept.
        String header = Base64URL.encode("{\"alg\":\"none\",\"kid\":\"rsa-1\"}").toString();
        String[] real = rs256(rsa, claims().build()).split("\\.");
        assertRefusedAsInvalid(auth.authenticate(bearer(header + "." + real[1] + "." + real[2])));
        assertRefusedAsInvalid(auth.authenticate(bearer(header + "." + real[1] + ".")));
    }

    @Test
    void hs256SignedWithThePublicKeyIsRefused() throws Exception {
        JwtAuthenticator auth = authenticator(null, null, Map.of());
        byte[] publicKeyAsSecret = rsa.toPublicJWK().toJSONString().getBytes(StandardCharsets.UTF_8);
        SignedJWT hs = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("rsa-1").build(), claims().build());
        hs.sign(new MACSigner(publicKeyAsSecret));
        assertRefusedAsInvalid(auth.authenticate(bearer(hs.serialize())));

        byte[] der = rsa.toRSAPublicKey().getEncoded();
        SignedJWT hsDer = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).build(), claims().build());
        hsDer.sign(new MACSigner(der));
        assertRefusedAsInvalid(auth.authenticate(bearer(hsDer.serialize())));
    }

    @Test
    void issuerAndAudienceAreCheckedWhenConfigured() throws Exception {
        JwtAuthenticator auth = authenticator("https://login.example/", "shop", Map.of());
        assertRefusedAsInvalid(auth.authenticate(
                bearer(rs256(rsa, claims().issuer("https://evil.example/").build()))));
        assertRefusedAsInvalid(
                auth.authenticate(bearer(rs256(rsa, claims().issuer(null).build()))));
        assertRefusedAsInvalid(
                auth.authenticate(bearer(rs256(rsa, claims().audience("other").build()))));
        assertRefusedAsInvalid(auth.authenticate(
                bearer(rs256(rsa, claims().audience((String) null).build()))));
        assertThat(auth.authenticate(bearer(rs256(
                                rsa, claims().audience(List.of("other", "shop")).build())))
                        .accepted())
                .isTrue();
        assertThat(authenticator(null, null, Map.of())
                        .authenticate(bearer(rs256(
                                rsa, claims().issuer("anyone").audience("any").build())))
                        .accepted())
                .isTrue();
    }

    @Test
    void noTokenGivesAChallengeWithoutErrorCode() {
        JwtAuthenticator auth = authenticator(null, null, Map.of());
        for (String header : new String[] {null, "", "Bearer", "Bearer   ", "Basic YTpi"}) {
            Authenticator.Result result = auth.authenticate(header);
            assertThat(result.accepted()).isFalse();
            assertThat(result.challenge()).isEqualTo(new Header("WWW-Authenticate", "Bearer realm=\"api\""));
        }
    }

    @Test
    void claimsBecomeHeaders() throws Exception {
        Map<String, String> mapping = new LinkedHashMap<>();
        mapping.put("sub", "X-User");
        mapping.put("email", "X-Email");
        mapping.put("roles", "X-Roles");
        mapping.put("name", "X-Name");
        mapping.put("missing", "X-Missing");
        mapping.put("https://example.com/tenant", "X-Tenant");
        JwtAuthenticator auth = authenticator(null, null, mapping);
        String token = rs256(
                rsa,
                claims().claim("email", "alice@example.com")
                        .claim("roles", List.of("admin", "ops"))
                        .claim("name", "Zoë\r\nX-Injected: 1 100%")
                        .claim("https://example.com/tenant", 42)
                        .build());
        Authenticator.Result result = auth.authenticate(bearer(token));
        assertThat(result.accepted()).isTrue();
        assertThat(result.upstreamHeaders())
                .containsExactly(
                        new Header("X-User", "alice"),
                        new Header("X-Email", "alice@example.com"),
                        new Header("X-Roles", "admin, ops"),
                        new Header("X-Name", "Zo%C3%AB%0D%0AX-Injected: 1 100%25"),
                        new Header("X-Tenant", "42"));
    }

    @Test
    void readsOnlyPublicRsaAndEcKeysFromTheJwksFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("jwks.json");
        OctetSequenceKey secret =
                new OctetSequenceKeyGenerator(256).keyID("hmac").generate();
        Files.writeString(file, new JWKSet(List.of(rsa, ec, secret)).toString(false)); // private parts included
        JWKSet keys = JwtAuthenticator.readKeys(file, "route.a.auth.jwks-file", "test");
        assertThat(keys.getKeys()).extracting(k -> k.getKeyID()).containsExactly("rsa-1", "ec-1");
        assertThat(keys.getKeys()).noneMatch(k -> k.isPrivate());

        Files.writeString(file, new JWKSet(secret).toString(false));
        assertThatThrownBy(() -> JwtAuthenticator.readKeys(file, "route.a.auth.jwks-file", "proxy.properties"))
                .isInstanceOf(ConfigException.class)
                .hasMessage(
                        "route.a.auth.jwks-file: " + file + " (expected: a JWKS file (JSON Web Key Set) with at least "
                                + "one RSA or EC public key; it has none) [proxy.properties]");
        Files.writeString(file, "{\"keys\": 7}");
        assertThatThrownBy(() -> JwtAuthenticator.readKeys(file, "route.a.auth.jwks-file", "p"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("route.a.auth.jwks-file: " + file);
        Files.writeString(file, "not json");
        assertThatThrownBy(() -> JwtAuthenticator.readKeys(file, "route.a.auth.jwks-file", "p"))
                .isInstanceOf(ConfigException.class);
    }

    private static void assertRefusedAsInvalid(Authenticator.Result result) {
        assertThat(result.accepted()).isFalse();
        assertThat(result.challenge().value())
                .isEqualTo("Bearer realm=\"api\", error=\"invalid_token\", "
                        + "error_description=\"The access token is invalid or expired\"");
    }
}
