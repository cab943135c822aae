package dev.relay.filters.redis;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RedisUriTest {
    @Test
    void readsHostPortUserPasswordAndDatabase() {
        RedisUri uri = RedisUri.parse("redis://relay:p%40ss@cache.internal:6380/4");
        assertEquals("cache.internal", uri.host());
        assertEquals(6380, uri.port());
        assertEquals("relay", uri.user());
        assertEquals("p@ss", uri.password());
        assertEquals(4, uri.database());
    }

    @Test
    void defaultsPortAndDatabaseAndReadsALonePasswordEitherWay() {
        RedisUri plain = RedisUri.parse("redis://127.0.0.1");
        assertEquals(RedisUri.DEFAULT_PORT, plain.port());
        assertEquals(0, plain.database());
        assertNull(plain.user());
        assertNull(plain.password());
        assertEquals("s3cret", RedisUri.parse("redis://:s3cret@h").password());
        assertNull(RedisUri.parse("redis://:s3cret@h").user());
        assertEquals("s3cret", RedisUri.parse("redis://s3cret@h").password());
        assertEquals("::1", RedisUri.parse("redis://[::1]:7000").host());
    }

    @Test
    void rejectsWhatItCannotUseNamingTheProblem() {
        assertTrue(message("rediss://h:6379").contains("TLS"));
        assertTrue(message("http://h").contains("redis://"));
        assertTrue(message("redis://h/x").contains("database"));
        assertTrue(message("redis://h/-1").contains("database"));
        assertTrue(message("redis://h?timeout=1").contains("query"));
        assertTrue(message("redis:///0").contains("host"));
    }

    @Test
    void neverShowsThePassword() {
        RedisUri uri = RedisUri.parse("redis://relay:hunter2@h:1/2");
        assertEquals("redis://relay:***@h:1/2", uri.toString());
        assertFalse(message("redis://u:hunter2@h/x").contains("hunter2"));
    }

    private static String message(String uri) {
        return assertThrows(IllegalArgumentException.class, () -> RedisUri.parse(uri)).getMessage();
    }
}
