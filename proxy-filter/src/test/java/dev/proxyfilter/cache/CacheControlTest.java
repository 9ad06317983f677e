package dev.proxyfilter.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Parsing {@code Cache-Control}: RFC 9111 §5.2 (directive syntax), §1.2.2 (delta-seconds), §4.2.1 (repeated
 * and invalid directives) and the RFC 5861 extensions. Lenient: it never throws.
 */
class CacheControlTest {

    @Test
    void directivesWithAndWithoutArguments() {
        CacheControl cc =
                CacheControl.parse("public, max-age=60, s-maxage=\"120\", must-revalidate, stale-while-revalidate=5,"
                        + " stale-if-error=7, immutable, no-transform, proxy-revalidate, must-understand");
        assertThat(cc.isPublic()).isTrue();
        assertThat(cc.maxAge()).isEqualTo(60);
        assertThat(cc.sMaxAge()).isEqualTo(120);
        assertThat(cc.mustRevalidate()).isTrue();
        assertThat(cc.proxyRevalidate()).isTrue();
        assertThat(cc.mustUnderstand()).isTrue();
        assertThat(cc.immutable()).isTrue();
        assertThat(cc.noTransform()).isTrue();
        assertThat(cc.staleWhileRevalidate()).isEqualTo(5);
        assertThat(cc.staleIfError()).isEqualTo(7);
        assertThat(cc.forbidsStale()).isTrue();
    }

    @Test
    void requestDirectives() {
        CacheControl cc = CacheControl.parse(List.of("max-stale", "min-fresh=3, only-if-cached, no-store"));
        assertThat(cc.maxStale()).isEqualTo(CacheControl.ANY);
        assertThat(cc.minFresh()).isEqualTo(3);
        assertThat(cc.onlyIfCached()).isTrue();
        assertThat(cc.noStore()).isTrue();
        assertThat(cc.maxAge()).isEqualTo(-1);
        assertThat(CacheControl.parse("max-stale=10").maxStale()).isEqualTo(10);
    }

    @Test
    void qualifiedNoCacheAndPrivateListFieldNames() {
        CacheControl cc = CacheControl.parse("no-cache=\"Set-Cookie, X-Secret\", private=X-User");
        assertThat(cc.noCache()).isFalse();
        assertThat(cc.noCacheFields()).containsExactly("set-cookie", "x-secret");
        assertThat(cc.isPrivate()).isFalse();
        assertThat(cc.privateFields()).containsExactly("x-user");

        CacheControl both = CacheControl.parse("no-cache=\"X\", no-cache");
        assertThat(both.noCache()).isTrue();
    }

    @Test
    void oddSpellingsAndGarbageNeverThrow() {
        CacheControl cc = CacheControl.parse("  MAX-AGE = 30 ,, ,unknown-ext=\"a,b\", no-store;x, max-age=99");
        assertThat(cc.maxAge()).isEqualTo(30);
        assertThat(cc.noStore()).isTrue();
        assertThat(CacheControl.parse("max-age=-5").maxAge()).isZero();
        assertThat(CacheControl.parse("max-age").maxAge()).isZero();
        assertThat(CacheControl.parse("min-fresh=x").minFresh()).isEqualTo(-1);
        assertThat(CacheControl.parse("\"unterminated").isPresent()).isTrue();
        assertThat(CacheControl.parse("no-cache=\"unterminated").noCacheFields())
                .containsExactly("unterminated");
        assertThat(CacheControl.parse((String) null)).isSameAs(CacheControl.NONE);
        assertThat(CacheControl.parse(List.of())).isSameAs(CacheControl.NONE);
        assertThat(CacheControl.NONE.isPresent()).isFalse();
    }

    @Test
    void deltaSecondsAreCappedAtTwoToTheThirtyFirst() {
        assertThat(CacheControl.parse("max-age=2147483648").maxAge()).isEqualTo(2_147_483_648L);
        assertThat(CacheControl.parse("max-age=2147483649").maxAge()).isEqualTo(2_147_483_648L);
        assertThat(CacheControl.parse("s-maxage=123456789012345678901234567890").sMaxAge())
                .isEqualTo(2_147_483_648L);
    }
}
