package dev.proxyfilter.forward;

import static org.assertj.core.api.Assertions.assertThat;

import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Finding one cookie in {@code Cookie} headers, as RFC 6265 clients send them. */
class RequestCookiesTest {

    @ParameterizedTest(name = "[{0}] {1}")
    @CsvSource(
            delimiter = '|',
            nullValues = "NULL",
            value = {
                "SRV=abc                        | SRV | abc",
                "a=1; SRV=abc; b=2              | SRV | abc",
                "a=1;SRV=abc                    | SRV | abc",
                "'  SRV = abc  ; x=y'           | SRV | abc",
                "SRV=\"abc\"                    | SRV | abc",
                "SRV=                           | SRV | ''",
                "SRV=a=b                        | SRV | a=b",
                "XSRV=1; SRVX=2                 | SRV | NULL",
                "srv=abc                        | SRV | NULL",
                "noequals; SRV=abc              | SRV | abc",
                "a=1; SRV=first; SRV=second     | SRV | first",
                "''                             | SRV | NULL",
                "=abc; SRV=x                    | SRV | x",
            })
    void findsTheNamedCookieInOneHeader(String header, String name, String expected) {
        assertThat(RequestCookies.find(header, name)).isEqualTo(expected);
    }

    @Test
    void looksAcrossEveryCookieHeaderAndOnlyThere() {
        HttpFields headers = HttpFields.build()
                .add("X-Other", "SRV=wrong")
                .add(HttpHeader.COOKIE, "a=1")
                .add(HttpHeader.COOKIE, "SRV=abc")
                .asImmutable();

        assertThat(RequestCookies.find(headers, "SRV")).isEqualTo("abc");
        assertThat(RequestCookies.find(headers, "a")).isEqualTo("1");
        assertThat(RequestCookies.find(headers, "X-Other")).isNull();
        assertThat(RequestCookies.find(HttpFields.EMPTY, "SRV")).isNull();
    }
}
