package dev.proxyfilter.security;

import at.favre.lib.crypto.bcrypt.BCrypt;
import at.favre.lib.crypto.bcrypt.LongPasswordStrategies;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.proxyfilter.config.AuthConfig;
import dev.proxyfilter.config.ConfigException;
import dev.proxyfilter.http.Header;
import dev.proxyfilter.time.ProxyClock;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;

/**
 * HTTP Basic (RFC 7617) against a users file of {@code user:bcrypt-hash} lines, as {@code htpasswd -B}
 * writes them ({@code $2y$}; {@code $2a$} and {@code $2b$} are read too). Blank lines and lines starting
 * with {@code #} are skipped.
 *
 * <p>bcrypt is slow on purpose (tens of milliseconds at cost 10), too slow to run on every request of a
 * busy route. A credential that verified is therefore remembered for {@value #VERIFIED_MINUTES} minutes,
 * as the SHA-256 of a per-instance random salt, the user and the password (never the password itself),
 * in a table of at most {@value #VERIFIED_MAX} entries. A failed check is not remembered, and an unknown
 * user costs a bcrypt check all the same, so that timing does not tell which users exist.
 */
public final class BasicAuthenticator implements Authenticator {
    static final int VERIFIED_MAX = 10_000;
    static final int VERIFIED_MINUTES = 5;
    private static final Pattern BCRYPT_HASH =
            Pattern.compile("\\$2[aby]\\$(0[4-9]|[12][0-9]|3[01])\\$[./A-Za-z0-9]{53}");
    private static final BCrypt.Verifyer VERIFYER =
            BCrypt.verifyer(BCrypt.Version.VERSION_2A, LongPasswordStrategies.truncate(BCrypt.Version.VERSION_2A));

    private final Map<String, String> users;
    private final String anyHash;
    private final Header challenge;
    private final byte[] salt = new byte[16];
    private final Cache<String, Boolean> verified;

    /**
     * @param users user name to bcrypt hash
     * @param clock whose {@link ProxyClock#nanoTime() ticker} expires the verified-credentials table
     */
    public BasicAuthenticator(String realm, Map<String, String> users, ProxyClock clock) {
        this.users = Map.copyOf(users);
        this.anyHash = users.isEmpty() ? null : users.values().iterator().next();
        this.challenge = new Header("WWW-Authenticate", "Basic realm=\"" + realm + "\", charset=\"UTF-8\"");
        new SecureRandom().nextBytes(salt);
        this.verified = Caffeine.newBuilder()
                .maximumSize(VERIFIED_MAX)
                .expireAfterWrite(Duration.ofMinutes(VERIFIED_MINUTES))
                .ticker(clock::nanoTime)
                .executor(Runnable::run)
                .build();
    }

    /**
     * As {@link #BasicAuthenticator(String, Map, ProxyClock)} on a bare nanosecond clock.
     *
     * @deprecated pass the engine's {@link ProxyClock}, so that one clock moves everything
     */
    @Deprecated
    public BasicAuthenticator(String realm, Map<String, String> users, LongSupplier nanoTime) {
        this(realm, users, ProxyClock.of(InstantSource.system(), nanoTime));
    }

    /** Reads the users file of {@code config}; {@code key} names the setting in errors. */
    public static BasicAuthenticator load(AuthConfig config, String key, ProxyClock clock) {
        return new BasicAuthenticator(config.realm(), readUsers(config.usersFile(), key, config.fileSource()), clock);
    }

    /**
     * As {@link #load(AuthConfig, String, ProxyClock)} on a bare nanosecond clock.
     *
     * @deprecated pass the engine's {@link ProxyClock}, so that one clock moves everything
     */
    @Deprecated
    public static BasicAuthenticator load(AuthConfig config, String key, LongSupplier nanoTime) {
        return load(config, key, ProxyClock.of(InstantSource.system(), nanoTime));
    }

    /** Parses a users file. */
    static Map<String, String> readUsers(Path file, String key, String source) {
        String expected = "a users file of user:bcrypt-hash lines with $2a$, $2b$ or $2y$ hashes";
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (CharacterCodingException e) {
            throw new ConfigException(key, file.toString(), expected + "; not UTF-8", source);
        } catch (IOException e) {
            throw new ConfigException(key, file.toString(), expected + "; cannot read it: " + e.getMessage(), source);
        }
        Map<String, String> users = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            String problem = null;
            if (colon <= 0) {
                problem = "no user:hash";
            } else if (!BCRYPT_HASH.matcher(line.substring(colon + 1)).matches()) {
                problem = "not a bcrypt hash";
            } else if (users.putIfAbsent(line.substring(0, colon), line.substring(colon + 1)) != null) {
                problem = "user listed twice";
            }
            if (problem != null) {
                // The line itself is not shown: it holds a password hash.
                throw new ConfigException(
                        key, file.toString(), expected + "; line " + (i + 1) + ": " + problem, source);
            }
        }
        return users;
    }

    @Override
    public Result authenticate(String authorization) {
        String encoded = Authenticator.credentials(authorization, "Basic");
        if (encoded == null) {
            return Result.refused(challenge);
        }
        String decoded;
        try {
            decoded = StandardCharsets.UTF_8
                    .newDecoder()
                    .decode(java.nio.ByteBuffer.wrap(Base64.getDecoder().decode(encoded)))
                    .toString();
        } catch (IllegalArgumentException | CharacterCodingException e) {
            return Result.refused(challenge);
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
            return Result.refused(challenge);
        }
        String user = decoded.substring(0, colon);
        String password = decoded.substring(colon + 1);
        return verify(user, password) ? Result.accepted(List.of()) : Result.refused(challenge);
    }

    private boolean verify(String user, String password) {
        String hash = users.get(user);
        if (hash == null) {
            if (anyHash != null) {
                check(password, anyHash); // same cost as for a known user
            }
            return false;
        }
        String remembered = digest(user, password, hash);
        if (verified.getIfPresent(remembered) != null) {
            return true;
        }
        if (!check(password, hash)) {
            return false;
        }
        verified.put(remembered, Boolean.TRUE);
        return true;
    }

    private static boolean check(String password, String hash) {
        try {
            return VERIFYER.verify(password.getBytes(StandardCharsets.UTF_8), hash.getBytes(StandardCharsets.US_ASCII))
                    .verified;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private String digest(String user, String password, String hash) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(salt);
            for (String part : new String[] {user, password, hash}) {
                byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
                sha.update((byte) (bytes.length >>> 24));
                sha.update((byte) (bytes.length >>> 16));
                sha.update((byte) (bytes.length >>> 8));
                sha.update((byte) bytes.length);
                sha.update(bytes);
            }
            return Base64.getEncoder().encodeToString(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java platform", e);
        }
    }

    /** Credentials remembered as verified, after pending maintenance. */
    long remembered() {
        verified.cleanUp();
        return verified.estimatedSize();
    }
}
