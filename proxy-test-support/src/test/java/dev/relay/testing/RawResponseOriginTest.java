package dev.relay.testing;

import dev.relay.testing.RawResponseOrigin.Delivery;
import dev.relay.testing.RawResponseOrigin.Reply;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link RawResponseOrigin} seen from a raw socket. */
@Timeout(30)
class RawResponseOriginTest {
    private static final String MALFORMED = "HTTP/1.1 2000 Nonsense\r\nContent-Length: 2\r\n\r\nokEXTRA";

    @ParameterizedTest
    @EnumSource(Delivery.class)
    void writesTheReplyByteForByteAndServesTheNextRequestOnTheSameConnection(Delivery delivery) throws Exception {
        try (RawResponseOrigin origin = RawResponseOrigin.start(delivery, request -> Reply.keepOpen(MALFORMED));
             RawHttpConnection client = new RawHttpConnection(origin.port())) {
            client.send("POST /a HTTP/1.1\r\nHost: o\r\nContent-Length: 3\r\n\r\nabc");
            assertEquals(MALFORMED, new String(client.readBytes(MALFORMED.length()),
                    java.nio.charset.StandardCharsets.ISO_8859_1));
            client.send("GET /b HTTP/1.1\r\nHost: o\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n");
            client.readBytes(MALFORMED.length());
            origin.awaitRepliesFinished(2, Duration.ofSeconds(5));
            List<RawResponseOrigin.Request> seen = origin.requests();
            assertEquals(List.of("POST /a 1 3", "GET /b 1 2"), seen.stream()
                    .map(r -> r.method() + " " + r.target() + " " + r.connection() + " " + r.bodyBytes()).toList());
            assertEquals("o", seen.get(0).header("host"));
        }
    }

    @Test
    void closesAfterAReplyThatSaysSoAndNumbersTheNextConnection() throws Exception {
        try (RawResponseOrigin origin = RawResponseOrigin.start(Delivery.WHOLE,
                request -> Reply.thenClose("HTTP/1.1 200 OK\r\n\r\nuntil close"))) {
            for (int i = 0; i < 2; i++) {
                try (RawHttpConnection client = new RawHttpConnection(origin.port())) {
                    client.send("GET / HTTP/1.1\r\nHost: o\r\n\r\n");
                    assertTrue(client.readToEnd().endsWith("\r\n\r\nuntil close"));
                }
            }
            assertEquals(2, origin.connectionsAccepted());
            assertEquals(2, origin.requests().get(1).connection());
        }
    }
}
