package dev.relay.transport;

import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A listener's own client timeouts win over the service's; the options are a validated value. */
@Timeout(30)
class ListenerOptionsTest {

    @Test
    void aListenerWithItsOwnHeaderTimeoutAnswers408WhileTheServiceDefaultIsLong() throws Exception {
        try (TestOrigin origin = TestOrigin.builder().name("a").build().start()) {
            ProxyFixture.SimpleProxy proxy = new ProxyFixture.SimpleProxy(origin.address());
            try (ProxyFixture fixture = new ProxyFixture(proxy)) {
                InetSocketAddress strict = fixture.server.bind("127.0.0.1:0",
                        ListenerOptions.builder().headerReadTimeout(Duration.ofMillis(200)).build());
                try (Socket socket = new Socket(strict.getAddress(), strict.getPort())) {
                    socket.setSoTimeout(10_000);
                    socket.getOutputStream().write("GET /small HT".getBytes(StandardCharsets.ISO_8859_1));
                    InputStream in = socket.getInputStream();
                    String answer = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
                    assertTrue(answer.startsWith("HTTP/1.1 408"), answer);
                }
            }
        }
    }

    @Test
    void unsetSettingsInheritTheServiceOnes() {
        ProxyOptions service = ProxyOptions.builder().headerReadTimeout(Duration.ofSeconds(7))
                .keepAliveTimeout(Duration.ofSeconds(8)).bodyReadTimeout(Duration.ofSeconds(9)).build();
        ListenerOptions own = ListenerOptions.builder().keepAliveTimeout(Duration.ofSeconds(2)).build();

        assertNull(own.headerReadTimeout());
        assertEquals(Duration.ofSeconds(7), own.headerReadTimeoutOr(service));
        assertEquals(Duration.ofSeconds(2), own.keepAliveTimeoutOr(service));
        assertEquals(Duration.ofSeconds(9), ListenerOptions.inherit().bodyReadTimeoutOr(service));
    }

    @Test
    void equalSettingsMakeEqualOptions() {
        ListenerOptions a = ListenerOptions.builder().headerReadTimeout(Duration.ofSeconds(10)).build();
        ListenerOptions b = ListenerOptions.builder().headerReadTimeout(Duration.ofSeconds(10)).build();

        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, ListenerOptions.inherit());
        assertEquals(ListenerOptions.inherit(), ListenerOptions.builder().build());
        assertSame(ListenerOptions.inherit(), ListenerOptions.inherit());
        assertEquals(a, a.toBuilder().build());
        assertEquals(ListenerOptions.inherit(), a.toBuilder().headerReadTimeout(null).build());
        assertEquals("ListenerOptions{headerReadTimeout=PT10S, keepAliveTimeout=inherit, bodyReadTimeout=inherit}",
                a.toString());
    }

    @Test
    void buildRejectsTimeoutsThatAreNotPositive() {
        ListenerOptions.Builder zero = ListenerOptions.builder().keepAliveTimeout(Duration.ZERO);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, zero::build);
        assertEquals("keepAliveTimeout: PT0S (expected: > 0, or null to inherit)", e.getMessage());

        ListenerOptions.Builder negative = ListenerOptions.builder().bodyReadTimeout(Duration.ofSeconds(-1));
        e = assertThrows(IllegalArgumentException.class, negative::build);
        assertEquals("bodyReadTimeout: PT-1S (expected: > 0, or null to inherit)", e.getMessage());
    }
}
