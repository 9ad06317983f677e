package dev.proxyfilter.cache;

import java.time.DateTimeException;
import java.time.LocalDate;
import java.util.List;

/**
 * HTTP-date parsing (RFC 9110 §5.6.7): the three forms the grammar allows, exactly, and nothing else.
 *
 * <pre>
 * IMF-fixdate  = day-name "," SP day SP month SP year SP hour ":" minute ":" second SP "GMT"
 *                ; Sun, 06 Nov 1994 08:49:37 GMT
 * rfc850-date  = day-name-l "," SP day "-" month "-" 2DIGIT SP time-of-day SP "GMT"
 *                ; Sunday, 06-Nov-94 08:49:37 GMT
 * asctime-date = day-name SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP time-of-day SP year
 *                ; Sun Nov  6 08:49:37 1994
 * </pre>
 *
 * HTTP-date is case-sensitive; names are English; the zone is {@code GMT} and nothing else; there is one
 * space wherever the grammar has {@code SP}; the day of the month must exist in that month; the hour is
 * 00-23, the minute 00-59 and the second 00-60 (a leap second). The day name is checked to be a day name,
 * not to be the right one. Anything else, a {@code +0000} or {@code UTC} zone, a two-digit year outside the
 * RFC 850 form, a missing comma, an extra space, is {@link #INVALID}: an invalid {@code Expires} means
 * "already expired" (RFC 9111 §5.3), an invalid {@code Date} is as good as none.
 *
 * <p>A two-digit RFC 850 year that would put the date more than 50 years after {@code nowMillis} means the
 * most recent past year with those digits (RFC 9110 §5.6.7). Never throws.
 */
final class HttpDates {
    /** What {@link #parse} returns for an absent or invalid date. */
    static final long INVALID = Long.MIN_VALUE;

    private static final List<String> DAYS = List.of("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun");
    private static final List<String> LONG_DAYS =
            List.of("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday");
    private static final List<String> MONTHS =
            List.of("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec");

    private HttpDates() {}

    /**
     * Epoch millis of an HTTP-date, or {@link #INVALID}, with a two-digit year read against the system
     * clock; callers with a time of their own (the response time of a stored response) pass it instead.
     */
    static long parse(String value) {
        return parse(value, System.currentTimeMillis());
    }

    /** Epoch millis of an HTTP-date, or {@link #INVALID}; {@code nowMillis} only places a two-digit year. */
    static long parse(String value, long nowMillis) {
        if (value == null) {
            return INVALID;
        }
        int n = value.length();
        if (n == 29 && value.charAt(3) == ',') {
            return imfFixdate(value);
        }
        if (n == 24 && value.charAt(3) == ' ') {
            return asctime(value);
        }
        return rfc850(value, nowMillis);
    }

    /** {@code Sun, 06 Nov 1994 08:49:37 GMT}. */
    private static long imfFixdate(String s) {
        if (!DAYS.contains(s.substring(0, 3))
                || s.charAt(4) != ' '
                || s.charAt(7) != ' '
                || s.charAt(11) != ' '
                || s.charAt(16) != ' '
                || s.charAt(25) != ' '
                || !s.startsWith("GMT", 26)) {
            return INVALID;
        }
        int day = digits(s, 5, 2);
        int month = MONTHS.indexOf(s.substring(8, 11)) + 1;
        int year = digits(s, 12, 4);
        return epochMillis(year, month, day, s, 17);
    }

    /** {@code Sun Nov  6 08:49:37 1994}. */
    private static long asctime(String s) {
        if (!DAYS.contains(s.substring(0, 3)) || s.charAt(7) != ' ' || s.charAt(10) != ' ' || s.charAt(19) != ' ') {
            return INVALID;
        }
        int month = MONTHS.indexOf(s.substring(4, 7)) + 1;
        int day = s.charAt(8) == ' ' ? digits(s, 9, 1) : digits(s, 8, 2);
        int year = digits(s, 20, 4);
        return epochMillis(year, month, day, s, 11);
    }

    /** {@code Sunday, 06-Nov-94 08:49:37 GMT}. */
    private static long rfc850(String s, long nowMillis) {
        int comma = s.indexOf(',');
        if (comma < 6 || comma > 9 || s.length() != comma + 24 || !LONG_DAYS.contains(s.substring(0, comma))) {
            return INVALID;
        }
        int d = comma + 2; // the day
        if (s.charAt(comma + 1) != ' '
                || s.charAt(d + 2) != '-'
                || s.charAt(d + 6) != '-'
                || s.charAt(d + 9) != ' '
                || s.charAt(d + 18) != ' '
                || !s.startsWith("GMT", d + 19)) {
            return INVALID;
        }
        int day = digits(s, d, 2);
        int month = MONTHS.indexOf(s.substring(d + 3, d + 6)) + 1;
        int twoDigits = digits(s, d + 7, 2);
        if (twoDigits < 0) {
            return INVALID;
        }
        int thisYear =
                LocalDate.ofEpochDay(Math.floorDiv(nowMillis, 86_400_000L)).getYear();
        int year = thisYear - Math.floorMod(thisYear, 100) + twoDigits;
        if (year > thisYear + 50) {
            year -= 100; // RFC 9110 §5.6.7: not more than 50 years in the future
        } else if (year <= thisYear - 50) {
            year += 100;
        }
        return epochMillis(year, month, day, s, d + 10);
    }

    /** The date, with the time-of-day {@code HH:MM:SS} at {@code time}; {@link #INVALID} if any part is wrong. */
    private static long epochMillis(int year, int month, int day, String s, int time) {
        if (year < 0 || month < 1 || day < 0 || s.charAt(time + 2) != ':' || s.charAt(time + 5) != ':') {
            return INVALID;
        }
        int hour = digits(s, time, 2);
        int minute = digits(s, time + 3, 2);
        int second = digits(s, time + 6, 2);
        if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) {
            return INVALID;
        }
        long epochDay;
        try {
            epochDay = LocalDate.of(year, month, day).toEpochDay();
        } catch (DateTimeException e) {
            return INVALID; // 31 April, 29 February of a common year, day 00
        }
        return ((epochDay * 24 + hour) * 60 + minute) * 60_000L + second * 1000L;
    }

    /** {@code count} ASCII digits at {@code from}, or -1. */
    private static int digits(String s, int from, int count) {
        int value = 0;
        for (int i = from; i < from + count; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }
}
