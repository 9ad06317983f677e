package dev.proxyfilter.balance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.proxyfilter.config.BackendConfig;
import java.net.URI;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BackendTest {

    private static Backend backend(String url, int weight) {
        return new Backend("web", new BackendConfig("b", URI.create(url), weight));
    }

    @ParameterizedTest
    @CsvSource({
        "http://app.internal, http, app.internal, 80",
        "https://app.internal, https, app.internal, 443",
        "http://app.internal:8081/, http, app.internal, 8081",
        "https://10.0.0.7:8443, https, 10.0.0.7, 8443",
        "HTTP://App.Internal, http, App.Internal, 80",
        "http://[::1]:8081, http, [::1], 8081",
        "https://[2001:db8::7], https, [2001:db8::7], 443"
    })
    void addressIsDerivedFromTheUrl(String url, String scheme, String host, int port) {
        Backend backend = backend(url, 1);

        assertThat(backend.scheme()).isEqualTo(scheme);
        assertThat(backend.host()).isEqualTo(host);
        assertThat(backend.port()).isEqualTo(port);
        assertThat(backend.url()).isEqualTo(URI.create(url));
        assertThat(backend.pool()).isEqualTo("web");
        assertThat(backend.name()).isEqualTo("b");
    }

    @ParameterizedTest
    @CsvSource({"ftp://app.internal", "/relative", "http:opaque", "http:///nohost"})
    void rejectsUrlsItCannotForwardTo(String url) {
        assertThatThrownBy(() -> backend(url, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("pool.web.backend.b.url: " + url + " (expected: absolute http(s) URL with a host)");
    }

    @Test
    void weightStartsFromConfigAndCanChange() {
        Backend backend = backend("http://a", 3);
        assertThat(backend.weight()).isEqualTo(3);

        backend.weight(0);
        assertThat(backend.weight()).isZero();
        backend.weight(7);
        assertThat(backend.weight()).isEqualTo(7);

        assertThatThrownBy(() -> backend.weight(-1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("weight: -1 (expected: >= 0)");
        assertThat(backend.weight()).isEqualTo(7);
    }

    @Test
    void availableUntilToldOtherwise() {
        Backend backend = backend("http://a", 1);
        assertThat(backend.available()).isTrue();
        assertThat(backend.effectiveWeight()).isEqualTo(1);

        backend.available(false);
        assertThat(backend.available()).isFalse();
        assertThat(backend.effectiveWeight()).isZero();

        backend.available(true);
        assertThat(backend.effectiveWeight()).isEqualTo(1);
    }

    @Test
    void countsRequestsInFlight() {
        Backend backend = backend("http://a", 1);
        assertThat(backend.inFlight()).isZero();

        backend.onRequestStart();
        backend.onRequestStart();
        assertThat(backend.inFlight()).isEqualTo(2);
        backend.onRequestEnd();
        assertThat(backend.inFlight()).isEqualTo(1);
        backend.onRequestEnd();
        assertThat(backend.inFlight()).isZero();
    }

    @Test
    void unpairedEndIsReportedAndDoesNotGoNegative() {
        Backend backend = backend("http://a", 1);

        assertThatThrownBy(backend::onRequestEnd)
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("backend web/b: onRequestEnd() without onRequestStart()");
        assertThat(backend.inFlight()).isZero();
    }

    @Test
    void toStringShowsStateButNotTheAddress() {
        Backend backend = backend("http://secret.internal:9000", 2);
        backend.onRequestStart();

        assertThat(backend).hasToString("Backend[web/b, weight=2, available=true, inFlight=1]");
    }
}
