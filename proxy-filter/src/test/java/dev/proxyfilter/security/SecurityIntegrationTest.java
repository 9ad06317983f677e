package dev.proxyfilter.security;

import static org.assertj.core.api.Assertions.assertThat;

import at.favre.lib.crypto.bcrypt.BCrypt;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.proxyfilter.config.ConfigLoader;
import dev.proxyfilter.config.ConfigSource;
import dev.proxyfilter.config.ProxyConfig;
import dev.proxyfilter.testing.Backends;
import dev.proxyfilter.testing.ProxyAdapter;
import dev.proxyfilter.testing.RawHttp;
import dev.proxyfilter.testing.TestBackend;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The security layer through the real proxy: real backends on port 0, a real client on a real socket,
 * the configuration through the real loader. Run over the filter in Jetty and in Tomcat (the hygiene of
 * error pages over every adapter). The client's peer address is always 127.0.0.1.
 */
@Timeout(60)
class SecurityIntegrationTest {
    private static RSAKey signingKey;
    private static RSAKey strangerKey;

    private final List<AutoCloseable> resources = new ArrayList<>();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path dir;

    @BeforeAll
    static void generateKeys() throws Exception {
        signingKey = new RSAKeyGenerator(2048).keyID("k1").generate();
        strangerKey = new RSAKeyGenerator(2048).keyID("k1").generate();
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private <T extends AutoCloseable> T track(T resource) {
        resources.add(resource);
        return resource;
    }

    private TestBackend backend(String name, HttpServlet servlet) {
        return track(TestBackend.start(name, servlet));
    }

    /** A proxy whose pool {@code web} is {@code backend}; {@code keys} alternate key, value. */
    private ProxyAdapter.Running proxy(ProxyAdapter adapter, TestBackend backend, String... keys) {
        Map<String, String> entries = new HashMap<>();
        entries.put("pool.web.backend.a.url", backend.url().toString());
        entries.put("proxy.connect-timeout", "2s");
        for (int i = 0; i < keys.length; i += 2) {
            entries.put(keys[i], keys[i + 1]);
        }
        ProxyConfig config = ConfigLoader.load(List.of(new ConfigSource("test", entries)));
        return track(adapter.start(config));
    }

    private HttpResponse<String> get(URI uri, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20));
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void assertPlainError(HttpResponse<String> response, int status) {
        assertThat(response.statusCode()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type"))
                .hasValueSatisfying(type -> assertThat(type).startsWith("text/plain"));
        assertThat(response.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
    }

    // ---- client identity and access rules ----

    @ParameterizedTest
    @EnumSource(
            value = ProxyAdapter.class,
            names = {"FILTER_IN_JETTY", "FILTER_IN_TOMCAT"})
    void aSpoofedXForwardedForFromAnUntrustedPeerNeitherBypassesADenyNorSatisfiesAnAllow(ProxyAdapter adapter)
            throws Exception {
        Backends.Echo echo = new Backends.Echo("a");
        TestBackend a = backend("a", echo);
        ProxyAdapter.Running proxy = proxy(
                adapter,
                a,
                "route.deny.path",
                "/deny",
                "route.deny.pool",
                "web",
                "route.deny.deny",
                "127.0.0.0/8",
                "route.allow.path",
                "/allow",
                "route.allow.pool",
                "web",
                "route.allow.allow",
                "203.0.113.0/24, 2001:db8::/32",
                "route.open.path",
                "/open",
                "route.open.pool",
                "web");

        assertPlainError(get(proxy.uri().resolve("/deny/x")), 403);
        assertPlainError(get(proxy.uri().resolve("/deny/x"), "X-Forwarded-For", "1.2.3.4"), 403);
        assertPlainError(get(proxy.uri().resolve("/deny/x"), "Forwarded", "for=1.2.3.4"), 403);
        assertPlainError(get(proxy.uri().resolve("/allow/x"), "X-Forwarded-For", "203.0.113.5"), 403);
        assertPlainError(get(proxy.uri().resolve("/allow/x"), "X-Forwarded-For", "2001:db8::1, 203.0.113.5"), 403);
        assertThat(echo.requests.get())
                .as("no refused request reached the backend")
                .isZero();
        org.awaitility.Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(
                        () -> assertThat(proxy.engine().metrics().route("deny").responses("4xx"))
                                .as("refusals are counted")
                                .isEqualTo(3));

        HttpResponse<String> open =
                get(proxy.uri().resolve("/open/x"), "X-Forwarded-For", "1.2.3.4", "Forwarded", "for=1.2.3.4");
        assertThat(open.statusCode()).isEqualTo(200);
        assertThat(open.headers().firstValue("X-Echo-X-Forwarded-For"))
                .as("the spoofed chain is dropped")
                .hasValue("127.0.0.1");
        assertThat(open.headers().firstValue("X-Echo-Forwarded"))
                .hasValueSatisfying(forwarded ->
                        assertThat(forwarded).startsWith("for=127.0.0.1;").doesNotContain("1.2.3.4"));
    }

    /**
     * Path parameters cannot route around a guarded route: a servlet container backend maps
     * {@code /admin;x/secret} as {@code /admin/secret}, so the proxy routes (and guards) it as that too.
     */
    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void pathParametersDoNotRouteAroundADeny(ProxyAdapter adapter) throws Exception {
        Backends.Echo echo = new Backends.Echo("a");
        TestBackend a = backend("a", echo);
        ProxyAdapter.Running proxy = proxy(
                adapter,
                a,
                "route.admin.path",
                "/admin",
                "route.admin.pool",
                "web",
                "route.admin.deny",
                "127.0.0.0/8",
                "route.main.path",
                "/",
                "route.main.pool",
                "web");

        for (String path :
                List.of("/admin/secret", "/admin;x/secret", "/admin;jsessionid=1", "/admin;a=b;c=d/secret")) {
            assertPlainError(get(proxy.uri().resolve(path)), 403);
        }
        assertThat(echo.requests.get())
                .as("no refused request reached the backend")
                .isZero();
        assertThat(get(proxy.uri().resolve("/page;jsessionid=1")).statusCode())
                .as("parameters elsewhere pass")
                .isEqualTo(200);
        assertThat(get(proxy.uri().resolve("/administrator")).statusCode()).isEqualTo(200);
    }

    /** A prefix cut off a path with parameters leaves a path: the parameters of the cut segments go with them. */
    @ParameterizedTest
    @EnumSource(
            value = ProxyAdapter.class,
            names = {"HANDLER_IN_JETTY", "FAST_PATH", "FILTER_IN_TOMCAT"})
    void aStrippedPrefixTakesItsParametersAlong(ProxyAdapter adapter) throws Exception {
        TestBackend a = backend("a", new Backends.Echo("a"));
        ProxyAdapter.Running proxy =
                proxy(adapter, a, "route.api.path", "/api", "route.api.pool", "web", "route.api.strip-prefix", "true");

        assertThat(get(proxy.uri().resolve("/api/items;v=1")).headers().firstValue("X-Received-Path"))
                .hasValue("/items;v=1");
        assertThat(get(proxy.uri().resolve("/api;jsessionid=1/items")).headers().firstValue("X-Received-Path"))
                .hasValue("/items");
        // A segment of parameters only: the container refuses it (Jetty: an ambiguous empty segment), or it is routed
        // as "/api/items".
        HttpResponse<String> onlyParameters = get(proxy.uri().resolve("/;x/api;y/items"));
        if (onlyParameters.statusCode() != 400) {
            assertThat(onlyParameters.headers().firstValue("X-Received-Path"))
                    .as(onlyParameters.toString())
                    .hasValue("/items");
        }
        assertThat(get(proxy.uri().resolve("/api;x")).headers().firstValue("X-Received-Path"))
                .hasValue("/");
    }

    @ParameterizedTest
    @EnumSource(
            value = ProxyAdapter.class,
            names = {"FILTER_IN_JETTY", "FILTER_IN_TOMCAT"})
    void aTrustedPeerChainNamesTheRightMostUntrustedAddress(ProxyAdapter adapter) throws Exception {
        TestBackend a = backend("a", new Backends.Echo("a"));
        ProxyAdapter.Running proxy = proxy(
                adapter,
                a,
                "security.trusted-proxies",
                "127.0.0.1, 10.0.0.0/8",
                "route.main.path",
                "/",
                "route.main.pool",
                "web",
                "route.main.allow",
                "198.51.100.2");

        HttpResponse<String> allowed =
                get(proxy.uri().resolve("/x"), "X-Forwarded-For", "203.0.113.7, 198.51.100.2, 10.1.2.3");
        assertThat(allowed.statusCode()).isEqualTo(200);
        assertThat(allowed.headers().firstValue("X-Echo-X-Forwarded-For"))
                .as("a trusted chain is appended to")
                .hasValue("203.0.113.7, 198.51.100.2, 10.1.2.3, 127.0.0.1");
        assertPlainError(get(proxy.uri().resolve("/x"), "X-Forwarded-For", "198.51.100.2, 203.0.113.7"), 403);
        assertPlainError(get(proxy.uri().resolve("/x")), 403);
    }

    @ParameterizedTest
    @EnumSource(
            value = ProxyAdapter.class,
            names = {"FILTER_IN_JETTY", "FILTER_IN_TOMCAT"})
    void consistentHashingUsesTheResolvedClientIp(ProxyAdapter adapter) throws Exception {
        TestBackend a = backend("a", new Backends.Echo("a"));
        TestBackend b = backend("b", new Backends.Echo("b"));
        Map<String, String> entries = new HashMap<>(Map.of(
                "pool.web.strategy",
                "consistent-hash",
                "pool.web.hash-key",
                "client-ip",
                "pool.web.backend.a.url",
                a.url().toString(),
                "pool.web.backend.b.url",
                b.url().toString(),
                "route.main.path",
                "/",
                "route.main.pool",
                "web"));
        entries.put("security.trusted-proxies", "127.0.0.1");
        ProxyAdapter.Running trusting =
                track(adapter.start(ConfigLoader.load(List.of(new ConfigSource("test", entries)))));
        entries.remove("security.trusted-proxies");
        ProxyAdapter.Running untrusting =
                track(adapter.start(ConfigLoader.load(List.of(new ConfigSource("test", entries)))));

        Set<String> behindTrusted = new HashSet<>();
        Set<String> behindUntrusted = new HashSet<>();
        for (int i = 1; i <= 24; i++) {
            String client = "198.51.100." + i;
            String first =
                    get(trusting.uri().resolve("/"), "X-Forwarded-For", client).body();
            assertThat(get(trusting.uri().resolve("/"), "X-Forwarded-For", client)
                            .body())
                    .as("stable per client")
                    .isEqualTo(first);
            behindTrusted.add(first);
            behindUntrusted.add(get(untrusting.uri().resolve("/"), "X-Forwarded-For", client)
                    .body());
        }
        assertThat(behindTrusted).as("24 clients spread over both backends").containsExactlyInAnyOrder("a", "b");
        assertThat(behindUntrusted)
                .as("one peer, one backend, whatever it claims")
                .hasSize(1);
    }

    // ---- rate limits and concurrency ----

    @ParameterizedTest
    @EnumSource(
            value = ProxyAdapter.class,
            names = {"FILTER_IN_JETTY", "FILTER_IN_TOMCAT"})
    void aBoundedBurstPassesAndTheRestGets429WithRetryAfter(ProxyAdapter adapter) throws Exception {
        Backends.Echo echo = new Backends.Echo("a");
        TestBackend a = backend("a", echo);
        ProxyAdapter.Running proxy = proxy(
                adapter,
                a,
                "route.api.path",
                "/api",
                "route.api.pool",
                "web",
                "route.api.rate-limit",
                "5/s",
                "route.api.rate-limit-burst",
                "5");

        int passed = 0;
        List<HttpResponse<String>> refused = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < 20; i++) {
            HttpResponse<String> response = get(proxy.uri().resolve("/api/x"));
            if (response.statusCode() == 200) {
                passed++;
            } else {
                refused.add(response);
            }
        }
        long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        // The burst, plus one token per 200 ms that the loop took.
        assertThat(passed).isBetween(5, 5 + (int) (elapsedMillis / 200));
        assertThat(echo.requests.get()).isEqualTo(passed);
        assertThat(refused).isNotEmpty().allSatisfy(response -> {
            assertPlainError(response, 429);
            assertThat(response.headers().firstValue("Retry-After")).hasValue("1");
            assertThat(response.headers().firstValue("RateLimit-Policy")).hasValue("\"route-api\";q=5;w=1");
            assertThat(response.headers().firstValue("RateLimit")).hasValue("\"route-api\";r=0;t=1");
        });
    }

    @ParameterizedTest
    @EnumSource(
            value = ProxyAdapter.class,
            names = {"FILTER_IN_JETTY", "HANDLER_IN_JETTY", "FAST_PATH"})
    void aReloadKeepsTheBucketsOfAnUnchangedRateLimitAndResetsAChangedOne(ProxyAdapter adapter) throws Exception {
        // A reload must not hand every client a fresh allowance: the route's limit is unchanged by the
        // first reload (another route is added), so its exhausted bucket stays empty; the second changes
        // the limit itself, which starts it over.
        Backends.Echo echo = new Backends.Echo("a");
        TestBackend a = backend("a", echo);
        Map<String, String> entries = new HashMap<>(Map.of(
                "pool.web.backend.a.url",
                a.url().toString(),
                "route.api.path",
                "/api",
                "route.api.pool",
                "web",
                "route.api.rate-limit",
                "1/h",
                "route.api.rate-limit-burst",
                "3"));
        ProxyAdapter.Running proxy =
                track(adapter.start(ConfigLoader.load(List.of(new ConfigSource("test", entries)))));
        for (int i = 0; i < 3; i++) {
            assertThat(get(proxy.uri().resolve("/api/" + i)).statusCode()).isEqualTo(200);
        }
        assertPlainError(get(proxy.uri().resolve("/api/3")), 429);

        entries.put("route.other.path", "/other");
        entries.put("route.other.pool", "web");
        assertThat(proxy.engine()
                        .reload(ConfigLoader.load(List.of(new ConfigSource("test", entries))))
                        .outcome())
                .isEqualTo(dev.proxyfilter.reload.ReloadResult.Outcome.APPLIED);
        assertPlainError(get(proxy.uri().resolve("/api/4")), 429);
        assertThat(get(proxy.uri().resolve("/other/x")).statusCode())
                .as("the new route works")
                .isEqualTo(200);

        entries.put("route.api.rate-limit-burst", "5");
        assertThat(proxy.engine()
                        .reload(ConfigLoader.load(List.of(new ConfigSource("test", entries))))
                        .outcome())
                .isEqualTo(dev.proxyfilter.reload.ReloadResult.Outcome.APPLIED);
        for (int i = 5; i < 10; i++) {
            assertThat(get(proxy.uri().resolve("/api/" + i)).statusCode())
                    .as("a fresh burst of 5")
                    .isEqualTo(200);
        }
        HttpResponse<String> spent = get(proxy.uri().resolve("/api/10"));
        assertPlainError(spent, 429);
        assertThat(spent.headers().firstValue("RateLimit-Policy")).hasValue("\"route-api\";q=5;w=18000");
        assertThat(echo.requests.get()).isEqualTo(3 + 1 + 5);
    }

    @Test
    void aReloadKeepsTheRequestsInFlightOfAnUnchangedConcurrencyCap() throws Exception {
        // 4 s: the reload and the second request must fit in the first request's life on a loaded machine.
        Backends.Delayed delayed = new Backends.Delayed("slow", 4000);
        TestBackend slow = backend("slow", delayed);
        Map<String, String> entries = new HashMap<>(Map.of(
                "pool.web.backend.a.url",
                slow.url().toString(),
                "security.max-concurrent-per-client",
                "1",
                "route.main.path",
                "/",
                "route.main.pool",
                "web"));
        ProxyAdapter.Running proxy = track(
                ProxyAdapter.FILTER_IN_JETTY.start(ConfigLoader.load(List.of(new ConfigSource("test", entries)))));
        CompletableFuture<HttpResponse<String>> first = http.sendAsync(
                HttpRequest.newBuilder(proxy.uri().resolve("/1"))
                        .timeout(Duration.ofSeconds(20))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> delayed.requests.get() == 1);

        entries.put("proxy.connect-timeout", "3s");
        assertThat(proxy.engine()
                        .reload(ConfigLoader.load(List.of(new ConfigSource("test", entries))))
                        .outcome())
                .isEqualTo(dev.proxyfilter.reload.ReloadResult.Outcome.APPLIED);

        assertPlainError(get(proxy.uri().resolve("/2")), 429);
        assertThat(first.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        org.awaitility.Awaitility.await()
                .atMost(Duration.ofSeconds(10))
                .until(() -> get(proxy.uri().resolve("/3")).statusCode() == 200);
        assertThat(delayed.requests.get()).isEqualTo(2);
    }

    @ParameterizedTest
    @EnumSource(
            value = ProxyAdapter.class,
            names = {"FILTER_IN_JETTY", "FILTER_IN_TOMCAT"})
    void aClientOverItsConcurrencyCapGets429UntilItsRequestEnds(ProxyAdapter adapter) throws Exception {
        Backends.Delayed delayed = new Backends.Delayed("slow", 1500);
        TestBackend slow = backend("slow", delayed);
        ProxyAdapter.Running proxy = proxy(
                adapter,
                slow,
                "security.max-concurrent-per-client",
                "1",
                "route.main.path",
                "/",
                "route.main.pool",
                "web");

        CompletableFuture<HttpResponse<String>> first = http.sendAsync(
                HttpRequest.newBuilder(proxy.uri().resolve("/1"))
                        .timeout(Duration.ofSeconds(20))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> delayed.requests.get() == 1);
        HttpResponse<String> second = get(proxy.uri().resolve("/2"));
        assertPlainError(second, 429);
        assertThat(second.headers().firstValue("Retry-After")).hasValue("1");
        assertThat(second.body()).isEqualTo("Too Many Requests: too many requests in flight from this client\n");
        assertThat(first.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        // The slot is given back when the exchange ends, which may be a moment after the client read the body.
        org.awaitility.Awaitility.await()
                .atMost(Duration.ofSeconds(10))
                .until(() -> get(proxy.uri().resolve("/3")).statusCode() == 200);
        assertThat(delayed.requests.get())
                .as("the refused request never reached the backend")
                .isEqualTo(2);
    }

    // ---- authentication ----

    private Path usersFile(String name, String user, String password) throws IOException {
        return Files.writeString(
                dir.resolve(name),
                "# test users\n" + user + ":"
                        + BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(4, password.toCharArray()) + "\n");
    }

    @Test
    void onlyRoutesThatMayBlockLeaveTheSelectorThread() throws Exception {
        // The core handler runs a request on the selector thread unless its route may block: bcrypt.
        TestBackend a = backend("a", new Backends.Echo("a"));
        ProxyAdapter.Running proxy = proxy(
                ProxyAdapter.HANDLER_IN_JETTY,
                a,
                "route.admin.path",
                "/admin",
                "route.admin.pool",
                "web",
                "route.admin.auth",
                "basic",
                "route.admin.auth.users-file",
                usersFile("blockers", "ann", "s3cret").toString(),
                "route.open.path",
                "/open",
                "route.open.pool",
                "web");

        assertThat(proxy.engine().serving().route("localhost", "/admin/x").mayBlock())
                .isTrue();
        assertThat(proxy.engine().serving().route("localhost", "/open/x").mayBlock())
                .isFalse();
        assertThat(get(proxy.uri().resolve("/admin/x"), "Authorization", BasicAuthenticatorTest.basic("ann", "s3cret"))
                        .statusCode())
                .isEqualTo(200);
        assertThat(get(proxy.uri().resolve("/open/x")).statusCode()).isEqualTo(200);
    }

    @ParameterizedTest
    @EnumSource(
            value = ProxyAdapter.class,
            names = {"FILTER_IN_JETTY", "FILTER_IN_TOMCAT", "HANDLER_IN_JETTY", "FAST_PATH"})
    void basicAuthAcceptsRejectsAndKeepsCredentialsToItsRoute(ProxyAdapter adapter) throws Exception {
        TestBackend a = backend("a", new Backends.Echo("a"));
        ProxyAdapter.Running proxy = proxy(
                adapter,
                a,
                "route.admin.path",
                "/admin",
                "route.admin.pool",
                "web",
                "route.admin.auth",
                "basic",
                "route.admin.auth.realm",
                "shop admin",
                "route.admin.auth.users-file",
                usersFile("admins", "ann", "s3cret").toString(),
                "route.ops.path",
                "/ops",
                "route.ops.pool",
                "web",
                "route.ops.auth",
                "basic",
                "route.ops.auth.users-file",
                usersFile("ops", "otto", "0pen").toString(),
                "route.ops.auth.keep-authorization",
                "true",
                "route.open.path",
                "/open",
                "route.open.pool",
                "web");
        String ann = BasicAuthenticatorTest.basic("ann", "s3cret");
        String otto = BasicAuthenticatorTest.basic("otto", "0pen");

        HttpResponse<String> none = get(proxy.uri().resolve("/admin/"));
        assertPlainError(none, 401);
        assertThat(none.headers().firstValue("WWW-Authenticate"))
                .hasValue("Basic realm=\"shop admin\", charset=\"UTF-8\"");
        assertPlainError(
                get(proxy.uri().resolve("/admin/"), "Authorization", BasicAuthenticatorTest.basic("ann", "guess")),
                401);
        assertPlainError(get(proxy.uri().resolve("/admin/"), "Authorization", otto), 401);
        assertPlainError(get(proxy.uri().resolve("/ops/"), "Authorization", ann), 401);

        HttpResponse<String> admin = get(proxy.uri().resolve("/admin/"), "Authorization", ann);
        assertThat(admin.statusCode()).isEqualTo(200);
        assertThat(admin.headers().firstValue("X-Echo-Authorization"))
                .as("stripped")
                .isEmpty();
        HttpResponse<String> ops = get(proxy.uri().resolve("/ops/"), "Authorization", otto);
        assertThat(ops.statusCode()).isEqualTo(200);
        assertThat(ops.headers().firstValue("X-Echo-Authorization")).as("kept").hasValue(otto);
        HttpResponse<String> open = get(proxy.uri().resolve("/open/"), "Authorization", "Bearer backend-own");
        assertThat(open.headers().firstValue("X-Echo-Authorization"))
                .as("a route without auth passes it on")
                .hasValue("Bearer backend-own");
    }

    private static String token(RSAKey key, Instant expires, Map<String, Object> extra) throws Exception {
        JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
                .subject("alice")
                .issuer("https://login.example/")
                .audience("shop")
                .expirationTime(Date.from(expires));
        extra.forEach(claims::claim);
        SignedJWT jwt = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims.build());
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }

    @ParameterizedTest
    @EnumSource(
            value = ProxyAdapter.class,
            names = {"FILTER_IN_JETTY", "FILTER_IN_TOMCAT"})
    void jwtAcceptsAValidTokenPassesClaimsAndRefusesTheRest(ProxyAdapter adapter) throws Exception {
        TestBackend a = backend("a", new Backends.Echo("a"));
        Path jwks = Files.writeString(dir.resolve("jwks.json"), new JWKSet(signingKey.toPublicJWK()).toString());
        ProxyAdapter.Running proxy = proxy(
                adapter,
                a,
                "route.api.path",
                "/api",
                "route.api.pool",
                "web",
                "route.api.auth",
                "jwt",
                "route.api.auth.jwks-file",
                jwks.toString(),
                "route.api.auth.realm",
                "api",
                "route.api.auth.issuer",
                "https://login.example/",
                "route.api.auth.audience",
                "shop",
                "route.api.auth.claims-to-headers",
                "sub:X-User,email:X-Email");
        Instant inFiveMinutes = Instant.now().plusSeconds(300);
        String valid = token(signingKey, inFiveMinutes, Map.of());

        HttpResponse<String> accepted = get(
                proxy.uri().resolve("/api/orders"),
                "Authorization",
                "Bearer " + valid,
                "X-User",
                "admin",
                "X-Email",
                "ceo@example.com");
        assertThat(accepted.statusCode()).isEqualTo(200);
        assertThat(accepted.headers().firstValue("X-Echo-X-User"))
                .as("from the token, not the client")
                .hasValue("alice");
        assertThat(accepted.headers().firstValue("X-Echo-X-Email"))
                .as("no email claim: the client's is removed")
                .isEmpty();
        assertThat(accepted.headers().firstValue("X-Echo-Authorization")).isEmpty();

        String invalid =
                "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"The access token is invalid or expired\"";
        String expired = token(signingKey, Instant.now().minusSeconds(120), Map.of());
        String wrongSignature = token(strangerKey, inFiveMinutes, Map.of());
        String none = new PlainJWT(new JWTClaimsSet.Builder()
                        .subject("alice")
                        .issuer("https://login.example/")
                        .audience("shop")
                        .expirationTime(Date.from(inFiveMinutes))
                        .build())
                .serialize();
        String[] real = valid.split("\\.");
        String noneWithSignature = Base64URL.encode("{\"alg\":\"none\"}") + "." + real[1] + "." + real[2];
        for (String token : List.of(expired, wrongSignature, none, noneWithSignature)) {
            HttpResponse<String> refused = get(proxy.uri().resolve("/api/orders"), "Authorization", "Bearer " + token);
            assertPlainError(refused, 401);
            assertThat(refused.headers().firstValue("WWW-Authenticate")).hasValue(invalid);
        }
        HttpResponse<String> missing = get(proxy.uri().resolve("/api/orders"), "X-User", "alice");
        assertPlainError(missing, 401);
        assertThat(missing.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"api\"");
    }

    @org.junit.jupiter.api.Test
    void aBadJwksFileStopsTheEngineNamingTheKeyTheFileAndTheSource() throws Exception {
        Path jwks = Files.writeString(dir.resolve("jwks.json"), "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}");
        ProxyConfig config = ConfigLoader.load(List.of(new ConfigSource(
                "proxy.properties",
                Map.of(
                        "pool.web.backend.a.url",
                        "http://127.0.0.1:9",
                        "route.api.path",
                        "/",
                        "route.api.pool",
                        "web",
                        "route.api.auth",
                        "jwt",
                        "route.api.auth.jwks-file",
                        jwks.toString()))));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> dev.proxyfilter.forward.ProxyEngine.start(config))
                .isInstanceOf(dev.proxyfilter.config.ConfigException.class)
                .hasMessage("route.api.auth.jwks-file: " + jwks + " (expected: a JWKS file (JSON Web Key Set) with at "
                        + "least one RSA or EC public key; it has none) [proxy.properties]");
    }

    // ---- response hygiene ----

    /** A backend that tells too much about itself, or fails with a given status. */
    static final class Chatty extends HttpServlet {
        private static final long serialVersionUID = 1L;

        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            resp.setHeader("Server", "SecretServer/1.0");
            resp.setHeader("X-Powered-By", "PHP/5.6");
            resp.setHeader("X-AspNet-Version", "4.0.30319");
            resp.setHeader("X-Frame-Options", "ALLOWALL");
            resp.setHeader("X-Kept", "yes");
            resp.setContentType("text/plain");
            resp.getWriter().print("ok");
        }
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void responsesLoseBackendIdentityAndGainSecurityHeaders(ProxyAdapter adapter) throws Exception {
        TestBackend a = backend("a", new Chatty());
        ProxyAdapter.Running proxy = proxy(
                adapter,
                a,
                "route.main.path",
                "/app",
                "route.main.pool",
                "web",
                "security.strip-response-headers",
                "X-AspNet-Version",
                "security.response-headers.X-Frame-Options",
                "DENY",
                "security.response-headers.Referrer-Policy",
                "no-referrer",
                "security.hsts",
                "max-age=31536000");

        RawHttp.Response response =
                RawHttp.exchange(proxy.uri(), "GET /app/page HTTP/1.1\r\nHost: shop\r\n" + "Connection: close\r\n\r\n");
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.all("Server")).noneMatch(value -> value.contains("SecretServer"));
        assertThat(response.header("X-Powered-By")).isNull();
        assertThat(response.header("X-AspNet-Version")).isNull();
        assertThat(response.all("X-Frame-Options")).containsExactly("DENY");
        assertThat(response.header("Referrer-Policy")).isEqualTo("no-referrer");
        assertThat(response.header("Strict-Transport-Security"))
                .as("HSTS only over https")
                .isNull();
        assertThat(response.header("X-Kept")).isEqualTo("yes");
        assertThat(response.bodyText()).isEqualTo("ok");

        ProxyAdapter.Running defaults = proxy(adapter, a, "route.main.path", "/app", "route.main.pool", "web");
        RawHttp.Response plain = RawHttp.exchange(
                defaults.uri(), "GET /app/page HTTP/1.1\r\nHost: shop\r\n" + "Connection: close\r\n\r\n");
        assertThat(plain.all("Server"))
                .as("stripped with nothing configured")
                .noneMatch(value -> value.contains("SecretServer"));
        assertThat(plain.header("X-Powered-By")).isNull();
        assertThat(plain.header("X-AspNet-Version")).isEqualTo("4.0.30319");
        assertThat(plain.all("X-Frame-Options")).containsExactly("ALLOWALL");
    }

