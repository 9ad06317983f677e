package dev.proxyfilter.http;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict parser of Structured Field Values for HTTP (RFC 8941): Dictionaries and Lists, with their Items,
 * Inner Lists and Parameters, exactly as the parsing algorithms of RFC 8941 §4.2 describe them. Nothing
 * lenient: a value the algorithm fails on gives {@code null}, never an exception, and never a partial
 * result, because a recipient must ignore a field it cannot parse whole (§4.2, and RFC 9213 §2.2 for
 * targeted cache control). The types of RFC 9651 that RFC 8941 lacks (Date, Display String) fail too.
 *
 * <p>Bare item types map to Java as: Integer to {@link Long}, Decimal to {@link BigDecimal}, String to
 * {@link String}, Token to {@link Token}, Byte Sequence to {@code byte[]}, Boolean to {@link Boolean}.
 * Parameters and dictionaries keep their insertion order; a repeated key keeps its first position and its
 * last value (§4.2.2, §4.2.3.2).
 */
public final class StructuredFields {
    /** The 64-bit-safe limit of an Integer: at most 15 digits (RFC 8941 §3.3.1). */
    private static final int INTEGER_DIGITS = 15;

    private StructuredFields() {}

    /** A Token bare item (RFC 8941 §3.3.4), kept apart from a String of the same characters. */
    public record Token(String value) {}

    /** A dictionary value or list member: an {@link Item} or an {@link InnerList}. */
    public sealed interface Member permits Item, InnerList {
        /** The member's parameters, in order; empty when none. */
        Map<String, Object> params();
    }

    /**
     * An Item: a bare item and its parameters.
     *
     * @param value  {@link Long}, {@link BigDecimal}, {@link String}, {@link Token}, {@code byte[]} or {@link Boolean}
     * @param params the parameters, each a bare item
     */
    public record Item(Object value, Map<String, Object> params) implements Member {}

    /** An Inner List: items in parentheses, and the list's own parameters. */
    public record InnerList(List<Item> items, Map<String, Object> params) implements Member {}

    /**
     * Parses the field lines of a Dictionary field, combined as RFC 8941 §4.2 says (joined with commas).
     *
     * @return the members by key, in order (empty for an empty field); {@code null} when the value does not parse
     */
    public static Map<String, Member> parseDictionary(List<String> fieldLines) {
        if (fieldLines == null || fieldLines.isEmpty()) {
            return null;
        }
        return parseDictionary(String.join(",", fieldLines));
    }

    /**
     * Parses one Dictionary field value.
     *
     * @return the members by key, in order (empty for an empty field); {@code null} when the value does not parse
     */
    public static Map<String, Member> parseDictionary(String value) {
        if (value == null) {
            return null;
        }
        Parser p = new Parser(value);
        try {
            p.skipSp();
            Map<String, Member> dictionary = p.dictionary();
            p.skipSp();
            return p.atEnd() ? Collections.unmodifiableMap(dictionary) : null;
        } catch (Failure e) {
            return null;
        }
    }

    /**
     * Parses one List field value.
     *
     * @return the members, in order (empty for an empty field); {@code null} when the value does not parse
     */
    public static List<Member> parseList(String value) {
        if (value == null) {
            return null;
        }
        Parser p = new Parser(value);
        try {
            p.skipSp();
            List<Member> list = p.list();
            p.skipSp();
            return p.atEnd() ? Collections.unmodifiableList(list) : null;
        } catch (Failure e) {
            return null;
        }
    }

    /**
     * Parses one Item field value.
     *
     * @return the item; {@code null} when the value does not parse
     */
    public static Item parseItem(String value) {
        if (value == null) {
            return null;
        }
        Parser p = new Parser(value);
        try {
            p.skipSp();
            Item item = p.item();
            p.skipSp();
            return p.atEnd() ? item : null;
        } catch (Failure e) {
            return null;
        }
    }

    /** Thrown inside the parser only; callers get {@code null}. Stackless: failures are ordinary input. */
    private static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;
        static final Failure INSTANCE = new Failure();

