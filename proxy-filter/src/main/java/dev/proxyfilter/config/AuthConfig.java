package dev.proxyfilter.config;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Authentication of one route, {@code route.NAME.auth=basic|jwt} and its {@code route.NAME.auth.*} keys.
 * The files are read when the engine starts, so that their content is checked before the first request too.
 *
 * @param kind              {@link Kind#BASIC} or {@link Kind#JWT}
 * @param realm             the realm in {@code WWW-Authenticate}
 * @param usersFile         Basic: lines {@code user:bcrypt-hash}; {@code null} for JWT
 * @param jwksFile          JWT: a JSON Web Key Set of the RSA or EC public keys that may sign tokens;
 *                          {@code null} for Basic
 * @param issuer            JWT: the {@code iss} a token must have, or {@code null} for any
 * @param audience          JWT: a value the token's {@code aud} must contain, or {@code null} for any
 * @param claimsToHeaders   JWT: claim name to the request header that carries its value to the backend,
 *                          in configuration order; an incoming header of that name is always removed
 * @param keepAuthorization whether the client's {@code Authorization} header reaches the backend
 * @param fileSource        where the file key was set, for errors found in the file's content
 */
public record AuthConfig(
        Kind kind,
        String realm,
        Path usersFile,
        Path jwksFile,
        String issuer,
        String audience,
        Map<String, String> claimsToHeaders,
        boolean keepAuthorization,
        String fileSource) {
    /** Default {@code route.NAME.auth.realm}. */
    public static final String DEFAULT_REALM = "restricted";

    /** How a route authenticates its clients. */
    public enum Kind {
        /** HTTP Basic (RFC 7617) against a file of bcrypt hashes. */
        BASIC("basic"),
        /** A Bearer JWT (RFC 6750, RFC 7519) signed by a key of a JWKS file. */
        JWT("jwt");

        private final String configName;

        Kind(String configName) {
            this.configName = configName;
        }

        /** The value of {@code route.NAME.auth}. */
        public String configName() {
            return configName;
        }
    }

    public AuthConfig {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(realm, "realm");
        claimsToHeaders = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(claimsToHeaders));
        if (kind == Kind.BASIC
                && (usersFile == null
                        || jwksFile != null
                        || issuer != null
                        || audience != null
                        || !claimsToHeaders.isEmpty())) {
            throw new IllegalArgumentException("basic auth takes a users file and no JWT settings");
        }
        if (kind == Kind.JWT && (jwksFile == null || usersFile != null)) {
            throw new IllegalArgumentException("jwt auth takes a JWKS file and no users file");
        }
    }

    /** Basic authentication against a users file. */
    public static AuthConfig basic(String realm, Path usersFile, boolean keepAuthorization) {
        return new AuthConfig(Kind.BASIC, realm, usersFile, null, null, null, Map.of(), keepAuthorization, null);
    }

    /** Bearer JWT authentication against a JWKS file. */
    public static AuthConfig jwt(
            String realm,
            Path jwksFile,
            String issuer,
            String audience,
            Map<String, String> claimsToHeaders,
            boolean keepAuthorization) {
        return new AuthConfig(
                Kind.JWT, realm, null, jwksFile, issuer, audience, claimsToHeaders, keepAuthorization, null);
    }
}
