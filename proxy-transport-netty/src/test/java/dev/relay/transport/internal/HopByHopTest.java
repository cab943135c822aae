package dev.relay.transport.internal;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.relay.transport.internal.CompactHttpHeadersTest.fields;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The compact headers' fast path strips exactly what the general path does. */
class HopByHopTest {
    private static final String[][] MESSAGES = {
            {"Host", "a", "Connection", "keep-alive", "Keep-Alive", "timeout=5", "X-Kept", "1"},
            {"Connection", "close", "Content-Length", "3"},
            {"connection", "Upgrade, HTTP2-Settings", "Upgrade", "h2c", "HTTP2-Settings", "AAA", "X-Kept", "1"},
            {"Connection", "keep-alive, X-Secret", "X-Secret", "s", "x-secret", "t", "X-Kept", "1"},
            {"Connection", " x-one ,x-two\t", "X-One", "1", "X-Two", "2", "Connection", "CLOSE", "X-Three", "3"},
            {"Transfer-Encoding", "chunked", "TE", "trailers", "Proxy-Connection", "keep-alive", "Via", "1.1 a"},
            {"Connection", ",,keep-alive,", "Accept", "*/*"},
            {"Accept", "*/*"},
    };

    @Test
    void compactHeadersLoseExactlyWhatNettysLose() {
        for (String[] message : MESSAGES) {
            HttpHeaders netty = new DefaultHttpHeaders();
            CompactHttpHeaders compact = new CompactHttpHeaders();
            for (int i = 0; i < message.length; i += 2) {
                netty.add(message[i], message[i + 1].strip());
                compact.addTrusted(AsciiString.of(message[i]), AsciiString.of(message[i + 1]));
            }
            HopByHop.strip(netty);
            HopByHop.strip(compact);
            assertEquals(fields(netty), fields(compact), String.join(" ", message));
        }
    }

    @Test
    void aTokenNamedInConnectionTakesItsFieldsWithIt() {
        CompactHttpHeaders headers = new CompactHttpHeaders();
        headers.addTrusted(AsciiString.of("Connection"), AsciiString.of("keep-alive, X-Secret"));
        headers.addTrusted(AsciiString.of("X-Secret"), AsciiString.of("s"));
        headers.addTrusted(AsciiString.of("Host"), AsciiString.of("a"));
        HopByHop.strip(headers);
        assertEquals(List.of("Host: a"), fields(headers));
    }
}
