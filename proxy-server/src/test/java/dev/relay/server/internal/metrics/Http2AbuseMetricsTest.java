package dev.relay.server.internal.metrics;

import dev.relay.server.testing.InProcessRelay;
import dev.relay.testing.Await;
import dev.relay.testing.RawHttp2Connection;
import dev.relay.testing.TestOrigin;
import io.netty.handler.codec.http2.Http2Error;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The configured flood limits end to end: {@code proxy.server.http2.max-control-frames-per-second} from
 * the file, a PING flood over h2c answered with GOAWAY ENHANCE_YOUR_CALM, and the connection counted in
 * {@code relay_http2_abuse_total{reason}} on {@code /metrics}.
 */
@Timeout(60)
class Http2AbuseMetricsTest {
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

    private String metric(String series) throws Exception {
        for (String line : relay.adminGet("/metrics").body().split("\n")) {
            if (line.startsWith(series + " ")) {
                return line.substring(series.length() + 1);
            }
        }
        return null;
    }

    private String metricOrNull(String series) {
        try {
            return metric(series);
        } catch (Exception e) {
            return null;
        }
    }

    @Test
    void aPingFloodOverTheConfiguredLimitIsRefusedAndCountedByReason() throws Exception {
        origin = TestOrigin.builder().name("abuse-origin").build().start();
        relay = new InProcessRelay(dir.resolve("relay.conf"), """
                proxy {
                  listeners = [ "127.0.0.1:0" ]
                  admin.address = "127.0.0.1:0"
                  server { upgrade-socket = none, http2 { max-control-frames-per-second = 50 } }
                  upstreams { app { backends = [ "%s" ] } }
                  routes = [ { upstream = app } ]
                }
                """.formatted(origin.address()));
        assertEquals("0.0", metric("relay_http2_abuse_total{reason=\"ping_flood\"}"), "every reason is shown from the start");

        try (RawHttp2Connection h2 = RawHttp2Connection.open(relay.proxy().getPort())) {
            // 60 PINGs: over the configured 50, far under the default 1000.
            h2.sendUntilClosed(60, (c, i) -> c.ping(i));

            RawHttp2Connection.GoAway goAway = h2.awaitGoAway(Duration.ofSeconds(10));
            assertEquals(Http2Error.ENHANCE_YOUR_CALM, goAway.error());
            assertEquals("ping_flood", goAway.debugData());
            assertTrue(h2.awaitClosed(Duration.ofSeconds(10)));
        }

        Await.until(() -> "1.0".equals(metricOrNull("relay_http2_abuse_total{reason=\"ping_flood\"}")),
                Duration.ofSeconds(10), () -> "relay_http2_abuse_total{reason=\"ping_flood\"} 1.0 in /metrics");
        assertEquals("0.0", metric("relay_http2_abuse_total{reason=\"stream_churn\"}"));
    }
}
