package dev.proxyfilter.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.proxyfilter.route.RouteTable.Entry;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RouteTableTest {

    private static Entry<String> route(String host, String prefix) {
        return new Entry<>(host, prefix, (host == null ? "*" : host) + prefix);
    }

    @SafeVarargs
    private static RouteTable<String> table(Entry<String>... entries) {
        List<Entry<String>> list = new ArrayList<>();
        for (Entry<String> entry : entries) {
            list.add(entry);
        }
        return RouteTable.of(list);
    }

    @ParameterizedTest
    @CsvSource({
        "example.com",
        "EXAMPLE.COM",
        "Example.Com",
        "example.com:8080",
        "EXAMPLE.com:443",
        "example.com.",
        "example.com.:8080"
    })
    void hostIgnoresCasePortAndRootDot(String requestHost) {
        RouteTable<String> table = table(route("Example.COM", "/"), route(null, "/"));

        assertThat(table.match(requestHost, "/x")).isEqualTo("Example.COM/");
    }

    @ParameterizedTest
    @CsvSource({"[::1]", "[::1]:8080", "::1", "[::1]:"})
    void ipv6LiteralsMatchWithOrWithoutBracketsAndPort(String requestHost) {
        RouteTable<String> bracketed = table(route("[::1]", "/"), route(null, "/"));
        RouteTable<String> bare = table(route("::1", "/"), route(null, "/"));

        assertThat(bracketed.match(requestHost, "/")).isEqualTo("[::1]/");
        assertThat(bare.match(requestHost, "/")).isEqualTo("::1/");
    }

    @Test
    void ipv6HexDigitsIgnoreCase() {
        RouteTable<String> table = table(route("[2001:DB8::A]", "/"));

        assertThat(table.match("[2001:db8::a]:80", "/")).isEqualTo("[2001:DB8::A]/");
    }

    @Test
    void ipv4WithPort() {
        RouteTable<String> table = table(route("127.0.0.1", "/"));

        assertThat(table.match("127.0.0.1:8080", "/a")).isEqualTo("127.0.0.1/");
        assertThat(table.match("127.0.0.10", "/a")).isNull();
    }

    @ParameterizedTest
    @CsvSource({"[::1", "example.org", "example.co", "xample.com", "example.com.au", "sub.example.com"})
    void otherHostsFallBackToHostless(String requestHost) {
        RouteTable<String> table = table(route("example.com", "/"), route(null, "/"));

        assertThat(table.match(requestHost, "/x")).isEqualTo("*/");
    }

    @Test
    void nullOrEmptyRequestHostUsesHostlessRoutesOnly() {
        RouteTable<String> table = table(route("example.com", "/"), route(null, "/api"));

        assertThat(table.match(null, "/api/x")).isEqualTo("*/api");
        assertThat(table.match("", "/api/x")).isEqualTo("*/api");
        assertThat(table.match(null, "/other")).isNull();
    }

    @Test
    void emptyEntryHostMeansAnyHost() {
        RouteTable<String> table = RouteTable.of(List.of(new Entry<>("", "/", "any")));

        assertThat(table.match("whatever.example", "/x")).isEqualTo("any");
        assertThat(table.match(null, "/x")).isEqualTo("any");
    }

    @Test
    void hostSpecificRoutesWinOverLongerHostlessOnes() {
        // nginx: the server block is chosen first, then the location inside it.
        RouteTable<String> table = table(route("example.com", "/"), route(null, "/api/v1"));

        assertThat(table.match("example.com", "/api/v1/users")).isEqualTo("example.com/");
        assertThat(table.match("other.com", "/api/v1/users")).isEqualTo("*/api/v1");
    }

    @Test
    void fallsBackToHostlessWhenNoHostSpecificPrefixMatches() {
        RouteTable<String> table = table(route("example.com", "/api"), route(null, "/static"), route(null, "/"));

        assertThat(table.match("example.com", "/api/x")).isEqualTo("example.com/api");
        assertThat(table.match("example.com", "/static/a.css")).isEqualTo("*/static");
        assertThat(table.match("example.com", "/apix")).isEqualTo("*/");
    }

    @Test
    void noMatchAnywhereIsNull() {
        RouteTable<String> table = table(route("example.com", "/api"), route(null, "/static"));

        assertThat(table.match("example.com", "/other")).isNull();
        assertThat(table.match("other.com", "/api")).isNull();
        assertThat(RouteTable.<String>of(List.of()).match("example.com", "/")).isNull();
    }

    @ParameterizedTest
    @CsvSource({
        "/api, true",
        "/api/, true",
        "/api/x, true",
        "/api/x/y, true",
        "/apix, false",
        "/ap, false",
        "/, false",
        "/API, false",
        "/x/api, false"
    })
    void prefixWithoutSlashMatchesWholeSegments(String path, boolean matches) {
        RouteTable<String> table = table(route(null, "/api"));

        assertThat(table.match("h", path)).isEqualTo(matches ? "*/api" : null);
    }

    @ParameterizedTest
    @CsvSource({"/api/, true", "/api/x, true", "/api, false", "/apix, false", "/api//, true"})
    void prefixWithSlashNeedsTheSlash(String path, boolean matches) {
        RouteTable<String> table = table(route(null, "/api/"));

        assertThat(table.match("h", path)).isEqualTo(matches ? "*/api/" : null);
    }

    @ParameterizedTest
    @CsvSource({"/", "/a", "/a/b/c", "/index.html"})
    void rootMatchesEverything(String path) {
        assertThat(table(route(null, "/")).match(null, path)).isEqualTo("*/");
    }

    @Test
    void longestPrefixWinsWhateverTheOrder() {
        List<Entry<String>> entries = new ArrayList<>(List.of(
                route(null, "/"),
                route(null, "/api"),
                route(null, "/api/"),
                route(null, "/api/v1"),
                route(null, "/api/v10"),
                route(null, "/ap")));
        for (long seed = 0; seed < 20; seed++) {
            Collections.shuffle(entries, new Random(seed));
            RouteTable<String> table = RouteTable.of(entries);

            assertThat(table.match(null, "/api")).isEqualTo("*/api");
            assertThat(table.match(null, "/api/")).isEqualTo("*/api/");
            assertThat(table.match(null, "/api/v2")).isEqualTo("*/api/");
            assertThat(table.match(null, "/api/v1/users")).isEqualTo("*/api/v1");
            assertThat(table.match(null, "/api/v10")).isEqualTo("*/api/v10");
            assertThat(table.match(null, "/api/v100")).isEqualTo("*/api/");
            assertThat(table.match(null, "/apx")).isEqualTo("*/");
            assertThat(table.match(null, "/ap/x")).isEqualTo("*/ap");
        }
    }

    @Test
    void manyHostsEachFindTheirOwnRoutes() {
        List<Entry<String>> entries = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            entries.add(route("host" + i + ".example", "/"));
            entries.add(route("host" + i + ".example", "/api"));
        }
        RouteTable<String> table = RouteTable.of(entries);

        for (int i = 0; i < 500; i++) {
            assertThat(table.match("HOST" + i + ".example:8443", "/api/x")).isEqualTo("host" + i + ".example/api");
            assertThat(table.match("host" + i + ".example", "/x")).isEqualTo("host" + i + ".example/");
        }
        assertThat(table.match("host500.example", "/")).isNull();
    }

    @Test
    void rejectsDuplicateHostAndPrefix() {
        assertThatThrownBy(() -> table(route("example.com", "/api"), route("EXAMPLE.com", "/api")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("pathPrefix: /api (expected: at most one route per host and prefix, "
                        + "found two for example.com)");
        assertThatThrownBy(() -> table(route(null, "/b"), route(null, "/a"), route(null, "/b")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("pathPrefix: /b (expected: at most one route per host and prefix, "
                        + "found two for any host)");
    }

    @Test
    void rejectsEntryHostWithPort() {
        assertThatThrownBy(() -> table(route("example.com:8080", "/")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("host: example.com:8080 (expected: host name without port)");
        assertThatThrownBy(() -> table(route("[::1]:8080", "/")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("host: [::1]:8080 (expected: host name without port)");
    }

    @Test
    void rejectsPrefixWithoutLeadingSlashAndNullValue() {
        assertThatThrownBy(() -> new Entry<>(null, "api", "v"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("pathPrefix: api (expected: starts with /)");
        assertThatThrownBy(() -> new Entry<>(null, "/", null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void matchAllocatesNothing() {
        com.sun.management.ThreadMXBean threads = threadBean();
        List<Entry<String>> entries = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            entries.add(route("host" + i + ".example", "/api"));
        }
        entries.add(route(null, "/"));
        entries.add(route(null, "/static/"));
        RouteTable<String> table = RouteTable.of(entries);
        String[] hosts = {"HOST7.example:8080", "[::1]:8080", "unknown.example", "host42.example."};
        String[] paths = {"/api/users/1", "/static/app.js", "/apix"};
        int calls = 200_000;
        int sink = 0;
        for (int i = 0; i < calls; i++) { // warm up, so that JIT compilation is not measured
            sink += table.match(hosts[i & 3], paths[i % 3]).length();
        }

        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < calls; i++) {
            sink += table.match(hosts[i & 3], paths[i % 3]).length();
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;

        assertThat(sink).isPositive();
        // One object per call would be >= 16 bytes per call; leave room for a stray deoptimisation.
        assertThat(allocated).isLessThan(calls);
    }

    static com.sun.management.ThreadMXBean threadBean() {
        assumeTrue(
                ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean,
                "needs com.sun.management.ThreadMXBean");
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(
                threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled(),
                "needs thread allocation accounting");
        return threads;
    }
}
