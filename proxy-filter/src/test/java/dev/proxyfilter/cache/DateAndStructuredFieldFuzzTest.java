package dev.proxyfilter.cache;

import static dev.proxyfilter.cache.Http.T0;
import static dev.proxyfilter.cache.Http.date;
import static dev.proxyfilter.cache.Http.stored;
import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.http.StructuredFields;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Bounded, seeded fuzzing of the two strict parsers the cache's freshness depends on: HTTP-dates (RFC 9110
 * §5.6.7) and targeted cache-control dictionaries (RFC 8941, RFC 9213). Inputs are valid values mutated a
 * few characters at a time, plus random strings. The invariants:
 * <ul>
 *   <li>parsing never throws;</li>
 *   <li>an invalid input is never fresher than a valid one: an invalid {@code Expires} or {@code Age} gives a
 *       lifetime of 0, the least any valid one gives; an invalid targeted field falls back to
 *       {@code Cache-Control}, which here says the response is never fresh;</li>
 *   <li>a valid {@code Expires} gives exactly its distance from {@code Date}.</li>
 * </ul>
 */
class DateAndStructuredFieldFuzzTest {
    private static final int ROUNDS = 4000;
    private static final String ALPHABET =
            " ,;=:-\"\\()?*/.0123456789GMTUCSunMonDecJanFebmax-ages-maxgno-storeprivate\t";

    private final CachePolicy policy = CachePolicy.sharedCache();

    private static String mutate(Random random, String seed) {
        StringBuilder s = new StringBuilder(seed);
        int edits = 1 + random.nextInt(3);
        for (int e = 0; e < edits; e++) {
            int op = random.nextInt(4);
            int at = s.length() == 0 ? 0 : random.nextInt(s.length());
            char c = random.nextInt(10) == 0
                    ? (char) random.nextInt(0x3000)
                    : ALPHABET.charAt(random.nextInt(ALPHABET.length()));
            switch (op) {
                case 0 -> s.insert(at, c);
                case 1 -> {
                    if (s.length() > 0) {
                        s.deleteCharAt(at);
                    }
                }
                case 2 -> {
                    if (s.length() > 0) {
                        s.setCharAt(at, c);
                    }
                }
                default -> {
                    if (s.length() > 1) {
                        s.setLength(at);
                    }
                }
            }
        }
        return s.toString();
    }

    private static String random(Random random) {
        char[] chars = new char[random.nextInt(40)];
        for (int i = 0; i < chars.length; i++) {
            chars[i] = ALPHABET.charAt(random.nextInt(ALPHABET.length()));
        }
        return new String(chars);
    }

    @Test
    void httpDatesNeverThrowAndAnInvalidExpiresIsNeverFresher() {
        Random random = new Random(9110);
        long expiresAt = T0 + 3_600_000;
        List<String> seeds =
                List.of(date(expiresAt), "Monday, 01-Jan-25 01:00:00 GMT", "Wed Jan  1 01:00:00 2025", "0", "");
        int valid = 0;
        for (int i = 0; i < ROUNDS; i++) {
            String value = i % 5 == 0 ? random(random) : mutate(random, seeds.get(random.nextInt(seeds.size())));
            long parsed = HttpDates.parse(value, T0);
            long lifetime = policy.freshnessLifetimeMillis(stored("Date", date(T0), "Expires", value));
            if (parsed == HttpDates.INVALID) {
                assertThat(lifetime).as("Expires: %s", value).isZero();
            } else {
                valid++;
                assertThat(lifetime).as("Expires: %s", value).isEqualTo(Math.max(0, parsed - T0));
            }
        }
        assertThat(valid).as("some mutations stay valid").isPositive();
    }

    @Test
    void anInvalidAgeIsNeverFresherThanAValidOne() {
        Random random = new Random(9111);
        for (int i = 0; i < ROUNDS; i++) {
            String value = i % 5 == 0 ? random(random) : mutate(random, Integer.toString(random.nextInt(100)));
            StoredResponse response = stored("Cache-Control", "max-age=100", "Age", value);
            long lifetime = policy.freshnessLifetimeMillis(response);
            boolean valid = value.strip().chars().allMatch(Character::isDigit)
                    && !value.isBlank()
                    && value.strip().chars().allMatch(c -> c < 128);
            assertThat(lifetime).as("Age: %s", value).isEqualTo(valid ? 100_000 : 0);
        }
    }

    @Test
    void structuredFieldsNeverThrowAndAnInvalidTargetedFieldIsNeverFresher() {
        Random random = new Random(8941);
        List<String> seeds = List.of(
                "max-age=60",
                "max-age=60, s-maxage=120",
                "no-store",
                "private=\"set-cookie\", max-age=10",
                "max-age=30;p=1, x=(1 2), y=:aGk=:, z=?1",
                "stale-while-revalidate=5, max-age=1.5");
        int validFields = 0;
        for (int i = 0; i < ROUNDS; i++) {
            String value = i % 5 == 0 ? random(random) : mutate(random, seeds.get(random.nextInt(seeds.size())));
            var dictionary = StructuredFields.parseDictionary(value);
            StructuredFields.parseList(value);
            StructuredFields.parseItem(value);
            CacheControl targeted = CacheControl.parseTargeted(List.of(value));
            if (dictionary == null) {
                assertThat(targeted).as(value).isNull();
            }
            StoredResponse response = stored("Cache-Control", "no-cache, max-age=0", "CDN-Cache-Control", value);
            long lifetime = policy.freshnessLifetimeMillis(response);
            CacheControl governing = policy.responseDirectives(response);
            if (targeted == null) {
                assertThat(lifetime).as("CDN-Cache-Control: %s", value).isZero();
                assertThat(governing.noCache()).as(value).isTrue();
            } else {
                validFields++;
                assertThat(governing.targeted()).isTrue();
                long expected = targeted.sMaxAge() >= 0 ? targeted.sMaxAge() : Math.max(0, targeted.maxAge());
                if (targeted.sMaxAge() >= 0 || targeted.maxAge() >= 0) {
                    assertThat(lifetime).as(value).isEqualTo(expected * 1000);
                }
            }
        }
        assertThat(validFields).as("some mutations stay valid").isPositive();
    }
}
