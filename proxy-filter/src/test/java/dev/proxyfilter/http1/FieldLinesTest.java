package dev.proxyfilter.http1;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.jetty.http.HostPortHttpField;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Header lines read strictly, and a repeated line's field given again: on the bytes a connection reads. */
class FieldLinesTest {
    /** Reads every line of {@code head} (lines ending in CRLF, then an empty line); null where a line is refused. */
    private static List<HttpField> read(FieldLines lines, String head) {
        ByteBuffer buffer = ByteBuffer.wrap(("XX" + head).getBytes(StandardCharsets.ISO_8859_1));
        buffer.position(2); // a head that does not start at 0, as in a buffer with bytes before it
        int end = FieldLines.headEnd(buffer, 2, buffer.limit());
        assertThat(end).as("the head's end").isEqualTo(buffer.limit());
        List<HttpField> fields = new ArrayList<>();
        int at = 2;
        while (at < end - 2) {
            int eol = FieldLines.lineEnd(buffer, at, end);
            HttpField field = eol < 0 ? null : lines.field(buffer, at, eol);
            fields.add(field);
            if (field == null) {
                lines.headAbandoned();
                return fields;
            }
            at = eol + 2;
        }
        lines.headDone();
        return fields;
    }

    @Test
    void aLineRepeatedInTheNextHeadGivesTheSameFieldAndAChangedOneANewOne() {
        FieldLines lines = new FieldLines();
        List<HttpField> first = read(lines, "Host: example.test:8080\r\nUser-Agent: wrk\r\nX-A: 1\r\n\r\n");
        List<HttpField> second = read(lines, "Host: example.test:8080\r\nUser-Agent: wrk\r\nX-A: 2\r\n\r\n");
        // Another order: found elsewhere in the previous head.
        List<HttpField> third = read(lines, "X-A: 2\r\nHost: example.test:8080\r\nUser-Agent: wrk\r\n\r\n");

        assertThat(second.get(0)).isSameAs(first.get(0));
        assertThat(second.get(1)).isSameAs(first.get(1));
        assertThat(second.get(2)).isNotSameAs(first.get(2));
        assertThat(second.get(2).getValue()).isEqualTo("2");
        assertThat(third.get(0)).isSameAs(second.get(2));
        assertThat(third.get(1)).isSameAs(first.get(0));
        assertThat(lines.made()).isEqualTo(4);
        assertThat(lines.reused()).isEqualTo(5);
    }

    @Test
    void onlyTheLastHeadIsRemembered() {
        FieldLines lines = new FieldLines();
        HttpField a = read(lines, "X-A: 1\r\n\r\n").get(0);
        read(lines, "X-B: 1\r\n\r\n");
        HttpField again = read(lines, "X-A: 1\r\n\r\n").get(0);
        assertThat(again).isNotSameAs(a).isEqualTo(a);
    }

    @Test
    void anAbandonedHeadLeavesThePreviousOneRemembered() {
        FieldLines lines = new FieldLines();
        HttpField host = read(lines, "Host: a\r\n\r\n").get(0);
        List<HttpField> refused = read(lines, "Host: a\r\nX-Bad : 1\r\n\r\n");
        assertThat(refused).hasSize(2).last().isNull();
        assertThat(read(lines, "Host: a\r\n\r\n").get(0)).isSameAs(host);
    }

    @Test
    void fieldsKnowTheirHeaderTrimTheirValueAndAKnownHeaderHasItsCanonicalName() {
        FieldLines lines = new FieldLines();
        List<HttpField> fields = read(
                lines,
                "content-TYPE:text/plain \t\r\nAccept:\t*/*\r\nX-Empty:\r\nX-Inner: a  b\r\nHost: [::1]:8080\r\n\r\n");
        assertThat(fields.get(0).getHeader()).isEqualTo(HttpHeader.CONTENT_TYPE);
        assertThat(fields.get(0).getName()).isSameAs(HttpHeader.CONTENT_TYPE.asString());
        assertThat(fields.get(0).getValue()).isEqualTo("text/plain");
        assertThat(fields.get(1).getName()).isSameAs(HttpHeader.ACCEPT.asString());
        assertThat(fields.get(1).getValue()).isEqualTo("*/*");
        assertThat(fields.get(2).getHeader()).isNull();
        assertThat(fields.get(2).getValue()).isEmpty();
        assertThat(fields.get(3).getValue()).isEqualTo("a  b");
        assertThat(fields.get(4)).isInstanceOf(HostPortHttpField.class);
        assertThat(((HostPortHttpField) fields.get(4)).getPort()).isEqualTo(8080);
    }

    /** What Jetty's parser decides on (it refuses some and accepts others under its compliance mode). */
    @ParameterizedTest
    @ValueSource(
            strings = {
                "X-A : 1", // space before the colon
                " X-A: 1", // obsolete line folding
                "X-A 1", // no colon
                ": 1", // no name
                "X(A): 1", // not a token
                "X-A: caf\u00e9", // obs-text
                "X-A: a\u0000b", // a control character
                "X-A: a\u007fb",
                "Host: a:99999", // a port out of range
                "Host: a:x"
            })
    void linesThatAreNotPlainAreLeftToJettysParser(String line) {
        assertThat(read(new FieldLines(), line + "\r\n\r\n")).containsExactly((HttpField) null);
    }

    @Test
    void aBareLineFeedEndsNoLineAndNoHead() {
        ByteBuffer buffer = ByteBuffer.wrap("X-A: 1\nX-B: 2\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        assertThat(FieldLines.lineEnd(buffer, 0, buffer.limit())).isEqualTo(-1);
        ByteBuffer bare = ByteBuffer.wrap("GET / HTTP/1.1\nHost: a\n\n".getBytes(StandardCharsets.ISO_8859_1));
        assertThat(FieldLines.headEnd(bare, 0, bare.limit())).isEqualTo(-1);
        ByteBuffer partial = ByteBuffer.wrap("GET / HTTP/1.1\r\nHost: a\r\n".getBytes(StandardCharsets.ISO_8859_1));
        assertThat(FieldLines.headEnd(partial, 0, partial.limit())).isEqualTo(-1);
    }

    @Test
    void aConnectionRemembersAtMostItsBoundOfLinesAndBytes() {
        FieldLines lines = new FieldLines();
        StringBuilder head = new StringBuilder();
        for (int i = 0; i < FieldLines.MAX_LINES + 8; i++) {
            head.append("X-").append(i).append(": ").append("v".repeat(20)).append("\r\n");
        }
        head.append("X-Big: ").append("b".repeat(FieldLines.MAX_BYTES)).append("\r\n\r\n");
        List<HttpField> first = read(lines, head.toString());
        List<HttpField> second = read(lines, head.toString());
        assertThat(second).hasSize(first.size()).doesNotContainNull();
        for (int i = 0; i < first.size(); i++) {
            assertThat(second.get(i)).as("line %d", i).isEqualTo(first.get(i));
            if (i < FieldLines.MAX_LINES) {
                assertThat(second.get(i)).as("line %d", i).isSameAs(first.get(i));
            } else {
                assertThat(second.get(i)).as("line %d", i).isNotSameAs(first.get(i));
            }
        }
    }

    @Test
    void aDirectBufferReadsTheSame() {
        byte[] bytes = "X-A: 1\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
        FieldLines lines = new FieldLines();
        HttpField field = lines.field(direct, 0, FieldLines.lineEnd(direct, 0, direct.limit()));
        assertThat(field.getName()).isEqualTo("X-A");
        assertThat(field.getValue()).isEqualTo("1");
    }
}
