package dev.relay.testing;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class LatencyProbeTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @RegisterExtension
    static final OriginExtension origin = OriginExtension.of(TestOrigin.builder().name("probed"));

    @Test
    void recordsTheTimesOfSuccessfulRequests() throws Exception {
        LatencyProbe.Result result = probe("/small", 20);

        assertTrue(result.requests() >= 20, result.toString());
        assertEquals(List.of(), result.errors());
        assertTrue(result.p99().compareTo(result.max()) <= 0 && result.p99().toNanos() > 0, result.toString());
    }

    @Test
    void countsAnythingButA200AsAnError() throws Exception {
        LatencyProbe.Result result = probe("/status/503", 3);

        assertTrue(result.errors().size() >= 3, result.toString());
        assertEquals("status 503", result.errors().get(0));
    }

    /** Runs a probe on {@code path} until it has finished {@code requests} requests. */
    private static LatencyProbe.Result probe(String path, int requests) throws InterruptedException {
        try (LatencyProbe probe = LatencyProbe.start(URI.create("http://127.0.0.1:" + origin.port() + path))) {
            probe.awaitRequests(requests, WAIT);
            return probe.stop();
        }
    }
}