    @ParameterizedTest
    @EnumSource(ProxyAdapter.class)
    void errorPagesNeverEchoTheRequest(ProxyAdapter adapter) throws Exception {
        TestBackend down = backend("down", new Backends.Echo("down"));
        URI downUrl = down.url();
        down.close();
        TestBackend a = backend("a", new Backends.Echo("a"));
        Map<String, String> entries = new HashMap<>(Map.of(
                "pool.web.backend.a.url",
                a.url().toString(),
                "pool.gone.backend.x.url",
                downUrl.toString(),
                "route.deny.path",
                "/deny",
                "route.deny.pool",
                "web",
                "route.deny.deny",
                "127.0.0.1",
                "route.auth.path",
                "/auth",
                "route.auth.pool",
                "web",
                "route.auth.auth",
                "basic",
                "route.auth.auth.users-file",
                usersFile("users", "ann", "pw").toString()));
        entries.putAll(Map.of(
                "route.limited.path",
                "/limited",
                "route.limited.pool",
                "web",
                "route.limited.rate-limit",
                "1/h",
                "route.gone.path",
                "/gone",
                "route.gone.pool",
                "gone",
                "route.gone.retries",
                "0",
                "security.response-headers.X-Frame-Options",
                "DENY"));
        ProxyAdapter.Running proxy =
                track(adapter.start(ConfigLoader.load(List.of(new ConfigSource("test", entries)))));
        get(proxy.uri().resolve("/limited/warm-up"));

        String hostile = "/%3Cscript%3Ealert(1)%3C/script%3E?q=%3Cscript%3E&r=%22%3E%3Cimg%20src=x%3E";
        Map<String, Integer> cases = new java.util.LinkedHashMap<>();
        cases.put("/deny" + hostile, 403);
        cases.put("/auth" + hostile, 401);
        cases.put("/limited" + hostile, 429);
        cases.put("/gone" + hostile, 502);
        if (!adapter.passesOn()) {
            cases.put("/nowhere" + hostile, 404);
        }
        for (Map.Entry<String, Integer> entry : cases.entrySet()) {
            RawHttp.Response response = RawHttp.exchange(
                    proxy.uri(),
                    "GET " + entry.getKey() + " HTTP/1.1\r\n"
                            + "Host: shop.example\r\nUser-Agent: <script>ua</script>\r\n"
                            + "X-Forwarded-For: <script>xff</script>\r\nConnection: close\r\n\r\n");
            assertThat(response.status()).as(entry.getKey()).isEqualTo(entry.getValue());
            assertThat(response.bodyText())
                    .as(entry.getKey())
                    .doesNotContainIgnoringCase("script")
                    .doesNotContain("<")
                    .doesNotContain("alert")
                    .doesNotContain("img");
            assertThat(response.header("Content-Type")).as(entry.getKey()).startsWith("text/plain");
            assertThat(response.header("X-Content-Type-Options"))
                    .as(entry.getKey())
                    .isEqualTo("nosniff");
            if (entry.getValue() != 404) {
                assertThat(response.header("X-Frame-Options"))
                        .as("security headers on the proxy's own errors too")
                        .isEqualTo("DENY");
            }
        }
    }
}
