package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;

import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The engine's own framing and limit checks, independent of any container's parser. */
class RequestChecksTest {
    private static RequestChecks.Refusal check(String method, String... nameValue) {
        HttpFields.Mutable headers = HttpFields.build();
        for (int i = 0; i < nameValue.length; i += 2) {
            headers.add(new HttpField(nameValue[i], nameValue[i + 1]));
        }
        return RequestChecks.check(method, headers, 5, 100);
    }

    private static int status(RequestChecks.Refusal refusal) {
        return refusal == null ? 0 : refusal.status();
    }

    @Test
    void aCleanRequestPasses() {
        assertThat(check("GET", "Host", "h", "Accept", "*/*")).isNull();
        assertThat(check("POST", "Host", "h", "Content-Length", "100")).isNull();
        assertThat(check("POST", "Host", "h", "Transfer-Encoding", "chunked")).isNull();
        assertThat(check("POST", "Host", "h", "Transfer-Encoding", "Chunked")).isNull();
        assertThat(check("GET", "X-Tab", "a\tb")).isNull();
    }

    @Test
    void connectIsRefused() {
        assertThat(status(check("CONNECT", "Host", "evil.example:443"))).isEqualTo(405);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "CL and TE|400|Content-Length|5|Transfer-Encoding|chunked",
                "TE and CL|400|Transfer-Encoding|chunked|Content-Length|5",
                "two equal CLs|400|Content-Length|5|Content-Length|5",
                "two differing CLs|400|Content-Length|5|Content-Length|6",
                "CL list|400|Content-Length|5, 6|X|y",
                "negative CL|400|Content-Length|-1|X|y",
                "hex CL|400|Content-Length|0x10|X|y",
                "huge CL|400|Content-Length|99999999999999999999|X|y",
                "xchunked|501|Transfer-Encoding|xchunked|X|y",
                "chunked then identity|501|Transfer-Encoding|chunked, identity|X|y",
                "chunked twice|400|Transfer-Encoding|chunked, chunked|X|y",
                "gzip then chunked|400|Transfer-Encoding|gzip, chunked|X|y",
                "two TE fields|400|Transfer-Encoding|chunked|Transfer-Encoding|chunked",
                "empty TE|501|Transfer-Encoding|''|X|y",
            })
    void ambiguousFramingIsRefused(String name, int expected, String n1, String v1, String n2, String v2) {
        assertThat(status(check("POST", n1, v1, n2, v2))).as(name).isEqualTo(expected);
    }

    @Test
    void controlCharactersAndBadNamesAreRefused() {
        assertThat(status(check("GET", "X-A", "a\rb"))).isEqualTo(400);
        assertThat(status(check("GET", "X-A", "a\nb"))).isEqualTo(400);
        assertThat(status(check("GET", "X-A", "a\u0000b"))).isEqualTo(400);
        assertThat(status(check("GET", "X-A", "a\u007fb"))).isEqualTo(400);
        assertThat(status(check("GET", "X A", "v"))).isEqualTo(400);
        assertThat(status(check("GET", "X:A", "v"))).isEqualTo(400);
        assertThat(status(check("GET", "X\u00e9", "v"))).isEqualTo(400);
    }

    @Test
    void limits() {
        assertThat(status(check("GET", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5")))
                .isZero();
        assertThat(status(check("GET", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "f", "6")))
                .isEqualTo(431);
        assertThat(status(check("POST", "Content-Length", "101"))).isEqualTo(413);
        assertThat(RequestChecks.check("POST", HttpFields.build().add("Content-Length", "1000000"), 5, 0))
                .isNull();
    }
}
