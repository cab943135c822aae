package dev.relay.server.internal.metrics;

import dev.relay.server.testing.InProcessRelay;
import dev.relay.testing.Await;
import dev.relay.testing.RawHttpConnection;
import dev.relay.testing.TestOrigin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Requests the proxy refuses for the client's fault are counted in {@code relay_client_errors_total{reason}}
 * on {@code /metrics}, each under its reason, and never reach the origin.
 */
@Timeout(60)
class ClientErrorMetricsTest {
    @TempDir
    Path dir;

    private TestOrigin origin;
    private InProcessRelay relay;

    @AfterEach
    void tearDown() {
        if (relay != null) {
            relay.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    private String metric(String reason) {
        String series = "relay_client_errors_total{reason=\"" + reason + "\"}";
        try {
            for (String line : relay.adminGet("/metrics").body().split("\n")) {
                if (line.startsWith(series + " ")) {
                    return line.substring(series.length() + 1);
                }
            }
        } catch (Exception e) {
            return "unreadable: " + e;
        }
        return null;
    }

    private int answer(String request) throws Exception {
        try (RawHttpConnection client = new RawHttpConnection(relay.proxy().getPort())) {
            client.send(request);
            return client.readResponse().status();
        }
    }

    @Test
    void malformedRequestsAndUnsupportedVersionsAreCountedByReason() throws Exception {
        origin = TestOrigin.builder().name("client-errors-origin").build().start();
        relay = new InProcessRelay(dir.resolve("relay.conf"), """
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  admin.address = "127.0.0.1:0"
                  server { upgrade-socket = none }
                  upstreams { app { backends = [ "%s" ] } }
                  routes = [ { upstream = app } ]
                }
                """.formatted(origin.address()));
        assertEquals("0.0", metric("malformed"), "every reason is shown from the start");

        assertEquals(400, answer("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\nabc"));
        assertEquals(400, answer("GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n"));
        assertEquals(505, answer("GET / HTTP/2.0\r\nHost: x\r\n\r\n"));

        Await.until(() -> "2.0".equals(metric("malformed")) && "1.0".equals(metric("unsupported_version")),
                Duration.ofSeconds(10), () -> "malformed " + metric("malformed") + ", unsupported_version "
                        + metric("unsupported_version"));
        assertEquals("0.0", metric("closed"));
        assertEquals(0, origin.requests().size(), "nothing refused was forwarded");
    }
}
