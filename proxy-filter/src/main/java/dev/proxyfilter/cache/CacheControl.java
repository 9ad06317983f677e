package dev.proxyfilter.cache;

import dev.proxyfilter.http.StructuredFields;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The directives of a {@code Cache-Control} field (RFC 9111 §5.2), request or response, plus the
 * RFC 5861 extensions {@code stale-while-revalidate} and {@code stale-if-error}.
 *
 * <p>Parsing is lenient and never throws: directive names are case-insensitive, several field lines are
 * one list, unknown directives are ignored. Where RFC 9111 §4.2.1 leaves a choice, this class takes the
 * safe one: the first occurrence of a repeated directive wins; an invalid {@code max-age} or
 * {@code s-maxage} (not a delta-seconds) counts as 0, so the response is stale; a delta-seconds beyond
 * 2^31 counts as 2^31 (§1.2.2). Unqualified {@code no-cache} or {@code private} win over their qualified
 * forms, the more restrictive reading.
 *
 * <p>The same directives may come from a targeted field (RFC 9213), such as {@code CDN-Cache-Control}: a
 * Structured Field Dictionary, parsed strictly by {@link #parseTargeted}, which overrides {@code Cache-Control}
 * and {@code Expires} for the caches it targets ({@link #targeted()}).
 *
 * <p>Seconds are {@code long}; -1 means the directive is absent.
 */
public final class CacheControl {
    /** {@link #maxStale()} of a bare {@code max-stale}: any staleness is acceptable. */
    public static final long ANY = Long.MAX_VALUE;
    /** The greatest delta-seconds a recipient must handle (RFC 9111 §1.2.2). */
    public static final long DELTA_SECONDS_CAP = 2_147_483_648L;

    /** No directives at all. */
    public static final CacheControl NONE = new CacheControl(new Parser());

    private final boolean present;
    private final boolean noStore;
    private final boolean noCache;
    private final List<String> noCacheFields;
    private final boolean isPrivate;
    private final List<String> privateFields;
    private final boolean isPublic;
    private final long maxAge;
    private final long sMaxAge;
    private final boolean mustRevalidate;
    private final boolean proxyRevalidate;
    private final boolean mustUnderstand;
    private final boolean noTransform;
    private final boolean immutable;
    private final long maxStale;
    private final long minFresh;
    private final boolean onlyIfCached;
    private final long staleWhileRevalidate;
    private final long staleIfError;
    private final boolean targeted;

    private CacheControl(Parser p) {
        present = p.present;
        noStore = p.noStore;
        noCache = p.noCache;
        noCacheFields = p.noCacheFields;
        isPrivate = p.isPrivate;
        privateFields = p.privateFields;
        isPublic = p.isPublic;
        maxAge = p.maxAge;
        sMaxAge = p.sMaxAge;
        mustRevalidate = p.mustRevalidate;
        proxyRevalidate = p.proxyRevalidate;
        mustUnderstand = p.mustUnderstand;
        noTransform = p.noTransform;
        immutable = p.immutable;
        maxStale = p.maxStale;
        minFresh = p.minFresh;
        onlyIfCached = p.onlyIfCached;
        staleWhileRevalidate = p.staleWhileRevalidate;
        staleIfError = p.staleIfError;
        targeted = p.targeted;
    }

    /** A field line and its directives (immutable), the last one {@link #parse(List)} parsed. */
    private record Parsed(String value, CacheControl directives) {}

    private static volatile Parsed lastParsed = new Parsed("", NONE);

    /** Parses one or more field values (field lines in order); {@link #NONE} for none. */
    public static CacheControl parse(List<String> values) {
        if (values == null || values.isEmpty()) {
            return NONE;
        }
        if (values.size() == 1 && values.get(0) != null) {
            // One line, usually the same as the last one parsed (a backend answers alike): parsed once.
            String value = values.get(0);
            Parsed last = lastParsed;
            if (last.value().equals(value)) {
                return last.directives();
            }
            Parser parser = new Parser();
            parser.parseInto(value);
            CacheControl directives = new CacheControl(parser);
            lastParsed = new Parsed(value, directives);
            return directives;
        }
        Parser parser = new Parser();
        for (String value : values) {
            if (value != null) {
                parser.parseInto(value);
            }
        }
        return new CacheControl(parser);
    }

    /** Parses one field value; {@link #NONE} for {@code null}. */
    public static CacheControl parse(String value) {
        return value == null ? NONE : parse(List.of(value));
    }

    /**
     * The directives of a targeted cache-control field (RFC 9213 §2.2): its field lines as one Structured
     * Field Dictionary, each member a response directive. The whole field is ignored ({@code null}) when it
     * does not parse, is empty, or gives a directive this cache implements a value of the wrong type:
     * {@code max-age}, {@code s-maxage}, {@code stale-while-revalidate} and {@code stale-if-error} take a
     * non-negative Integer; {@code no-cache} and {@code private} take Boolean true or a String of field names;
     * every other directive known here takes Boolean true. Unknown directives are ignored whatever their type,
     * and so are parameters (§2.2).
     *
     * @param fieldLines the field lines of one targeted field, in order
     * @return the directives, {@link #targeted()}; {@code null} when the field must be ignored
     */
    public static CacheControl parseTargeted(List<String> fieldLines) {
        Map<String, StructuredFields.Member> dictionary = StructuredFields.parseDictionary(fieldLines);
        if (dictionary == null || dictionary.isEmpty()) {
            return null;
        }
        Parser parser = new Parser();
        parser.targeted = true;
        for (Map.Entry<String, StructuredFields.Member> member : dictionary.entrySet()) {
            if (!(member.getValue() instanceof StructuredFields.Item item)) {
                if (Parser.KNOWN.contains(member.getKey())) {
                    return null; // an inner list is no directive's value
                }
                continue;
            }
            if (!parser.applyTargeted(member.getKey(), item.value())) {
                return null;
            }
        }
        return new CacheControl(parser);
    }

    /** A freshness directive's seconds; an invalid value makes the response stale (§4.2.1). */
    private static long freshnessSeconds(String argument) {
        long seconds = deltaSeconds(argument);
        return seconds < 0 ? 0 : seconds;
    }

    /** Parses delta-seconds (§1.2.2): digits only, capped at 2^31; -1 when invalid or missing. */
    static long deltaSeconds(String argument) {
        if (argument == null || argument.isEmpty()) {
            return -1;
        }
        long value = 0;
        for (int i = 0; i < argument.length(); i++) {
            char c = argument.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
            if (value > DELTA_SECONDS_CAP) {
                value = DELTA_SECONDS_CAP; // keep reading to reject trailing garbage
            }
        }
        return value;
    }

    private static List<String> fieldNames(String argument) {
        List<String> names = new ArrayList<>(2);
        for (String name : argument.split(",")) {
            String trimmed = name.trim().toLowerCase(Locale.ROOT);
            if (!trimmed.isEmpty()) {
                names.add(trimmed);
            }
        }
        return names;
    }

    private static List<String> concat(List<String> a, List<String> b) {
        if (a.isEmpty()) {
            return List.copyOf(b);
        }
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return List.copyOf(all);
    }

    /**
     * Whether these directives come from a targeted field (RFC 9213), which then governs alone: the response's
     * {@code Cache-Control} and {@code Expires} are ignored (§2.1).
     */
    public boolean targeted() {
        return targeted;
    }

    /** Whether the field had any directive at all. */
    public boolean isPresent() {
        return present;
    }

    public boolean noStore() {
        return noStore;
    }

    /** Unqualified {@code no-cache}. */
    public boolean noCache() {
        return noCache;
    }

    /** The field names of qualified {@code no-cache="..."}, lower case; empty when none. */
    public List<String> noCacheFields() {
        return noCacheFields;
    }

    /** Unqualified {@code private}. */
    public boolean isPrivate() {
        return isPrivate;
    }

    /** The field names of qualified {@code private="..."}, lower case; empty when none. */
    public List<String> privateFields() {
        return privateFields;
    }

    public boolean isPublic() {
        return isPublic;
    }

    /** {@code max-age} seconds, -1 when absent. */
    public long maxAge() {
        return maxAge;
    }

    /** {@code s-maxage} seconds, -1 when absent. */
    public long sMaxAge() {
        return sMaxAge;
    }

    public boolean mustRevalidate() {
        return mustRevalidate;
    }

    public boolean proxyRevalidate() {
        return proxyRevalidate;
    }

    public boolean mustUnderstand() {
        return mustUnderstand;
    }

    public boolean noTransform() {
        return noTransform;
    }

    public boolean immutable() {
        return immutable;
    }

    /** {@code max-stale} seconds, {@link #ANY} without a value, -1 when absent. */
    public long maxStale() {
        return maxStale;
    }

    /** {@code min-fresh} seconds, -1 when absent. */
    public long minFresh() {
        return minFresh;
    }

    public boolean onlyIfCached() {
        return onlyIfCached;
    }

    /** RFC 5861 {@code stale-while-revalidate} seconds, -1 when absent. */
    public long staleWhileRevalidate() {
        return staleWhileRevalidate;
    }

    /** RFC 5861 {@code stale-if-error} seconds, -1 when absent. */
    public long staleIfError() {
        return staleIfError;
    }

    /**
     * Whether a shared cache may serve this response stale at all (RFC 9111 §4.2.4): not with
     * {@code must-revalidate}, {@code proxy-revalidate}, {@code s-maxage} (which implies proxy-revalidate
     * for shared caches, §5.2.2.10) or unqualified {@code no-cache}.
     */
    public boolean forbidsStale() {
        return mustRevalidate || proxyRevalidate || sMaxAge >= 0 || noCache;
    }

    /** Mutable state while parsing; {@link CacheControl} itself is immutable, so it may be cached racily. */
    private static final class Parser {
        boolean present;
        boolean noStore;
        boolean noCache;
        List<String> noCacheFields = List.of();
        boolean isPrivate;
        List<String> privateFields = List.of();
        boolean isPublic;
        long maxAge = -1;
        long sMaxAge = -1;
        boolean mustRevalidate;
        boolean proxyRevalidate;
        boolean mustUnderstand;
        boolean noTransform;
        boolean immutable;
        long maxStale = -1;
        long minFresh = -1;
        boolean onlyIfCached;
        long staleWhileRevalidate = -1;
        long staleIfError = -1;
        boolean targeted;

        /** The directives {@link #applyTargeted} checks the type of; others are ignored whatever they hold. */
        static final java.util.Set<String> KNOWN = java.util.Set.of(
                "max-age",
                "s-maxage",
                "stale-while-revalidate",
                "stale-if-error",
                "no-cache",
                "private",
                "no-store",
                "public",
                "must-revalidate",
                "proxy-revalidate",
                "must-understand",
                "no-transform",
                "immutable");

        /**
         * One member of a targeted field; {@code false} when a known directive has a value of the wrong type
         * (RFC 9213 §2.2: such a field is invalid and ignored whole).
         */
        private boolean applyTargeted(String name, Object value) {
            switch (name) {
                case "max-age", "s-maxage", "stale-while-revalidate", "stale-if-error" -> {
                    if (!(value instanceof Long seconds) || seconds < 0) {
                        return false;
                    }
                    long capped = Math.min(seconds, DELTA_SECONDS_CAP);
                    switch (name) {
                        case "max-age" -> maxAge = maxAge >= 0 ? maxAge : capped;
                        case "s-maxage" -> sMaxAge = sMaxAge >= 0 ? sMaxAge : capped;
                        case "stale-while-revalidate" -> staleWhileRevalidate = capped;
                        default -> staleIfError = capped;
                    }
                    present = true;
                    return true;
                }
                case "no-cache", "private" -> {
                    if (value instanceof String fields) {
                        apply(name, fields);
                        return true;
                    }
                    if (Boolean.TRUE.equals(value)) {
                        apply(name, null);
                        return true;
                    }
                    return false;
                }
                default -> {
                    if (KNOWN.contains(name)) {
                        if (!Boolean.TRUE.equals(value)) {
                            return false;
                        }
                        apply(name, null);
                    }
                    return true; // an extension: ignored (RFC 9111 §5.2.3)
                }
            }
        }

        private void parseInto(String s) {
            int i = 0;
            int n = s.length();
            while (i < n) {
                char c = s.charAt(i);
                if (c == ',' || c == ' ' || c == '\t') {
                    i++;
                    continue;
                }
                int nameStart = i;
                while (i < n && (c = s.charAt(i)) != '=' && c != ',' && c != ' ' && c != '\t' && c != ';') {
                    i++;
                }
                String name = s.substring(nameStart, i).toLowerCase(Locale.ROOT);
                while (i < n && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) {
                    i++;
                }
                String argument = null;
                if (i < n && s.charAt(i) == '=') {
                    i++;
                    while (i < n && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) {
                        i++;
                    }
                    if (i < n && s.charAt(i) == '"') {
                        StringBuilder quoted = new StringBuilder();
                        i++;
                        while (i < n && (c = s.charAt(i)) != '"') {
                            if (c == '\\' && i + 1 < n) {
                                i++;
                                c = s.charAt(i);
                            }
                            quoted.append(c);
                            i++;
                        }
                        i++; // the closing quote, if any
                        argument = quoted.toString();
                    } else {
                        int argStart = i;
                        while (i < n && s.charAt(i) != ',') {
                            i++;
                        }
                        argument = s.substring(argStart, i).trim();
                    }
                }
                while (i < n && s.charAt(i) != ',') {
                    i++; // anything after a directive up to the next comma is not ours to understand
                }
                apply(name, argument);
            }
        }

        private void apply(String name, String argument) {
            present = true;
            switch (name) {
                case "no-store" -> noStore = true;
                case "no-cache" -> {
                    if (argument == null) {
                        noCache = true;
                    } else {
                        noCacheFields = concat(noCacheFields, fieldNames(argument));
                    }
                }
                case "private" -> {
                    if (argument == null) {
                        isPrivate = true;
                    } else {
                        privateFields = concat(privateFields, fieldNames(argument));
                    }
                }
                case "public" -> isPublic = true;
                case "max-age" -> maxAge = maxAge >= 0 ? maxAge : freshnessSeconds(argument);
                case "s-maxage" -> sMaxAge = sMaxAge >= 0 ? sMaxAge : freshnessSeconds(argument);
                case "must-revalidate" -> mustRevalidate = true;
                case "proxy-revalidate" -> proxyRevalidate = true;
                case "must-understand" -> mustUnderstand = true;
                case "no-transform" -> noTransform = true;
                case "immutable" -> immutable = true;
                case "max-stale" -> {
                    if (maxStale < 0) {
                        maxStale = argument == null ? ANY : deltaSeconds(argument);
                    }
                }
                case "min-fresh" -> minFresh = minFresh >= 0 ? minFresh : deltaSeconds(argument);
                case "only-if-cached" -> onlyIfCached = true;
                case "stale-while-revalidate" ->
                    staleWhileRevalidate = staleWhileRevalidate >= 0 ? staleWhileRevalidate : deltaSeconds(argument);
                case "stale-if-error" -> staleIfError = staleIfError >= 0 ? staleIfError : deltaSeconds(argument);
                default -> {
                    // an extension we do not know: ignored, as RFC 9111 §5.2.3 asks
                }
            }
        }
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("CacheControl[");
        if (noStore) b.append("no-store ");
        if (noCache) b.append("no-cache ");
        if (!noCacheFields.isEmpty())
            b.append("no-cache=").append(noCacheFields).append(' ');
        if (isPrivate) b.append("private ");
        if (!privateFields.isEmpty()) b.append("private=").append(privateFields).append(' ');
        if (isPublic) b.append("public ");
        if (maxAge >= 0) b.append("max-age=").append(maxAge).append(' ');
        if (sMaxAge >= 0) b.append("s-maxage=").append(sMaxAge).append(' ');
        if (mustRevalidate) b.append("must-revalidate ");
        if (proxyRevalidate) b.append("proxy-revalidate ");
        if (maxStale >= 0)
            b.append("max-stale=").append(maxStale == ANY ? "any" : maxStale).append(' ');
        if (minFresh >= 0) b.append("min-fresh=").append(minFresh).append(' ');
        if (onlyIfCached) b.append("only-if-cached ");
        if (staleWhileRevalidate >= 0)
            b.append("stale-while-revalidate=").append(staleWhileRevalidate).append(' ');
        if (staleIfError >= 0) b.append("stale-if-error=").append(staleIfError).append(' ');
        if (targeted) b.append("(targeted) ");
        return b.toString().trim() + "]";
    }
}
