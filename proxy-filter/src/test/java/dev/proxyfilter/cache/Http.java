package dev.proxyfilter.cache;

import dev.proxyfilter.http.Header;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.eclipse.jetty.http.HttpFields;

/** Test fixtures: header blocks, HTTP-dates and stored responses around a fixed instant, {@link #T0}. */
final class Http {
    /** 2025-01-01T00:00:00Z: every test's clock starts here and moves only when a test says so. */
    static final long T0 = 1_735_689_600_000L;

    static final long SECOND = 1000;

    private static final DateTimeFormatter IMF_FIXDATE = DateTimeFormatter.ofPattern(
                    "EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US)
            .withZone(ZoneOffset.UTC);

    private Http() {}

    /** {@code name, value, name, value...} as Jetty fields. */
    static HttpFields.Mutable fields(String... namesAndValues) {
        HttpFields.Mutable fields = HttpFields.build();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            fields.add(namesAndValues[i], namesAndValues[i + 1]);
        }
        return fields;
    }

    /** The IMF-fixdate of an instant. */
    static String date(long millis) {
        return IMF_FIXDATE.format(Instant.ofEpochMilli(millis));
    }

    /** A stored 200 with the given headers, requested at {@code T0} and received at {@code T0}. */
    static StoredResponse stored(String... namesAndValues) {
        return stored(200, T0, T0, namesAndValues);
    }

    /** A stored response from an exchange sent at {@code requestTime} and answered at {@code responseTime}. */
    static StoredResponse stored(int status, long requestTime, long responseTime, String... namesAndValues) {
        List<Header> headers = new ArrayList<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            headers.add(new Header(namesAndValues[i], namesAndValues[i + 1]));
        }
        return new StoredResponse(
                status,
                headers,
                "hello, world".getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                requestTime,
                responseTime,
                List.of());
    }

    /** A GET for {@code http://example.com + pathAndQuery} with the given headers. */
    static CacheRequest get(String pathAndQuery, String... namesAndValues) {
        return request("GET", pathAndQuery, namesAndValues);
    }

    static CacheRequest request(String method, String pathAndQuery, String... namesAndValues) {
        int q = pathAndQuery.indexOf('?');
        String path = q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
        String query = q < 0 ? null : pathAndQuery.substring(q + 1);
        return new CacheRequest(method, "http", "example.com", path, query, fields(namesAndValues));
    }

    static byte[] bytes(String text) {
        return text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    static String text(java.nio.ByteBuffer body) {
        byte[] bytes = new byte[body.remaining()];
        body.duplicate().get(bytes);
        return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
    }
}
