package dev.proxyfilter.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import at.favre.lib.crypto.bcrypt.BCrypt;
import dev.proxyfilter.config.ConfigException;
import dev.proxyfilter.http.Header;
import dev.proxyfilter.testing.FakeClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BasicAuthenticatorTest {
    private final FakeClock clock = new FakeClock();

    /** Cost 4, the minimum, keeps the test fast; the verifier reads the cost from the hash. */
    static String bcrypt(BCrypt.Version version, String password) {
        return BCrypt.with(version).hashToString(4, password.toCharArray());
    }

    static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void verifiesEveryBcryptVersionHtpasswdAndLibrariesWrite() {
        BasicAuthenticator auth = new BasicAuthenticator(
                "shop",
                Map.of(
                        "ann", bcrypt(BCrypt.Version.VERSION_2A, "s3cret"),
                        "bob", bcrypt(BCrypt.Version.VERSION_2B, "hunter2"),
                        "cyd", bcrypt(BCrypt.Version.VERSION_2Y, "pässwörd:with:colons")),
                clock);
        assertThat(auth.authenticate(basic("ann", "s3cret")).accepted()).isTrue();
        assertThat(auth.authenticate(basic("bob", "hunter2")).accepted()).isTrue();
        assertThat(auth.authenticate(basic("cyd", "pässwörd:with:colons")).accepted())
                .isTrue();
        assertThat(auth.authenticate("basic " + basic("ann", "s3cret").substring(6))
                        .accepted())
                .as("the scheme is case-insensitive")
                .isTrue();
    }

    @Test
    void refusesWithTheChallenge() {
        BasicAuthenticator auth =
                new BasicAuthenticator("shop", Map.of("ann", bcrypt(BCrypt.Version.VERSION_2Y, "s3cret")), clock);
        for (String header : new String[] {
            null,
            "",
            "Basic",
            "Basic ",
            "Bearer abc",
            "Basic !!!notbase64",
            "Basic " + Base64.getEncoder().encodeToString("no-colon".getBytes(StandardCharsets.UTF_8)),
            "Basic " + Base64.getEncoder().encodeToString(new byte[] {(byte) 0xff, ':', 'x'}),
            basic("ann", "wrong"),
            basic("ann", "s3cret "),
            basic("ANN", "s3cret"),
            basic("eve", "s3cret")
        }) {
            Authenticator.Result result = auth.authenticate(header);
            assertThat(result.accepted()).as(String.valueOf(header)).isFalse();
            assertThat(result.challenge())
                    .isEqualTo(new Header("WWW-Authenticate", "Basic realm=\"shop\", charset=\"UTF-8\""));
        }
    }

    @Test
    void remembersAVerifiedCredentialForAWhileOnly() {
        BasicAuthenticator auth =
                new BasicAuthenticator("r", Map.of("ann", bcrypt(BCrypt.Version.VERSION_2A, "pw")), clock);
        assertThat(auth.authenticate(basic("ann", "pw")).accepted()).isTrue();
        assertThat(auth.remembered()).isEqualTo(1);
        assertThat(auth.authenticate(basic("ann", "nope")).accepted()).isFalse();
        assertThat(auth.remembered()).as("failures are not remembered").isEqualTo(1);
        clock.advance(Duration.ofMinutes(BasicAuthenticator.VERIFIED_MINUTES).plusSeconds(1));
        assertThat(auth.remembered()).isZero();
        assertThat(auth.authenticate(basic("ann", "pw")).accepted()).isTrue();
    }

    @Test
    void readsAUsersFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("users");
        Files.writeString(
                file,
                "# htpasswd -B\n\nann:" + bcrypt(BCrypt.Version.VERSION_2Y, "pw") + "\n  bob:"
                        + bcrypt(BCrypt.Version.VERSION_2A, "pw2") + "  \n");
        assertThat(BasicAuthenticator.readUsers(file, "route.a.auth.users-file", "test"))
                .containsOnlyKeys("ann", "bob");
    }

    @Test
    void aBadUsersFileNamesTheKeyTheFileAndTheLineButNotTheHash(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("users");
        String hash = bcrypt(BCrypt.Version.VERSION_2Y, "pw");
        Files.writeString(file, "ann:" + hash + "\nbob:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n");
        assertThatThrownBy(() -> BasicAuthenticator.readUsers(file, "route.a.auth.users-file", "proxy.properties"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("route.a.auth.users-file: " + file + " (expected: a users file of user:bcrypt-hash lines "
                        + "with $2a$, $2b$ or $2y$ hashes; line 2: not a bcrypt hash) [proxy.properties]");

        Files.writeString(file, "ann:" + hash + "\nann:" + hash + "\n");
        assertThatThrownBy(() -> BasicAuthenticator.readUsers(file, "k", "s"))
                .hasMessageContaining("line 2: user listed twice")
                .hasMessageNotContaining(hash);
        Files.writeString(file, ":" + hash + "\n");
        assertThatThrownBy(() -> BasicAuthenticator.readUsers(file, "k", "s"))
                .hasMessageContaining("line 1: no user:hash");
        Files.write(file, new byte[] {'a', ':', (byte) 0xff});
        assertThatThrownBy(() -> BasicAuthenticator.readUsers(file, "k", "s")).hasMessageContaining("not UTF-8");
    }
}
