package dev.relay.transport;

import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** A listener's own client timeouts win over the service's. */
@Timeout(30)
class ListenerOptionsTest {

    @Test
    void aListenerWithItsOwnHeaderTimeoutAnswers408WhileTheServiceDefaultIsLong() throws Exception {
        try (TestOrigin origin = TestOrigin.builder().name("a").build().start()) {
            ProxyFixture.SimpleProxy proxy = new ProxyFixture.SimpleProxy(origin.address());
            try (ProxyFixture fixture = new ProxyFixture(proxy)) {
                InetSocketAddress strict = fixture.server.bind("127.0.0.1:0",
                        new ListenerOptions(Duration.ofMillis(200), null, null));
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
}
