package dev.relay.server.internal.metrics;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** Recording a request's metrics allocates nothing (measured with the JVM's per-thread allocation counter). */
@Timeout(30)
class HotPathAllocationTest {

    @Test
    void recordingARequestAllocatesNothing() {
        RelayMetrics metrics = new RelayMetrics();
        RelayMetrics.RouteStats route = metrics.route("api", "web");
        RelayMetrics.GroupStats group = metrics.group("web");
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        Runnable record = () -> {
            for (int i = 0; i < 10_000; i++) {
                route.record(200 + (i % 4) * 100, 1_000_000L * (i % 50), i % 3, 100);
                group.record(1 + (i % 2), (i & 1) == 0, 250_000);
            }
        };
        for (int i = 0; i < 20; i++) {
            record.run(); // warm up: JIT, adder cells
        }
        long before = threads.getThreadAllocatedBytes(id);
        record.run();
        long allocated = threads.getThreadAllocatedBytes(id) - before;
        // No per-recording allocation (a few bytes of one-off JVM bookkeeping, such as a compilation,
        // may show up; one allocation per recording would be 160,000 bytes or more).
        org.junit.jupiter.api.Assertions.assertTrue(allocated < 1000, "bytes allocated by 10,000 recordings: " + allocated);
        assertNotNull(metrics.scrape());
    }

    @Test
    void claimingAndPublishingAnAccessLogLineAllocatesNothing() throws Exception {
        try (AccessLog log = new AccessLog(dev.relay.server.internal.config.ProxyConfig.AccessLogFormat.COMBINED,
                dev.relay.server.internal.config.ProxyConfig.AccessLogDestination.file(java.nio.file.Path.of("/dev/null")),
                1 << 10, null)) {
            // A request's client, target, Host and User-Agent: an IPv4 client kept as a number, the texts copied into
            // each slot's own bytes.
            dev.relay.core.HttpHeaders request = dev.relay.core.HttpHeaders.create()
                    .add("Host", "api.test").add("User-Agent", "curl/8.0");
            java.net.InetSocketAddress client = new java.net.InetSocketAddress("192.0.2.7", 40000);
            String target = "/api/items?page=2";
            com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long id = Thread.currentThread().getId();
            Runnable line = () -> {
                for (int i = 0; i < 1000; i++) {
                    AccessLog.Entry e = log.claim();
                    if (e != null) {
                        e.client(client);
                        e.method("GET");
                        e.uri(target);
                        e.protocol("HTTP/1.1");
                        e.status = 200;
                        e.copyRequestFields(request);
                        e.publish();
                    }
                }
            };
            for (int i = 0; i < 5; i++) {
                line.run();
                Thread.sleep(50);
            }
            long before = threads.getThreadAllocatedBytes(id);
            line.run();
            long allocated = threads.getThreadAllocatedBytes(id) - before;
            // No per-line allocation (a few bytes of one-off JVM bookkeeping may show up).
            org.junit.jupiter.api.Assertions.assertTrue(allocated < 1000, "bytes allocated by 1,000 lines: " + allocated);
        }
    }
}
