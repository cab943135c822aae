package dev.relay.server.internal.config;

import dev.relay.server.internal.config.ProxyConfig.ListenerConfig;
import dev.relay.server.internal.config.ProxyConfig.ServerSettings;
import dev.relay.transport.Http2Settings;
import dev.relay.transport.ListenerOptions;
import dev.relay.transport.ProxyOptions;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static dev.relay.server.internal.config.SectionReaderTesting.problem;
import static dev.relay.server.internal.config.SectionReaderTesting.proxy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** {@code proxy.server.http2} and a listener's {@code http2}. */
class Http2ConfigTest {

    private static ServerSettings server(String hocon) {
        return ServerSectionReader.read(proxy(hocon).get("server"), new RestartOnlySettings.Recorder());
    }

    private static List<ListenerConfig> listeners(String hocon) {
        return new ListenersReader(new RestartOnlySettings.Recorder()).listeners(proxy(hocon).get("listeners"));
    }

    @Test
    void theShippedDefaultsAreTheEngineDefaults() {
        assertEquals(Http2Settings.defaults(), server("proxy.server { }").http2());
    }

    @Test
    void everyKeyOfTheBlockIsRead() {
        Http2Settings h2 = server("proxy.server.http2 { enabled = false, max-concurrent-streams = 7, "
                + "initial-stream-window = 128KiB, connection-window = 2MiB, max-frame-size = 32KiB, "
                + "max-header-list-size = 16KiB, ping-interval = 5s, ping-timeout = 2s, max-resets-per-window = 50, "
                + "reset-window = 10s, max-queued-control-frames = 99, max-consecutive-empty-data-frames = 3, "
                + "max-small-continuation-frames = 4 }").http2();

        assertEquals(Http2Settings.builder().enabled(false).maxConcurrentStreams(7).initialStreamWindow(128 * 1024)
                .connectionWindow(2 * 1024 * 1024).maxFrameSize(32 * 1024).maxHeaderListSize(16 * 1024)
                .pingInterval(Duration.ofSeconds(5)).pingTimeout(Duration.ofSeconds(2)).maxResetsPerWindow(50)
                .resetWindow(Duration.ofSeconds(10)).maxQueuedControlFrames(99).maxConsecutiveEmptyDataFrames(3)
                .maxSmallContinuationFrames(4).build(), h2);
        ProxyOptions options = server("proxy.server.http2.max-concurrent-streams = 7").proxyOptions();
        assertEquals(7, options.http2().maxConcurrentStreams(), "the engine gets the block");
        assertNull(options.http2().maxHeaderListSize(), "none: the HTTP/1.1 limit");
    }

    @Test
    void badValuesNameTheFileLineAndKey() {
        assertEquals("relay.conf:2: key 'proxy.server.http2.max-concurrent-streams': 0 (expected: >= 1)",
                problem(() -> server("proxy.server.http2 {\n max-concurrent-streams = 0\n}")));
        assertEquals("relay.conf:1: key 'proxy.server.http2.max-frame-size': '1KiB' (expected: a size from 16384 to "
                        + "16777215 bytes)",
                problem(() -> server("proxy.server.http2.max-frame-size = 1KiB")));
        assertEquals("relay.conf:1: key 'proxy.server.http2.reset-window': '1500ms' (expected: whole seconds, such as 30s)",
                problem(() -> server("proxy.server.http2.reset-window = 1500ms")));
        assertEquals("relay.conf:1: key 'proxy.server.http2.ping-interval': 'soon' (expected: a duration such as 250ms, "
                        + "10s or 2m)",
                problem(() -> server("proxy.server.http2.ping-interval = soon")));
    }

    @Test
    void anUnknownKeyInTheBlockIsRefused() {
        String message = problem(() -> server("proxy.server.http2.max-streams = 5"));
        assertEquals("relay.conf:1: key 'proxy.server.http2.max-streams'", message.substring(0, message.indexOf("':") + 1));
    }

    @Test
    void aListenerMayTurnHttp2Off() {
        List<ListenerConfig> listeners = listeners("proxy.listeners = [ \"127.0.0.1:1\", "
                + "{ address = \"127.0.0.1:2\", http2 = false } ]");

        assertNull(listeners.get(0).http2());
        assertSame(ListenerOptions.inherit(), listeners.get(0).listenerOptions());
        assertFalse(listeners.get(1).http2());
        assertEquals(Boolean.FALSE, listeners.get(1).listenerOptions().http2());
        assertEquals("relay.conf:1: key 'proxy.listeners[0].http2': 'maybe' (expected: true or false)",
                problem(() -> listeners("proxy.listeners = [ { address = \"127.0.0.1:2\", http2 = maybe } ]")));
    }
}
