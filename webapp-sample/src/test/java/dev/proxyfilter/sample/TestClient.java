package dev.proxyfilter.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The HTTP client of the distribution tests: HTTP/1.1, no redirects followed, every call bounded. */
final class TestClient {
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();

    /** GET {@code base + path}, with {@code headers} given as name, value, name, value... */
    HttpResponse<String> get(URI base, String path, String... headers) throws Exception {
        HttpRequest.Builder request =
                HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10));
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Sends {@code count} GETs to {@code base + /api/x} and returns which {@link EchoBackend} answered each,
     * checking that each got there as {@code /api/x} with its query.
     */
    List<String> answeredBy(URI base, int count) throws Exception {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            HttpResponse<String> response = get(base, "/api/x?n=" + i);
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            assertThat(response.headers().firstValue("X-Received-Path")).hasValue("/api/x");
            assertThat(response.headers().firstValue("X-Received-Query")).hasValue("n=" + i);
            names.add(response.body());
        }
        return names;
    }
}
