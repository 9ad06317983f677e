package dev.proxyfilter.security;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyType;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import dev.proxyfilter.config.AuthConfig;
import dev.proxyfilter.config.ConfigException;
import dev.proxyfilter.http.Header;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Bearer JWT (RFC 6750, RFC 7519) validated with nimbus-jose-jwt against the public keys of a JWKS file:
 * <ul>
 *   <li>the signature, with an asymmetric algorithm only (RS256/384/512, PS256/384/512, ES256/384/512) and
 *       a key of the file that fits it. {@code alg: none} (an unsecured JWT) is refused, and so is the
 *       {@code HS256} trick of a token "signed" with the public key as an HMAC secret: HMAC is not among
 *       the accepted algorithms, and symmetric keys in the file are ignored;</li>
 *   <li>{@code exp}, which is required, and {@code nbf} when present, with {@value #CLOCK_SKEW_SECONDS} s of
 *       clock skew either way, against the injected clock;</li>
 *   <li>{@code iss} equal to the configured issuer, and {@code aud} containing the configured audience,
 *       when those are configured.</li>
 * </ul>
 * Chosen claims are passed to the backend as headers ({@code claims-to-headers}). A value that is not
 * a string, number or boolean (or a list of those, joined with ", ") is not passed. Characters outside
 * visible ASCII, and {@code %}, are percent-encoded as UTF-8, so a claim can never smuggle a line break
 * or a second header into the upstream request.
 */
public final class JwtAuthenticator implements Authenticator {
    static final int CLOCK_SKEW_SECONDS = 30;
    /** Tokens longer than this are refused before parsing; real ones are a few hundred bytes to a few KB. */
    static final int MAX_TOKEN_CHARS = 16 * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(JwtAuthenticator.class);
    private static final Set<JWSAlgorithm> ALGORITHMS = Set.of(
            JWSAlgorithm.RS256,
            JWSAlgorithm.RS384,
            JWSAlgorithm.RS512,
            JWSAlgorithm.PS256,
            JWSAlgorithm.PS384,
            JWSAlgorithm.PS512,
            JWSAlgorithm.ES256,
            JWSAlgorithm.ES384,
            JWSAlgorithm.ES512);

    private final DefaultJWTProcessor<SecurityContext> processor;
    private final Map<String, String> claimsToHeaders;
    private final Header challenge;
    private final Header invalid;

    /**
     * @param keys  the public keys that may sign a token
     * @param clock the wall clock {@code exp} and {@code nbf} are checked against: the engine's
     *              {@link dev.proxyfilter.time.ProxyClock}, or any {@link java.time.Clock}
     */
    public JwtAuthenticator(
            String realm,
            JWKSet keys,
            String issuer,
            String audience,
            Map<String, String> claimsToHeaders,
            InstantSource clock) {
        this.claimsToHeaders = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(claimsToHeaders));
        this.challenge = new Header("WWW-Authenticate", "Bearer realm=\"" + realm + "\"");
        this.invalid = new Header(
                "WWW-Authenticate",
                "Bearer realm=\"" + realm
                        + "\", error=\"invalid_token\", error_description=\"The access token is invalid or expired\"");
        processor = new DefaultJWTProcessor<>();
        processor.setJWSKeySelector(new JWSVerificationKeySelector<>(ALGORITHMS, new ImmutableJWKSet<>(keys)));
        JWTClaimsSet exact = issuer == null
                ? new JWTClaimsSet.Builder().build()
                : new JWTClaimsSet.Builder().issuer(issuer).build();
        DefaultJWTClaimsVerifier<SecurityContext> verifier =
                new DefaultJWTClaimsVerifier<>(audience == null ? null : Set.of(audience), exact, Set.of("exp"), null) {
                    // nimbus reads new Date() unless told otherwise.
                    @Override
                    protected Date currentTime() {
                        return Date.from(clock.instant());
                    }
                };
        verifier.setMaxClockSkew(CLOCK_SKEW_SECONDS);
        processor.setJWTClaimsSetVerifier(verifier);
    }

    /**
     * Reads the JWKS file of {@code config}; {@code key} names the setting in errors, {@code clock} is as in
     * the constructor.
     */
    public static JwtAuthenticator load(AuthConfig config, String key, InstantSource clock) {
        return new JwtAuthenticator(
                config.realm(),
                readKeys(config.jwksFile(), key, config.fileSource()),
                config.issuer(),
                config.audience(),
                config.claimsToHeaders(),
                clock);
    }

    /** The public RSA and EC keys of a JWKS file; private parts and symmetric keys are dropped. */
    static JWKSet readKeys(Path file, String key, String source) {
        String expected = "a JWKS file (JSON Web Key Set) with at least one RSA or EC public key";
        JWKSet set;
        try {
            set = JWKSet.parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new ConfigException(key, file.toString(), expected + "; cannot read it: " + e.getMessage(), source);
        } catch (ParseException e) {
            throw new ConfigException(key, file.toString(), expected + "; " + e.getMessage(), source);
        }
        List<JWK> keys = new ArrayList<>();
        for (JWK jwk : set.toPublicJWKSet().getKeys()) {
            if (jwk.getKeyType() == KeyType.RSA || jwk.getKeyType() == KeyType.EC) {
                keys.add(jwk);
            }
        }
        if (keys.isEmpty()) {
            throw new ConfigException(key, file.toString(), expected + "; it has none", source);
        }
        return new JWKSet(keys);
    }

    @Override
    public Result authenticate(String authorization) {
        String token = Authenticator.credentials(authorization, "Bearer");
        if (token == null) {
            return Result.refused(challenge); // no token: no error code (RFC 6750 section 3.1)
        }
        if (token.length() > MAX_TOKEN_CHARS) {
            return Result.refused(invalid);
        }
        JWTClaimsSet claims;
        try {
            claims = processor.process(token, null);
        } catch (ParseException | BadJOSEException | JOSEException e) {
            LOG.debug("bearer token refused: {}", e.getMessage());
            return Result.refused(invalid);
        }
        if (claimsToHeaders.isEmpty()) {
            return Result.accepted(List.of());
        }
        List<Header> headers = new ArrayList<>(claimsToHeaders.size());
        for (Map.Entry<String, String> entry : claimsToHeaders.entrySet()) {
            String value = headerValue(claims.getClaim(entry.getKey()));
            if (value != null) {
                headers.add(new Header(entry.getValue(), value));
            }
        }
        return Result.accepted(headers);
    }

    /** A claim as a header value, or null when it has no plain form. */
    static String headerValue(Object claim) {
        if (claim instanceof String || claim instanceof Number || claim instanceof Boolean) {
            return encode(claim.toString());
        }
        if (claim instanceof Date date) {
            return Long.toString(date.getTime() / 1000);
        }
        if (claim instanceof List<?> list && !list.isEmpty()) {
            StringBuilder joined = new StringBuilder();
            for (Object item : list) {
                if (!(item instanceof String || item instanceof Number || item instanceof Boolean)) {
                    return null;
                }
                if (joined.length() > 0) {
                    joined.append(", ");
                }
                joined.append(item);
            }
            return encode(joined.toString());
        }
        return null;
    }

    private static String encode(String value) {
        StringBuilder out = null;
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; i++) {
            int b = bytes[i] & 0xff;
            boolean plain = b >= 0x20 && b < 0x7f && b != '%';
            if (!plain && out == null) {
                out = new StringBuilder(bytes.length + 16);
                out.append(new String(bytes, 0, i, StandardCharsets.US_ASCII));
            }
            if (out != null) {
                if (plain) {
                    out.append((char) b);
                } else {
                    out.append('%')
                            .append(Character.toUpperCase(Character.forDigit(b >> 4, 16)))
                            .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
                }
            }
        }
        return out == null ? value : out.toString();
    }
}
