package dev.relay.filters.internal;

import dev.relay.core.FilterSettings.InvalidSettingException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SettingErrorsTest {
    private static InvalidSettingException refused(String key, RuntimeException refusal) {
        return assertThrows(InvalidSettingException.class, () -> SettingErrors.apply(key, () -> {
            throw refusal;
        }));
    }

    @Test
    void theBuildersNameOfTheValueGivesWayToTheKey() {
        InvalidSettingException same = refused("max-body", new IllegalArgumentException("max-body: 1GiB (expected: 0 to 64MiB)"));
        assertEquals("max-body", same.key());
        assertEquals("max-body: 1GiB (expected: 0 to 64MiB)", same.getMessage());
        assertEquals("rules[1]: 'permit 10.0.0.0/8' (expected: allow or deny)",
                refused("rules[1]", new IllegalArgumentException("rule: 'permit 10.0.0.0/8' (expected: allow or deny)")).getMessage());
        assertEquals("zstd-level: 22 (expected: 1 to 19)",
                refused("zstd-level", new IllegalArgumentException("zstd level: 22 (expected: 1 to 19)")).getMessage());
    }

    @Test
    void aMessageThatStartsWithAValueIsKeptWhole() {
        assertEquals("types: 'a: b' (expected: type/subtype)",
                refused("types", new IllegalArgumentException("'a: b' (expected: type/subtype)")).getMessage());
        assertEquals("zstd-level: 5000000000 (expected: a small integer)",
                refused("zstd-level", new IllegalArgumentException("5000000000 (expected: a small integer)")).getMessage());
        assertEquals("key: deflate is only decoded",
                refused("key", new IllegalArgumentException("deflate is only decoded")).getMessage());
    }

    @Test
    void aBuildersStateErrorIsTheKeysToo() {
        InvalidSettingException e = refused("upstream", new IllegalStateException("upstream: 'nowhere' (expected one of: web)"));
        assertEquals("upstream: 'nowhere' (expected one of: web)", e.getMessage());
        assertEquals("upstream", SettingErrors.naming("upstream", new IllegalStateException("upstream: x")).key());
    }

    @Test
    void aSettingErrorRaisedInsideTheCallPassesAsItIs() {
        InvalidSettingException inner = new InvalidSettingException("encodings[2]", "'lz4' (expected: zstd, br or gzip)");
        assertSame(inner, refused("encodings", inner));
    }
}
