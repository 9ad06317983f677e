package dev.proxyfilter.cache;

import java.util.ArrayList;
import java.util.List;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;

/**
 * The values of one field name, as {@link HttpFields#getValuesList} gives them, read by index: Jetty's default
 * walks the fields with an iterator and fills a new list even when the name is absent, which is the usual case
 * for the fields the cache asks about on every request ({@code Cache-Control} of a request, the targeted
 * cache-control fields, {@code Vary}). Absent, this allocates nothing.
 */
final class FieldValues {
    private FieldValues() {}

    /** The values of the fields whose header is {@code header}, in order; immutable. */
    static List<String> of(HttpFields fields, HttpHeader header) {
        List<String> values = List.of();
        for (int i = 0, size = fields.size(); i < size; i++) {
            HttpField field = fields.getField(i);
            if (field.getHeader() == header) {
                values = add(values, field.getValue());
            }
        }
        return values;
    }

    /** The values of the fields named {@code name} (case-insensitive), in order; immutable. */
    static List<String> of(HttpFields fields, String name) {
        List<String> values = List.of();
        for (int i = 0, size = fields.size(); i < size; i++) {
            HttpField field = fields.getField(i);
            if (field.is(name)) {
                values = add(values, field.getValue());
            }
        }
        return values;
    }

    private static List<String> add(List<String> values, String value) {
        if (values.isEmpty()) {
            return value == null ? java.util.Collections.singletonList(null) : List.of(value); // the usual one
        }
        List<String> more = new ArrayList<>(values.size() + 2);
        more.addAll(values);
        more.add(value);
        return more;
    }
}