        private Failure() {
            super(null, null, false, false);
        }
    }

    /** The algorithms of RFC 8941 §4.2, one method each, over one string. */
    private static final class Parser {
        private final String s;
        private int i;

        Parser(String s) {
            this.s = s;
        }

        boolean atEnd() {
            return i >= s.length();
        }

        private char peek() {
            return i < s.length() ? s.charAt(i) : '\0';
        }

        void skipSp() {
            while (i < s.length() && s.charAt(i) == ' ') {
                i++;
            }
        }

        private void skipOws() {
            while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) {
                i++;
            }
        }

        private static Failure fail() {
            return Failure.INSTANCE;
        }

        /** §4.2.2. */
        Map<String, Member> dictionary() throws Failure {
            Map<String, Member> dictionary = new LinkedHashMap<>();
            while (!atEnd()) {
                String key = key();
                Member member;
                if (peek() == '=') {
                    i++;
                    member = itemOrInnerList();
                } else {
                    member = new Item(Boolean.TRUE, parameters());
                }
                dictionary.put(key, member);
                skipOws();
                if (atEnd()) {
                    return dictionary;
                }
                if (s.charAt(i) != ',') {
                    throw fail();
                }
                i++;
                skipOws();
                if (atEnd()) {
                    throw fail(); // a trailing comma
                }
            }
            return dictionary;
        }

        /** §4.2.1. */
        List<Member> list() throws Failure {
            List<Member> members = new ArrayList<>();
            while (!atEnd()) {
                members.add(itemOrInnerList());
                skipOws();
                if (atEnd()) {
                    return members;
                }
                if (s.charAt(i) != ',') {
                    throw fail();
                }
                i++;
                skipOws();
                if (atEnd()) {
                    throw fail();
                }
            }
            return members;
        }

        /** §4.2.1.1. */
        private Member itemOrInnerList() throws Failure {
            return peek() == '(' ? innerList() : item();
        }

        /** §4.2.1.2. */
        private InnerList innerList() throws Failure {
            i++; // '('
            List<Item> items = new ArrayList<>();
            while (!atEnd()) {
                skipSp();
                if (peek() == ')') {
                    i++;
                    return new InnerList(List.copyOf(items), parameters());
                }
                items.add(item());
                char c = peek();
                if (c != ' ' && c != ')') {
                    throw fail();
                }
            }
            throw fail(); // no closing parenthesis
        }

        /** §4.2.3. */
        Item item() throws Failure {
            Object bare = bareItem();
            return new Item(bare, parameters());
        }

        /** §4.2.3.1. */
        private Object bareItem() throws Failure {
            char c = peek();
            if (c == '-' || isDigit(c)) {
                return number();
            }
            if (c == '"') {
                return string();
            }
            if (isAlpha(c) || c == '*') {
                return token();
            }
            if (c == ':') {
                return byteSequence();
            }
            if (c == '?') {
                return bool();
            }
            throw fail();
        }

        /** §4.2.3.2. */
        private Map<String, Object> parameters() throws Failure {
            Map<String, Object> params = null;
            while (peek() == ';') {
                i++;
                skipSp();
                String key = key();
                Object value = Boolean.TRUE;
                if (peek() == '=') {
                    i++;
                    value = bareItem();
                }
                if (params == null) {
                    params = new LinkedHashMap<>();
                }
                params.put(key, value);
            }
            return params == null ? Map.of() : Collections.unmodifiableMap(params);
        }

        /** §4.2.3.3. */
        private String key() throws Failure {
            char c = peek();
            if (!isLcAlpha(c) && c != '*') {
                throw fail();
            }
            int start = i;
            while (!atEnd()) {
                c = s.charAt(i);
                if (!isLcAlpha(c) && !isDigit(c) && c != '_' && c != '-' && c != '.' && c != '*') {
                    break;
                }
                i++;
            }
            return s.substring(start, i);
        }

        /** §4.2.4. */
        private Object number() throws Failure {
            boolean negative = false;
            if (peek() == '-') {
                negative = true;
                i++;
            }
            if (!isDigit(peek())) {
                throw fail();
            }
            int start = i;
            int dot = -1;
            while (!atEnd()) {
                char c = s.charAt(i);
                if (isDigit(c)) {
                    i++;
                } else if (c == '.' && dot < 0) {
                    if (i - start > 12) {
                        throw fail();
                    }
                    dot = i;
                    i++;
                } else {
                    break;
                }
                int length = i - start;
                if (dot < 0 ? length > INTEGER_DIGITS : length > 16) {
                    throw fail();
                }
            }
            String digits = s.substring(start, i);
            if (dot < 0) {
                long value = Long.parseLong(digits); // at most 15 digits: cannot overflow
                return negative ? -value : value;
            }
            int fraction = i - dot - 1;
            if (fraction < 1 || fraction > 3) {
                throw fail(); // "1." and more than three fractional digits
            }
            BigDecimal value = new BigDecimal(digits);
            return negative ? value.negate() : value;
        }

        /** §4.2.5. */
        private String string() throws Failure {
            i++; // '"'
            StringBuilder out = new StringBuilder();
            while (!atEnd()) {
                char c = s.charAt(i++);
                if (c == '\\') {
                    if (atEnd()) {
                        throw fail();
                    }
                    char next = s.charAt(i++);
                    if (next != '"' && next != '\\') {
                        throw fail();
                    }
                    out.append(next);
                } else if (c == '"') {
                    return out.toString();
                } else if (c < 0x20 || c > 0x7e) {
                    throw fail();
                } else {
                    out.append(c);
                }
            }
            throw fail(); // no closing quote
        }

        /** §4.2.6. */
        private Token token() throws Failure {
            int start = i;
            i++; // ALPHA or '*', checked by the caller
            while (!atEnd()) {
                char c = s.charAt(i);
                if (!isTchar(c) && c != ':' && c != '/') {
                    break;
                }
                i++;
            }
            return new Token(s.substring(start, i));
        }

        /** §4.2.7. */
        private byte[] byteSequence() throws Failure {
            i++; // ':'
            int start = i;
            while (!atEnd() && s.charAt(i) != ':') {
                char c = s.charAt(i);
                if (!isAlpha(c) && !isDigit(c) && c != '+' && c != '/' && c != '=') {
                    throw fail();
                }
                i++;
            }
            if (atEnd()) {
                throw fail();
            }
            String base64 = s.substring(start, i);
            i++; // ':'
            try {
                return Base64.getDecoder().decode(base64);
            } catch (IllegalArgumentException e) {
                throw fail();
            }
        }

        /** §4.2.8. */
        private Boolean bool() throws Failure {
            i++; // '?'
            char c = peek();
            if (c == '1') {
                i++;
                return Boolean.TRUE;
            }
            if (c == '0') {
                i++;
                return Boolean.FALSE;
            }
            throw fail();
        }

        private static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }

        private static boolean isLcAlpha(char c) {
            return c >= 'a' && c <= 'z';
        }

        private static boolean isAlpha(char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        }

        /** RFC 9110 §5.6.2 tchar. */
        private static boolean isTchar(char c) {
            return isAlpha(c) || isDigit(c) || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
        }
    }
}
