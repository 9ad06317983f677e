package dev.proxyfilter.route;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class PathNormalizerTest {
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(
            delimiter = ' ',
            value = {
                "/ /",
                "/api/items/7 /api/items/7",
                "/public/../admin /admin",
                "/public/%2e%2e/admin /admin",
                "/public/%2E%2E/admin /admin",
                "/public/.%2e/admin /admin",
                "/a/./b /a/b",
                "/a/%2e/b /a/b",
                "/a//b /a/b",
                "//a///b// /a/b/",
                "/a/b/.. /a/",
                "/a/b/. /a/b/",
                "/a/.. /",
                "/a/b/../../c /c",
                "/%7Euser/%41 /~user/A",
                "/a%3ab /a%3Ab",
                "/caf%C3%A9 /caf%C3%A9",
                "/a%20b /a%20b",
                "/page;jsessionid=1 /page;jsessionid=1",
                "/a/..b/c /a/..b/c",
                "/a/...// /a/.../",
                "/100%25 /100%25",
            })
    void normalises(String raw, String expected) {
        assertThat(PathNormalizer.normalize(raw)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(
            delimiter = ' ',
            value = {
                "/ /",
                "/a/b /a/b",
                "/admin;x /admin",
                "/admin;x/secret /admin/secret",
                "/a;x=1/b;jsessionid=2 /a/b",
                "/a;x;y/b; /a/b",
                "/a/b;/ /a/b/",
                "/;x/admin /admin",
                "/;a/;b/c /c",
                "/;x /",
            })
    void dropsPathParametersForMatching(String path, String expected) {
        assertThat(PathNormalizer.withoutParameters(path)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0} after {1} -> {2}")
    @CsvSource(
            delimiter = ' ',
            value = {
                "/api/items 4 4",
                "/api;x/items 4 6",
                "/api;x 4 6",
                "/;x/admin/y 6 9",
                "/a;1/b;2/c 4 8",
            })
    void findsWhereAStrippedPrefixEndsInThePathAsReceived(String path, int strippedLength, int index) {
        assertThat(PathNormalizer.indexAfter(path, strippedLength)).isEqualTo(index);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(
            strings = {
                "",
                "a/b",
                "*",
                "/..",
                "/../x",
                "/a/../../x",
                "/%2e%2e/x",
                "/a%2Fb",
                "/a%2fb",
                "/a/%2F../admin",
                "/a%5Cb",
                "/a\\b",
                "/a%00b",
                "/a%252e%252e/x",
                "/a%252Fb",
                "/a%255c",
                "/a%zz",
                "/a%4",
                "/a%",
                "/public/..;/admin",
                "/public/.;x/admin",
                "/a/%2e%2e;x/b",
                "/a b",
                "/a\tb",
                "/a\u0000b",
                "/a\nb",
                "/caf\u00e9",
                "/a\"b",
                "/a<b>",
                "/a{b}",
                "/a|b",
                "/a^b",
                "/a`b",
            })
    void rejects(String raw) {
        assertThat(PathNormalizer.normalize(raw)).isNull();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"/", "/a/b/c", "/a/b/", "/a-b_c~d/e.f", "/x;y=z", "/a:b@c!$&'()*+,="})
    void returnsANormalPathItself(String path) {
        assertThat(PathNormalizer.normalize(path)).isSameAs(path);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"/public/../admin", "/a//b/./c/..", "/%7Ex/%2e/y", "/a/b/../../c/"})
    void isIdempotent(String raw) {
        String once = PathNormalizer.normalize(raw);
        assertThat(PathNormalizer.normalize(once)).isEqualTo(once);
    }
}
