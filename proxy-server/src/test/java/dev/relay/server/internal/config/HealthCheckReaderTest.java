package dev.relay.server.internal.config;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static dev.relay.server.internal.config.SectionReaderTesting.problem;
import static dev.relay.server.internal.config.SectionReaderTesting.proxy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class HealthCheckReaderTest {

    @Test
    void eachKeyComesFromTheGroupThenTheDefaults() {
        ConfigNode proxy = proxy("""
                proxy.upstream-defaults.health-check { interval = 2s, consecutive-failure = 3 }
                proxy.upstreams.web.health-check { type = http, interval = 1s }
                """);
        HealthCheckConfig check = HealthCheckReader.healthCheck(proxy.get("upstreams").get("web").get("health-check"),
                proxy.get("upstream-defaults").get("health-check"), false, null, true, null);

        assertEquals(Duration.ofSeconds(1), check.interval());
        assertEquals(3, check.consecutiveFailure());
    }

    @Test
    void httpKeysAreRefusedOnATcpCheck() {
        ConfigNode proxy = proxy("proxy.upstreams.web.health-check {\n type = tcp\n path = \"/health\"\n}");
        assertEquals("relay.conf:3: key 'proxy.upstreams.web.health-check.path': only for type = http "
                        + "(expected: no path with type = tcp)",
                problem(() -> HealthCheckReader.healthCheck(proxy.get("upstreams").get("web").get("health-check"),
                        null, false, null, true, null)));
    }

    @Test
    void outlierDetectionOffIsNull() {
        ConfigNode proxy = proxy("proxy.upstreams.web.outlier-detection = off");
        assertNull(HealthCheckReader.outlierDetection(proxy.get("upstreams").get("web").get("outlier-detection"), null));
    }
}
