package dev.proxyfilter.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.proxyfilter.http.StructuredFields.InnerList;
import dev.proxyfilter.http.StructuredFields.Item;
import dev.proxyfilter.http.StructuredFields.Token;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** RFC 8941 §4.2, strictly: each type, and the inputs the algorithms must fail on. */
class StructuredFieldsTest {

    @Test
    void section4_2_2_aDictionaryOfEveryBareItemType() {
        Map<String, StructuredFields.Member> d =
                StructuredFields.parseDictionary("a=1, b=-2.5, c=\"x\\\"y\", d=tok/en:1, e=:aGk=:, f=?0, g, h;p=1;q");

        assertThat(d).containsOnlyKeys("a", "b", "c", "d", "e", "f", "g", "h");
        assertThat(((Item) d.get("a")).value()).isEqualTo(1L);
        assertThat(((Item) d.get("b")).value()).isEqualTo(new BigDecimal("-2.5"));
        assertThat(((Item) d.get("c")).value()).isEqualTo("x\"y");
        assertThat(((Item) d.get("d")).value()).isEqualTo(new Token("tok/en:1"));
        assertThat((byte[]) ((Item) d.get("e")).value()).containsExactly('h', 'i');
        assertThat(((Item) d.get("f")).value()).isEqualTo(false);
        assertThat(((Item) d.get("g")).value()).isEqualTo(true);
        assertThat(d.get("h").params()).containsEntry("p", 1L).containsEntry("q", true);
    }

    @Test
    void section4_2_2_aRepeatedKeyKeepsItsLastValue() {
        assertThat(((Item) StructuredFields.parseDictionary("max-age=1, max-age=2")
                                .get("max-age"))
                        .value())
                .isEqualTo(2L);
    }

    @Test
    void section4_2_1_2_innerLists() {
        Map<String, StructuredFields.Member> d = StructuredFields.parseDictionary("a=(1 \"b\" c);x, z=()");

        assertThat(((InnerList) d.get("a")).items()).extracting(Item::value).containsExactly(1L, "b", new Token("c"));
        assertThat(d.get("a").params()).containsKey("x");
        assertThat(((InnerList) d.get("z")).items()).isEmpty();
    }

    @Test
    void section4_2_fieldLinesAreJoinedAndAnEmptyFieldIsAnEmptyDictionary() {
        assertThat(StructuredFields.parseDictionary(List.of("a=1", "b=2"))).containsOnlyKeys("a", "b");
        assertThat(StructuredFields.parseDictionary("")).isEmpty();
        assertThat(StructuredFields.parseDictionary("   ")).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "a=1,", // trailing comma
                "a=1,,b=2",
                "A=1", // keys are lower case
                "1a=1",
                "a=1 b=2",
                "a=1234567890123456", // 16 digits
                "a=1234567890123.5", // 13 integer digits in a decimal
                "a=1.2345",
                "a=1.",
                "a=-",
                "a=--1",
                "a=\"unterminated",
                "a=\"bad \\n escape\"",
                "a=\"tab\there\"",
                "a=\"é\"",
                "a=:not base64!:",
                "a=:aGk=", // unterminated byte sequence
                "a=?2",
                "a=@1659578233", // an RFC 9651 Date: not RFC 8941
                "a=%\"display\"",
                "a=(1 2",
                "a=(1,2)",
                "a=1;",
                "a=1;B=2",
                "\ta=1", // only SP before the top level
                "a==1",
                "a=",
                ",a=1",
            })
    void section4_2_invalidInputsFailWhole(String value) {
        assertThat(StructuredFields.parseDictionary(value)).as(value).isNull();
    }

    @Test
    void section4_2_listsAndItems() {
        assertThat(StructuredFields.parseList("1, (a b), ?1")).hasSize(3);
        assertThat(StructuredFields.parseList("1,")).isNull();
        assertThat(StructuredFields.parseItem("  42;x  ").value()).isEqualTo(42L);
        assertThat(StructuredFields.parseItem("42 43")).isNull();
    }
}
