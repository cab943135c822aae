package dev.relay.core.cache;

import dev.relay.core.RequestHeader;
import dev.relay.core.Session;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

/** What a response is stored under (RFC 9111 §4.1; the host in the key keeps virtual hosts apart). */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class CacheKeyTest {

    private static Session session(boolean tls, String target, @Nullable String host) {
        RequestHeader request = RequestHeader.of("GET", target);
        if (host != null) {
            request.headers().add("Host", host);
        }
        Session session = mock(Session.class);
        when(session.requestHeader()).thenReturn(request);
        when(session.isTls()).thenReturn(tls);
        return session;
    }

    @Test
    void defaultKeyHoldsSchemeHostAndTargetWithItsQuery() {
        CacheKey key = CacheKey.of(session(false, "/a/B?x=1&y=2", "Example.COM:8080"));

        assertEquals("http://example.com:8080/a/B?x=1&y=2", key.primary());
        assertNull(key.variance());
    }

    @Test
    void aTlsRequestIsKeyedUnderHttps() {
        assertEquals("https://example.com/p", CacheKey.of(session(true, "/p", "example.com")).primary());
    }

    @Test
    void twoVirtualHostsNeverShareAKey() {
        assertNotEquals(CacheKey.of(session(false, "/p", "a.example")), CacheKey.of(session(false, "/p", "b.example")));
        assertNotEquals(CacheKey.of(session(false, "/p?q=1", "a.example")), CacheKey.of(session(false, "/p?q=2", "a.example")));
    }

    @Test
    void anAbsoluteFormTargetIsTakenAsItIsWithItsAuthorityInLowerCase() {
        assertEquals("http://example.com/Path?q=A", CacheKey.of(session(false, "HTTP://Example.com/Path?q=A", "other")).primary());
        assertEquals("https://example.com/", CacheKey.of(session(false, "https://Example.com", null)).primary());
    }

    @Test
    void anAbsoluteUriMakesTheKeyItsAbsoluteFormTargetWould() {
        assertEquals("http://example.com/Path?q=A", CacheKey.ofAbsoluteUri("HTTP://Example.com/Path?q=A").primary());
        assertEquals("https://example.com/", CacheKey.ofAbsoluteUri("https://Example.com").primary());
        assertEquals("Custom:Key", CacheKey.ofAbsoluteUri("Custom:Key").primary());
    }

    @Test
    void storageKeyAppendsTheVarianceAfterTheSeparator() {
        CacheKey key = CacheKey.of("http://h/p").withVariance("accept-encoding: gzip");

        assertEquals("http://h/p\u0000accept-encoding: gzip", key.storageKey());
        assertTrue(key.storageKey().startsWith(key.variantPrefix()));
        assertEquals("http://h/p", CacheKey.of("http://h/p").storageKey());
        assertEquals("http://h/p", key.withVariance(null).storageKey());
    }

    @Test
    void aVariantPrefixDoesNotMatchALongerPath() {
        CacheKey page = CacheKey.of("http://h/p");

        assertFalse(CacheKey.of("http://h/p2").withVariance("a:").storageKey().startsWith(page.variantPrefix()));
    }

    @Test
    void toStringShowsTheVarianceOnOneLine() {
        CacheKey key = CacheKey.of("http://h/p").withVariance("a: 1\nb: 2");

        assertEquals("http://h/p (variant a: 1;b: 2)", key.toString());
    }
}
